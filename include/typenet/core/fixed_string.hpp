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
    constexpr fixed_string() noexcept = default;  // N - 1 NULs: filled in by join_path and friends
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

// "a.b" from "a" and "b"; just "b" when "a" is empty, just "a" when "b" is: how name paths
// grow, as in PyTorch's module tree ("layer1" + "0" + "conv1" is "layer1.0.conv1"; a block
// named "" adds no level, its children are its parent's).
template <fixed_string A, fixed_string B>
consteval auto join_path() {
    if constexpr (A.length == 0) {
        return B;
    } else if constexpr (B.length == 0) {
        return A;
    } else {
        fixed_string<A.length + B.length + 2> r;
        for (std::size_t i = 0; i < A.length; ++i) r.chars[i] = A.chars[i];
        r.chars[A.length] = '.';
        for (std::size_t i = 0; i < B.length; ++i) r.chars[A.length + 1 + i] = B.chars[i];
        return r;
    }
}

// The decimal digits of I as a fixed_string: a position used as a name ("0", "12").
template <std::size_t I>
consteval auto index_string() {
    constexpr std::size_t digits = [] {
        std::size_t d = 1;
        for (std::size_t v = I; v >= 10; v /= 10) ++d;
        return d;
    }();
    fixed_string<digits + 1> r;
    std::size_t v = I;
    for (std::size_t i = digits; i-- > 0; v /= 10) r.chars[i] = char('0' + v % 10);
    return r;
}

}  // namespace typenet
