// type_name<T>(): the name of a type as the compiler spells it, at compile time. Summaries
// use it so that a named block (struct Head : Sequential<...> {}) shows as "Head".
#pragma once
#include <string_view>

namespace typenet {

namespace core {
template <class T>
constexpr std::string_view raw_type_name() noexcept {
#if defined(__clang__) || defined(__GNUC__)
    return __PRETTY_FUNCTION__;
#else
    return __FUNCSIG__;
#endif
}
}  // namespace core

template <class T>
constexpr std::string_view type_name() noexcept {
    // Locate T's spelling inside the pretty function name by probing with a known type.
    constexpr std::string_view probe = core::raw_type_name<double>();
    constexpr std::size_t prefix = probe.find("double");
    constexpr std::size_t suffix = probe.size() - prefix - std::string_view("double").size();
    std::string_view raw = core::raw_type_name<T>();
    raw = raw.substr(prefix, raw.size() - prefix - suffix);
    // Drop our own namespace, and the instruction set's (core/isa.hpp): users write tn::Dense,
    // the summary shows Dense.
    if (raw.starts_with("typenet::")) raw.remove_prefix(9);
    if (raw.starts_with("isa_")) raw.remove_prefix(raw.find("::") + 2);
    return raw;
}

}  // namespace typenet
