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
#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>

#include "../fixed_string.hpp"

namespace typenet::ir {

template <class... T> struct list {};
template <std::size_t... V> struct values {};

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
template <class Nodes, class Blocks, std::size_t Cur>
struct State;
template <class... N, class... B, std::size_t Cur>
struct State<list<N...>, list<B...>, Cur> {
    using nodes = list<N...>;
    using blocks = list<B...>;
    static constexpr std::size_t size = sizeof...(N);
    static constexpr std::size_t cur = Cur;
    template <std::size_t K> using node = std::tuple_element_t<K, std::tuple<N...>>;
    using cur_shape = typename node<Cur>::shape;
    // Appends a node; it becomes the current one.
    template <class Nd> using push = State<list<N..., Nd>, list<B...>, sizeof...(N)>;
    template <std::size_t C> using at = State<list<N...>, list<B...>, C>;
    template <class Bk> using with_block = State<list<N...>, list<B..., Bk>, Cur>;
};

// Lowering after an error: reported once already; every later step passes it through.
struct Failed {};

// A lowered model: its nodes, blocks, how many inputs (the first nodes, in slot order) and
// which nodes are its outputs.
template <class Nodes, class Blocks, std::size_t NInputs, class Outputs>
struct Module;
template <class... N, class... B, std::size_t NInputs, std::size_t... O>
struct Module<list<N...>, list<B...>, NInputs, values<O...>> {
    using nodes = std::tuple<N...>;
    using blocks = std::tuple<B...>;
    static constexpr std::size_t size = sizeof...(N);
    static constexpr std::size_t n_inputs = NInputs;
    static constexpr std::size_t n_outputs = sizeof...(O);
    static constexpr std::array<std::size_t, sizeof...(O)> outputs{O...};
    template <std::size_t K> using node = std::tuple_element_t<K, nodes>;
};

}  // namespace typenet::ir
