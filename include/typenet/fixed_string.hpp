// fixed_string<N>: a string literal usable as a template argument, so that names of layers,
// inputs and outputs are part of a model's type: tn::input<"image", 784>.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace typenet {

template <std::size_t N>
struct fixed_string {
    char chars[N]{};
    constexpr fixed_string(const char (&s)[N]) noexcept {
        for (std::size_t i = 0; i < N; ++i) chars[i] = s[i];
    }
    static constexpr std::size_t length = N - 1;
    constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
    std::string str() const { return std::string(view()); }
    template <std::size_t M>
    constexpr bool operator==(const fixed_string<M>& other) const noexcept {
        return view() == other.view();
    }
};

}  // namespace typenet
