// Shape<Dims...>: a tensor shape as a type. Sizes, equality and printing are constexpr,
// so every layer's shape rule is ordinary constexpr code over these types.
#pragma once
#include <array>
#include <cstddef>
#include <string>

namespace typenet {

template <std::size_t... Dims>
struct Shape {
    static constexpr std::size_t rank = sizeof...(Dims);
    static constexpr std::size_t size = (std::size_t{1} * ... * Dims);
    static constexpr std::array<std::size_t, rank> dims{Dims...};

    template <std::size_t... Other>
    friend constexpr bool operator==(Shape, Shape<Other...>) noexcept {
        return dims_equal<Other...>();
    }

    // "[28, 28, 1]": how shapes appear in summaries and messages.
    static std::string str() {
        std::string s = "[";
        for (std::size_t i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
        return s + "]";
    }

  private:
    template <std::size_t... Other>
    static constexpr bool dims_equal() noexcept {
        if constexpr (sizeof...(Other) != rank) return false;
        else return ((Dims == Other) && ... && true);
    }
};

template <std::size_t... Dims>
inline constexpr Shape<Dims...> shape{};

namespace detail {
template <class T> struct is_shape : std::false_type {};
template <std::size_t... D> struct is_shape<Shape<D...>> : std::true_type {};
}  // namespace detail

template <class T>
concept ShapeType = detail::is_shape<T>::value;

// Shape<N> with the same number of elements as S: what Flatten produces.
template <ShapeType S>
using flat_shape = Shape<S::size>;

// Shape from a constexpr std::array of dims (used by layers that compute shapes).
namespace detail {
template <auto Dims, class Seq> struct shape_from_array;
template <auto Dims, std::size_t... I>
struct shape_from_array<Dims, std::index_sequence<I...>> { using type = Shape<Dims[I]...>; };
}  // namespace detail
template <auto Dims>
using shape_from_array = typename detail::shape_from_array<Dims, std::make_index_sequence<Dims.size()>>::type;

}  // namespace typenet
