// The facts every pass reads: one record per IR node, gathered by one fold over the nodes
// (the only place the passes look at layer types). The passes themselves are constexpr
// functions over these arrays, so a pass costs constant evaluation, not instantiations.
#pragma once
#include "../core/isa.hpp"
#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../kernels/activations.hpp"
#include "../ir/bound.hpp"
#include "../ir/ir.hpp"
#include "../core/layer.hpp"
#include "../layers/activation.hpp"
#include "../layers/batch_norm.hpp"
#include "../layers/channel_shuffle.hpp"
#include "../layers/dropout.hpp"
#include "../layers/flatten.hpp"
#include "../layers/merge.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

// A layer whose flag promises a capability its members do not deliver: the words of the error.
template <class Layer>
struct protocol_of {
    static constexpr bool absorbs_batchnorm_but_lacks_out_channels_or_pack_with_bias = false;
    static constexpr bool absorbs_activation_but_lacks_forward_with = false;
    static constexpr bool absorbs_add_but_lacks_forward_add = false;
    static constexpr bool writes_strided_but_lacks_forward_strided = false;
    static constexpr bool crops_output_but_lacks_forward_cropped = false;
};

namespace passes {

enum class Kind { input, layer, merge };
inline constexpr std::size_t none = std::size_t(-1);

template <std::size_t K, std::size_t A>
struct Facts {
    static constexpr std::size_t size = K;
    std::array<Kind, K> kind{};
    std::array<std::string_view, K> path{};
    std::array<std::size_t, K> floats{};    // of its output, per sample
    std::array<std::size_t, K> last_dim{};  // its output's last axis
    std::array<std::size_t, K + 1> arg_begin{};
    std::array<std::size_t, A> args{};
    std::array<std::size_t, K> input_slot{}, output_slot{};  // none if not an input / output
    std::array<LayerAliasing, K> aliasing{};
    std::array<std::size_t, K> canonical{}, packed{}, flops{}, scratch_per_row{}, scratch_fixed{};
    std::array<std::size_t, K> scratch_most{};  // the scratch at any rows is at most this (layer.hpp: scratch_most_for)
    std::array<std::size_t, K> state_per_row{};  // streamed state (layer.hpp: state_size_for)
    std::array<bool, K> streams{};               // runs a time step at a time (streams_for)
    // Capabilities (layer.hpp) and what a node is, for the passes.
    std::array<bool, K> folds_batchnorm{}, fuses_activation{}, adds{}, writes_strided{}, separate_activation{}, crops_output{};
    std::array<std::array<std::size_t, 2>, K> input_used{};  // rows and columns of its input map it reads ({0, 0}: all)
    std::array<bool, K> computes_rows{};        // ComputesRows (a 1x1 convolution)
    std::array<RowWindow, K> row_window{};      // ReadsRowWindow (a depthwise convolution); kh 0: not
    std::array<bool, K> scratch_optional{};  // the kernel computes without its scratch too (int8 1x1: rows on the stack)
    std::array<bool, K> scales_channels{}, takes_input_gate{}, gates_inputs{};  // ScalesChannels (squeeze-and-excitation), TakesInputGate, GatesInputs
    std::array<bool, K> is_batchnorm{}, is_activation{}, is_add{}, is_channel_concat{};
    std::array<bool, K> is_flatten{}, is_identity{}, spatial{}, reads_flat{};
    std::array<std::array<std::size_t, 3>, K> in_hwc{};  // a rank-3 input's dims (Flatten)

    constexpr std::size_t arity(std::size_t k) const noexcept { return arg_begin[k + 1] - arg_begin[k]; }
    constexpr std::size_t arg(std::size_t k, std::size_t j = 0) const noexcept { return args[arg_begin[k] + j]; }
};

namespace detail {

template <class T> struct is_input_op : std::false_type {};
template <std::size_t S> struct is_input_op<ir::InputOp<S>> : std::true_type {};
template <class T> struct is_concat : std::false_type {};
template <int A> struct is_concat<Concat<A>> : std::true_type {};

// The capability flags' promises, checked once per layer at the node that uses it.
template <class L, class In>
consteval void check_protocol() {
    if constexpr (requires { L::absorbs_batchnorm; }) {
        if constexpr (L::absorbs_batchnorm)
            static_assert(protocol_of<L>::absorbs_batchnorm_but_lacks_out_channels_or_pack_with_bias || FoldsBatchNorm<L, In>,
                          "typenet: the layer in this condition sets absorbs_batchnorm without out_channels<In> and "
                          "pack_with_bias<In>(weight, bias, packed) (docs/layers.md, Writing a layer)");
    }
    if constexpr (requires { L::absorbs_activation; }) {
        if constexpr (L::absorbs_activation)
            static_assert(protocol_of<L>::absorbs_activation_but_lacks_forward_with || FusesActivation<L, In, linear>,
                          "typenet: the layer in this condition sets absorbs_activation without forward_with<In, Act> (docs/layers.md)");
    }
    if constexpr (requires { L::absorbs_add; }) {
        if constexpr (L::absorbs_add)
            static_assert(protocol_of<L>::absorbs_add_but_lacks_forward_add || AddsInEpilogue<L, In, linear>,
                          "typenet: the layer in this condition sets absorbs_add without forward_add<In, Act> (docs/layers.md)");
    }
    if constexpr (requires { L::writes_strided; }) {
        if constexpr (L::writes_strided)
            static_assert(protocol_of<L>::writes_strided_but_lacks_forward_strided || WritesStrided<L, In, linear>,
                          "typenet: the layer in this condition sets writes_strided without forward_strided<In, Act> (docs/layers.md)");
    }
    if constexpr (requires { L::crops_output; }) {
        if constexpr (L::crops_output)
            static_assert(protocol_of<L>::crops_output_but_lacks_forward_cropped || CropsOutput<L, In, linear>,
                          "typenet: the layer in this condition sets crops_output without forward_cropped<In, Act> (docs/layers.md)");
    }
}

template <class M, class N, class = std::make_index_sequence<N::arity>>
struct arg_shapes;
template <class M, class N, std::size_t... j>
struct arg_shapes<M, N, std::index_sequence<j...>> {
    using type = meta::list<typename M::template node<N::args[j]>::shape...>;
};
// Node N's record; ArgShapes: the shapes of its arguments, a list<...> (the node, not the
// whole module, in its name: g++ mangles every instantiated function).
template <class N, class ArgShapes, class F>
constexpr void gather(F& f, std::size_t k, std::size_t& a) {
    using Op = typename N::op;
    using Out = typename N::shape;
    f.path[k] = N::path.view();
    f.floats[k] = Out::size;
    f.last_dim[k] = Out::dims[Out::rank - 1];
    f.arg_begin[k] = a;
    for (std::size_t j = 0; j < N::arity; ++j) f.args[a++] = N::args[j];
    f.input_slot[k] = none;
    f.output_slot[k] = none;
    if constexpr (is_input_op<Op>::value) {
        f.kind[k] = Kind::input;
        f.input_slot[k] = Op::slot;
        f.streams[k] = true;
    } else if constexpr (typenet::detail::MergeOp<Op>) {
        f.kind[k] = Kind::merge;
        // (a residual add, fusable into the kernel of one input: both inputs of the output's size)
        f.is_add[k] = std::is_same_v<Op, Add> && N::arity == 2 &&
                      []<class... S>(meta::list<S...>) { return ((S::size == Out::size) && ...); }(ArgShapes{});
        if constexpr (is_concat<Op>::value) f.is_channel_concat[k] = Op::template sample_axis<Out> == int(Out::rank) - 1;
        f.streams[k] = !is_concat<Op>::value || f.is_channel_concat[k];  // elementwise, or along the features
        f.flops[k] = []<class... S>(meta::list<S...>) {
            if constexpr (requires { Op::template flops_for<S...>; }) return std::size_t{Op::template flops_for<S...>};
            else return std::size_t{0};
        }(ArgShapes{});
    } else {
        using In = typename N::in_shape;
        using B = typenet::detail::Bound<Op, In>;
        check_protocol<Op, In>();
        f.kind[k] = Kind::layer;
        f.aliasing[k] = B::aliasing;
        f.canonical[k] = B::canonical_floats;
        f.packed[k] = B::packed_floats;
        f.flops[k] = B::flops;
        f.scratch_per_row[k] = B::scratch_per_row;
        f.scratch_fixed[k] = B::scratch_fixed;
        if constexpr (requires { Op::template scratch_optional<In>; }) f.scratch_optional[k] = Op::template scratch_optional<In>;
        f.scratch_most[k] = B::scratch_most;
        f.state_per_row[k] = B::state_per_row;
        f.streams[k] = B::streams;
        f.folds_batchnorm[k] = FoldsBatchNorm<Op, In>;
        f.fuses_activation[k] = FusesActivation<Op, In, linear>;
        f.adds[k] = AddsInEpilogue<Op, In, linear>;
        f.writes_strided[k] = WritesStrided<Op, In, linear>;
        f.crops_output[k] = CropsOutput<Op, In, linear>;
        if constexpr (ReadsInputCrop<Op, In>) f.input_used[k] = Op::template input_used<In>;
        f.computes_rows[k] = ComputesRows<Op, In, linear>;
        if constexpr (ReadsRowWindow<Op, In, linear>) f.row_window[k] = Op::template reads_rows<In>;
        f.scales_channels[k] = ScalesChannels<Op, In>;
        f.takes_input_gate[k] = TakesInputGate<Op, In>;
        f.gates_inputs[k] = GatesInputs<Op, In>;
        if constexpr (requires { Op::separate_activation; }) f.separate_activation[k] = Op::separate_activation;
        f.is_batchnorm[k] = typenet::detail::is_batch_norm<Op>::value;
        f.is_activation[k] = typenet::detail::is_activation_layer<Op>::value;
        f.is_flatten[k] = std::is_same_v<Op, Flatten>;
        f.is_identity[k] = typenet::detail::is_dropout<Op>::value || std::is_base_of_v<Identity, Op>;
        f.spatial[k] = SpatialLayer<Op>;
        if constexpr (B::params.size() > 0) f.reads_flat[k] = B::params[0].keras_layout == KerasLayout::transpose;
        if constexpr (In::rank == 3) f.in_hwc[k] = {In::dims[0], In::dims[1], In::dims[2]};
    }
}

}  // namespace detail

// The facts of a lowered module.
template <class M>
consteval auto gather_facts() {
    return []<class... N>(meta::list<N...>) {
        constexpr std::size_t K = sizeof...(N);
        Facts<K, (std::size_t{1} + ... + N::arity)> f;
        std::size_t k = 0, a = 0;
        (detail::gather<N, typename detail::arg_shapes<M, N>::type>(f, k++, a), ...);
        f.arg_begin[K] = a;
        for (std::size_t o = M::n_outputs; o-- > 0;) f.output_slot[M::outputs[o]] = o;  // the first slot it fills
        return f;
    }(typename M::nodes{});
}

}  // namespace passes
}  // namespace typenet
