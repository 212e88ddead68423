// The model IR: what every spelling of a model lowers to (ir/lower.hpp), and the one thing
// the passes (passes/) and the engine (runtime/program.hpp) read.
//
// A model is a list of nodes in a fixed topological order (every node after the nodes it
// reads). A node is a type:
//
//   Node<Op, In, Out, Path, Named, Args...>
//     Op     what it computes: a leaf layer (Dense<64>, BatchNorm<>, ...), a merge (Add,
//            Concat<>), or InputOp<slot> for a model input. Blocks (Sequential, Residual,
//            Branch, a model used as a layer) never appear: lowering sees through them.
//     In     the shape of its first argument (void for an input), Out its own shape
//     Path   its name path, as PyTorch's module tree names it ("layer1.0.conv1"); nodes
//            with one path are one layer with one set of weights (a shared layer)
//     Named  whether the last segment of the path is the layer's own name (tn::Named),
//            not its position: Keras files use such names as they are
//     Args   the indices of the nodes it reads
//
// Blocks are kept beside the nodes as records (Block<B, Path, First, End>: the nodes
// [First, End) are block B's), for summaries only.
#pragma once
#include "../core/isa.hpp"
#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../core/fixed_string.hpp"
#include "../core/type_list.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::ir {

using meta::index_of;
using meta::index_table;
using meta::list;
using meta::pick_t;
using meta::values;

template <std::size_t Slot> struct InputOp {
    static constexpr std::size_t slot = Slot;
};

template <class Op, class In, class Out, fixed_string Path, bool Named, std::size_t... Args>
struct Node {
    using op = Op;
    using in_shape = In;
    using shape = Out;
    static constexpr auto path = Path;
    static constexpr bool named = Named;
    static constexpr std::size_t arity = sizeof...(Args);
    static constexpr std::array<std::size_t, sizeof...(Args)> args{Args...};
};

template <class B, fixed_string Path, std::size_t First, std::size_t End>
struct Block {
    using block = B;
    static constexpr auto path = Path;
    static constexpr std::size_t first = First, end = End;
};

// Lowering in progress: the nodes so far, the block records so far, and the node whose
// value is "the current one" (what the next layer of a chain reads).
template <class Nodes, class Blocks, std::size_t Cur, class CurShape>
struct State;
template <class... N, class... B, std::size_t Cur, class CurShape>
struct State<list<N...>, list<B...>, Cur, CurShape> {
    using nodes = list<N...>;
    using blocks = list<B...>;
    // (Enumerators, not static data members: g++ gives each used member of each State a
    // symbol, mangled with every node so far.)
    enum : std::size_t { size = sizeof...(N), cur = Cur };
    using cur_shape = CurShape;
    template <std::size_t K> using node = pick_t<K, index_table<std::index_sequence_for<N...>, N...>>;
    // Appends a node; it becomes the current one.
    template <class Nd> using push = State<list<N..., Nd>, list<B...>, sizeof...(N), typename Nd::shape>;
    // The state with node C current (its shape looked up only when C is not the current one).
    template <std::size_t C, bool Same = C == Cur> struct shape_of_node {
        using type = CurShape;
    };
    template <std::size_t C> struct shape_of_node<C, false> {
        using type = typename node<C>::shape;
    };
    template <std::size_t C> using at = State<list<N...>, list<B...>, C, typename shape_of_node<C>::type>;
    template <class Bk> using with_block = State<list<N...>, list<B..., Bk>, Cur, CurShape>;
};

// Lowering after an error: reported once already; every later step passes it through.
struct Failed {};

// A lowered model: its nodes, blocks, how many inputs (the first nodes, in slot order) and
// which nodes are its outputs.
template <class Nodes, class Blocks, std::size_t NInputs, class Outputs>
struct Module;
template <class... N, class... B, std::size_t NInputs, std::size_t... O>
struct Module<list<N...>, list<B...>, NInputs, values<O...>> {
    // Empty lists, made as values to deduce the packs: a std::tuple of EfficientNet-B0's 176
    // nodes made so cost clang ~5 s of the constructors' constraints (std::__and_, _Tuple_impl).
    using nodes = list<N...>;
    using blocks = list<B...>;
    static constexpr std::size_t size = sizeof...(N);
    static constexpr std::size_t n_inputs = NInputs;
    static constexpr std::size_t n_outputs = sizeof...(O);
    static constexpr std::array<std::size_t, sizeof...(O)> outputs{O...};
    using table = index_table<std::index_sequence_for<N...>, N...>;
    template <std::size_t K> using node = pick_t<K, table>;
};

}  // namespace typenet::ir
