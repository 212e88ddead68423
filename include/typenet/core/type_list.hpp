// Type lists and the two lookups the passes make in them, both by the compiler's overload
// resolution and base-class lookup rather than by recursion: the K-th type of a pack, the
// index of a type, and whether a set holds a type. Each costs one table per pack and no
// instantiation per lookup (std::tuple_element and an is_same fold cost one per element, which
// made a 200-node graph quadratic in instantiations).
#pragma once
#include <cstddef>
#include <type_traits>
#include <utility>

namespace typenet::meta {

template <class... T> struct list {};
template <std::size_t... V> struct values {};

// The K-th type of a pack: index_table<index_sequence_for<T...>, T...> derives from
// indexed<K, T_K> for every K, and pick<K> deduces T_K from the one base that matches.
template <std::size_t I, class T> struct indexed {
    using type = T;
};
template <class Seq, class... T> struct index_table;
template <std::size_t... I, class... T>
struct index_table<std::index_sequence<I...>, T...> : indexed<I, T>... {};
template <std::size_t K, class T> indexed<K, T> pick(const indexed<K, T>*);
template <std::size_t K, class Table> using pick_t = typename decltype(pick<K>(static_cast<const Table*>(nullptr)))::type;
// And the other way: the index of type T in a table of distinct types.
template <class T, std::size_t K> std::integral_constant<std::size_t, K> find(const indexed<K, T>*);
template <class T, class Table> inline constexpr std::size_t index_of = decltype(find<T>(static_cast<const Table*>(nullptr)))::value;

// A set of distinct types; membership is one base-class test.
template <class T> struct tag {};
template <class... T> struct type_set : tag<T>... {};
template <class T, class Set> inline constexpr bool contains = __is_base_of(tag<T>, Set);

}  // namespace typenet::meta
