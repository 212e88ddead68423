// Shape<Dims...>: a tensor shape as a type. Sizes, equality and printing are constexpr,
// so every layer's shape rule is ordinary constexpr code over these types.
#pragma once
#include <array>
#include <cstddef>
#include <string>

namespace typenet {

namespace core {
// Compile-time sizes (element counts, parameter counts, offsets, FLOPs) are computed with
// these. On overflow they call a function that is not constexpr: in a constant expression
// that is the compile error, and the function's name is its message.
inline void a_compile_time_size_overflows_std_size_t() noexcept {}
constexpr std::size_t checked_mul(std::size_t a, std::size_t b) noexcept {
    std::size_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) a_compile_time_size_overflows_std_size_t();
    return r;
}
constexpr std::size_t checked_add(std::size_t a, std::size_t b) noexcept {
    std::size_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) a_compile_time_size_overflows_std_size_t();
    return r;
}
// "[28, 28, 1]", for every shape in one function.
[[gnu::noinline]] inline std::string dims_text(const std::size_t* dims, std::size_t rank) {
    std::string s = "[";
    for (std::size_t i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
}
template <std::size_t... D>
constexpr std::size_t checked_product() noexcept {
    std::size_t n = 1;
    ((n = checked_mul(n, D)), ...);
    return n;
}
}  // namespace core

template <std::size_t... Dims>
struct Shape {
    static constexpr std::size_t rank = sizeof...(Dims);
    static constexpr std::size_t size = core::checked_product<Dims...>();
    static constexpr std::array<std::size_t, rank> dims{Dims...};

    template <std::size_t... Other>
    friend constexpr bool operator==(Shape, Shape<Other...>) noexcept {
        return dims_equal<Other...>();
    }

    // "[28, 28, 1]": how shapes appear in summaries and messages.
    static std::string str() { return core::dims_text(dims.data(), rank); }

  private:
    template <std::size_t... Other>
    static constexpr bool dims_equal() noexcept {
        if constexpr (sizeof...(Other) != rank) return false;
        else return ((Dims == Other) && ... && true);
    }
};

template <std::size_t... Dims>
inline constexpr Shape<Dims...> shape{};

namespace core {
template <class T> struct is_shape : std::false_type {};
template <std::size_t... D> struct is_shape<Shape<D...>> : std::true_type {};
}  // namespace core

template <class T>
concept ShapeType = core::is_shape<T>::value;

// Shape<N> with the same number of elements as S: what Flatten produces.
template <ShapeType S>
using flat_shape = Shape<S::size>;

// Shape from a constexpr std::array of dims (used by layers that compute shapes).
namespace core {
template <auto Dims, class Seq> struct shape_from_array;
template <auto Dims, std::size_t... I>
struct shape_from_array<Dims, std::index_sequence<I...>> { using type = Shape<Dims[I]...>; };
}  // namespace core
template <auto Dims>
using shape_from_array = typename core::shape_from_array<Dims, std::make_index_sequence<Dims.size()>>::type;

}  // namespace typenet
