// Fusion policies (report/fusion_plan.hpp prints what they did).
//
// The passes, each a constexpr function over the model IR in a header of its own
// (passes/fold_batchnorm.hpp, fuse_residual_add.hpp, fuse_activation.hpp, concat_in_place.hpp;
// run in that order by runtime/program.hpp), so every spelling of a model gets all of them:
//   fold_batchnorm      a BatchNorm after a linear Conv2D/Dense is folded into its weights
//   fuse_residual_add   an Add whose operand a Dense/Conv2D kernel computes for it alone runs
//                       in that kernel's epilogue
//   fuse_activation     an activation after such a kernel (or after its folded BatchNorm or
//                       its Add) runs in the kernel's epilogue
//   concat_in_place     kernels that only a last-axis Concat reads write their slices of it
//   crop_to_readers     a convolution that only a floor pooling reads computes the rows and
//                       columns it reads, no more (passes/crop_to_readers.hpp)
// Bias is always added in the kernel's epilogue.
//
// A policy switches passes off by rewriting the model's type: every layer that could absorb
// something is wrapped in Unfused<L, P>, which says it cannot. The weights, their names and
// the numbers are the same (up to rounding: a folded BatchNorm rounds differently).
//
//   auto net = tn::make<Model, tn::no_fusion>();     // Net<tn::unfused<Model>>
//   std::cout << tn::fusion_plan<Model>();           // which layers became which kernel
//
// A precision policy rewrites the same way: tn::make<Model, tn::bf16_weights>() gives every
// Dense of the model the bf16_weights option (layers/dense.hpp), at any depth of nesting.
#pragma once
#include "../core/isa.hpp"
#include <string>
#include <type_traits>
#include <vector>

#include "../kernels/epilogue.hpp"
#include "../core/layer.hpp"
#include "../layers/activation.hpp"
#include "../layers/branch.hpp"
#include "../layers/conv1d.hpp"
#include "../layers/conv2d.hpp"
#include "../layers/dense.hpp"
#include "../layers/recurrent.hpp"
#include "graph.hpp"
#include "net.hpp"
#include "sequential.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <bool FoldBatchNorm, bool FuseActivation, bool FuseResidualAdd, bool ConcatInPlace = true, bool CropToReaders = true,
          bool BandRows = true, bool GateIntoWeights = true>
struct fusion_policy {
    static constexpr bool fold_batchnorm = FoldBatchNorm;
    static constexpr bool fuse_activation = FuseActivation;
    static constexpr bool fuse_residual_add = FuseResidualAdd;
    static constexpr bool concat_in_place = ConcatInPlace;
    static constexpr bool crop_to_readers = CropToReaders;
    static constexpr bool band_rows = BandRows;
    static constexpr bool gate_into_weights = GateIntoWeights;
};
using fuse_all = fusion_policy<true, true, true, true, true, true, true>;
using no_fusion = fusion_policy<false, false, false, false, false, false, false>;

namespace detail {
template <class L>
consteval bool can_absorb_anything() {
    return requires { L::absorbs_batchnorm; } || requires { L::absorbs_activation; } || requires { L::absorbs_add; } ||
           requires { L::writes_strided; } || requires { L::crops_output; };
}
}  // namespace detail

// A layer with the passes P switches off disabled; otherwise L itself.
template <class L, class P>
struct Unfused : L {
    static constexpr bool absorbs_batchnorm = [] {
        if constexpr (requires { L::absorbs_batchnorm; }) return P::fold_batchnorm && L::absorbs_batchnorm;
        else return false;
    }();
    static constexpr bool absorbs_activation = [] {
        if constexpr (requires { L::absorbs_activation; }) return P::fuse_activation && L::absorbs_activation;
        else return false;
    }();
    static constexpr bool absorbs_add = [] {
        if constexpr (requires { L::absorbs_add; }) return P::fuse_residual_add && L::absorbs_add;
        else return false;
    }();
    static std::string name() { return layer_name<L>(); }

    // A layer's own activation (Dense<128, relu>) runs as a pass of its own when activation
    // fusion is off: the kernel stores, then the activation reads and writes it again.
    static constexpr bool separate_activation = [] {
        if constexpr (requires { typename L::activation; }) return !P::fuse_activation && !std::is_same_v<typename L::activation, linear>;
        else return false;
    }();
    // Writing a Concat's slice runs the layer's own activation in the kernel: not when that
    // activation is to be a pass of its own.
    static constexpr bool writes_strided = [] {
        if constexpr (requires { L::writes_strided; }) return P::concat_in_place && L::writes_strided && !separate_activation;
        else return false;
    }();
    // Computing only what a pooling reads, likewise.
    static constexpr bool crops_output = [] {
        if constexpr (requires { L::crops_output; }) return P::crop_to_readers && L::crops_output && !separate_activation;
        else return false;
    }();
    // Running band by band in the depthwise layer that reads it (passes/bands.hpp).
    template <class In>
    static constexpr bool computes_rows = [] {
        if constexpr (requires { L::template computes_rows<In>; }) return P::band_rows && L::template computes_rows<In> && !separate_activation;
        else return false;
    }();
    // Taking a squeeze-and-excitation's gate into its weights (passes/gates.hpp).
    template <class In>
    static constexpr bool takes_input_gate = [] {
        if constexpr (requires { L::template takes_input_gate<In>; }) return P::gate_into_weights && L::template takes_input_gate<In> && !separate_activation;
        else return false;
    }();
    template <class In>
    static void forward(const float* params, const float* in, float* out, std::size_t rows, float* scratch) {
        if constexpr (separate_activation) {
            if constexpr (requires { L::template forward_with<In, linear>(params, in, out, rows, scratch); })
                L::template forward_with<In, linear>(params, in, out, rows, scratch);
            else
                L::template forward_with<In, linear>(params, in, out, rows);
            using Out = typename L::template output_shape_for<In>;
            constexpr std::size_t last = Out::dims[Out::rank - 1];
            kernels::activation_map<typename L::activation>(out, out, rows * (Out::size / last), last);
        } else if constexpr (requires { L::template forward<In>(params, in, out, rows, scratch); }) {
            L::template forward<In>(params, in, out, rows, scratch);
        } else {
            L::template forward<In>(params, in, out, rows);
        }
    }
    // A layer with state (layer.hpp: state_size_for) likewise, its state passed through.
    template <class In>
        requires StatefulLayer<L, In>
    static void forward(const float* params, const float* in, float* out, std::size_t rows, float* scratch, float* state) {
        if constexpr (separate_activation) {
            L::template forward_with<In, linear>(params, in, out, rows, scratch, state);
            using Out = typename L::template output_shape_for<In>;
            constexpr std::size_t last = Out::dims[Out::rank - 1];
            kernels::activation_map<typename L::activation>(out, out, rows * (Out::size / last), last);
        } else {
            L::template forward<In>(params, in, out, rows, scratch, state);
        }
    }
    template <class Act = linear>
    static std::string kernel_name() {
        if constexpr (separate_activation) return L::template kernel_name<linear>() + ", then a " + L::activation::name() + " pass";
        else return L::template kernel_name<Act>();
    }
    template <class Act = linear, class In = void>
        requires requires { L::template kernel_name_on<Act, In>(); }
    static std::string kernel_name_on() {
        if constexpr (separate_activation) return L::template kernel_name_on<linear, In>() + ", then a " + L::activation::name() + " pass";
        else return L::template kernel_name_on<Act, In>();
    }
};

namespace detail {

template <class T, class P> struct with_policy;
template <class T, class P> using with_policy_t = typename with_policy<T, P>::type;

template <class P>
struct policy_rewriter {
    // A Sequential, or a struct derived from one (struct Stem : Sequential<...> {}).
    template <class... Ls>
    static Sequential<with_policy_t<Ls, P>...> sequential(const Sequential<Ls...>*);
};

template <class T> struct is_residual_t : std::false_type {};
template <class F, class S, class A> struct is_residual_t<Residual<F, S, A>> : std::true_type {};

template <class T, class P>
consteval auto rewrite() {
    if constexpr (requires { policy_rewriter<P>::sequential(static_cast<const T*>(nullptr)); }) {
        return std::type_identity<decltype(policy_rewriter<P>::sequential(static_cast<const T*>(nullptr)))>{};
    } else {
        return std::type_identity<typename with_policy<T, P>::leaf>{};
    }
}

// What a policy makes of a leaf: a fusion policy wraps the layers that could absorb
// something in Unfused; a precision policy gives its option to the layers that take it.
template <class T, class P> struct policy_leaf {
    using type = std::conditional_t<can_absorb_anything<T>(), Unfused<T, P>, T>;
};
template <class T> struct policy_leaf<T, bf16_weights> {
    using type = T;
};
template <class T> struct policy_leaf<T, int8_weights> {
    using type = T;
};
// A Dense that names its precision keeps it: Dense<10, softmax, tn::fp32_weights> stays fp32
// under either policy (the usual exception: the first and last layers), and a layer written
// with bf16_weights stays bf16 under int8_weights.
template <std::size_t U, class... O> struct policy_leaf<Dense<U, O...>, bf16_weights> {
    using type = std::conditional_t<Dense<U, O...>::names_precision, Dense<U, O...>, Dense<U, O..., bf16_weights>>;
};
template <std::size_t U, class... O> struct policy_leaf<Dense<U, O...>, int8_weights> {
    using type = std::conditional_t<Dense<U, O...>::names_precision, Dense<U, O...>, Dense<U, O..., int8_weights>>;
};
// Recurrent layers of at least 16 units take bf16 (W_hh); smaller ones and int8 stay fp32.
template <template <std::size_t, class...> class R, std::size_t U, class... O>
using recurrent_bf16 = std::conditional_t<R<U, O...>::names_precision || U < R<U, O...>::min_bf16_units, R<U, O...>, R<U, O..., bf16_weights>>;
template <std::size_t U, class... O> struct policy_leaf<GRU<U, O...>, bf16_weights> {
    using type = recurrent_bf16<GRU, U, O...>;
};
template <std::size_t U, class... O> struct policy_leaf<LSTM<U, O...>, bf16_weights> {
    using type = recurrent_bf16<LSTM, U, O...>;
};
template <std::size_t U, class... O> struct policy_leaf<SimpleRNN<U, O...>, bf16_weights> {
    using type = recurrent_bf16<SimpleRNN, U, O...>;
};
// int8 convolutions: Conv2D with groups 1 and at least 4 input channels (int8_policy: the
// layer decides on its input); grouped and depthwise ones stay fp32.
// A layer that asks for Winograd (fp32) keeps it.
template <std::size_t F, class... O> struct policy_leaf<Conv2D<F, O...>, int8_weights> {
    static constexpr bool grouped = groups_of<find_option_t<is_groups, groups<1>, O...>>::value > 1;
    using type = std::conditional_t<Conv2D<F, O...>::names_precision || grouped || Conv2D<F, O...>::asks_winograd, Conv2D<F, O...>,
                                    Conv2D<F, O..., int8_policy>>;
};
// bf16 convolutions: Conv2D with groups 1 (bf16_policy: the layer decides on its input — an
// even number of channels, and not where the fp32 Winograd runs); grouped and depthwise ones
// stay fp32, and so does a layer that asks for Winograd.
template <std::size_t F, class... O> struct policy_leaf<Conv2D<F, O...>, bf16_weights> {
    static constexpr bool grouped = groups_of<find_option_t<is_groups, groups<1>, O...>>::value > 1;
    using type = std::conditional_t<Conv2D<F, O...>::names_precision || grouped || Conv2D<F, O...>::asks_winograd, Conv2D<F, O...>,
                                    Conv2D<F, O..., bf16_policy>>;
};
// tn::direct as a policy: every Conv2D that does not name its algorithm computes the direct sum.
template <class T> struct policy_leaf<T, direct> {
    using type = T;
};
template <std::size_t F, class... O> struct policy_leaf<Conv2D<F, O...>, direct> {
    using type = std::conditional_t<Conv2D<F, O...>::names_algorithm, Conv2D<F, O...>, Conv2D<F, O..., direct>>;
};

template <class T, class P>
struct with_policy {
    using leaf = typename policy_leaf<T, P>::type;
    using type = typename decltype(rewrite<T, P>())::type;
};
template <class F, class S, class A, class P>
struct with_policy<Residual<F, S, A>, P> {
    using type = Residual<with_policy_t<F, P>, with_policy_t<S, P>, A>;
};
template <class X, class P>
struct with_policy<Projection<X>, P> {
    using type = Projection<with_policy_t<X, P>>;
};
template <class M, class... Ps, class P>
struct with_policy<Branch<M, Ps...>, P> {
    using type = Branch<M, with_policy_t<Ps, P>...>;
};
template <fixed_string N, class L, class P>
struct with_policy<Named<N, L>, P> {
    using type = Named<N, with_policy_t<L, P>>;
};
template <class Op, class... A, class P>
struct with_policy<Call<Op, A...>, P> {
    using type = Call<with_policy_t<Op, P>, with_policy_t<A, P>...>;
};
template <fixed_string N, class S, class P>
struct with_policy<InputNode<N, S>, P> {
    using type = InputNode<N, S>;
};
template <class... I, class... O, class P>
struct with_policy<Graph<Inputs<I...>, Outputs<O...>>, P> {
    using type = Graph<Inputs<I...>, Outputs<with_policy_t<O, P>...>>;
};

}  // namespace detail

namespace detail {
// Rewritten only when some pass is off, and never after the model's error was reported.
template <class Model, class Policy, bool AsIs> struct policy_applied {
    using type = Model;
};
template <class Model, class Policy> struct policy_applied<Model, Policy, false> {
    using type = with_policy_t<Model, Policy>;
};
}  // namespace detail

// The model with some passes off (with every pass on, the model itself), or with a
// precision policy applied to every layer that takes it (tn::bf16_weights: every Dense).
template <class Model, class Policy = fuse_all>
using with_policy = typename detail::policy_applied<Model, Policy, std::is_same_v<Policy, fuse_all> || !Model::valid>::type;
template <class Model>
using unfused = with_policy<Model, no_fusion>;

// tn::fast_activations as a policy, on a Sequential model (nested Sequentials and Named
// layers included): every recurrent layer gets the option (the gates' fast sigmoid and tanh,
// layers/recurrent.hpp), and every tanh and sigmoid of a Dense, Conv1D, Conv2D or Activation
// layer becomes fast_tanh / fast_sigmoid (kernels/activations.hpp). The weights, their names
// and the state are the same; the outputs move by at most the functions' stated errors.
namespace detail {
template <class T> struct fast_of {
    using type = T;
};
template <std::size_t U, class... O> struct fast_of<GRU<U, O...>> {
    using type = GRU<U, O..., fast_activations>;
};
template <std::size_t U, class... O> struct fast_of<LSTM<U, O...>> {
    using type = LSTM<U, O..., fast_activations>;
};
template <std::size_t U, class... O> struct fast_of<SimpleRNN<U, O...>> {
    using type = SimpleRNN<U, O..., fast_activations>;
};
template <std::size_t U, class... O> struct fast_of<Dense<U, O...>> {
    using type = Dense<U, fast_form_t<O>...>;
};
template <std::size_t F, class... O> struct fast_of<Conv1D<F, O...>> {
    using type = Conv1D<F, fast_form_t<O>...>;
};
template <class... O> struct fast_of<DepthwiseConv1D<O...>> {
    using type = DepthwiseConv1D<fast_form_t<O>...>;
};
template <std::size_t F, class... O> struct fast_of<Conv2D<F, O...>> {
    using type = Conv2D<F, fast_form_t<O>...>;
};
template <class A> struct fast_of<ActivationLayer<A>> {
    using type = ActivationLayer<fast_form_t<A>>;
};
template <fixed_string N, class L> struct fast_of<Named<N, L>> {
    using type = Named<N, typename fast_of<L>::type>;
};
template <class... Ls> struct fast_of<Sequential<Ls...>> {
    using type = Sequential<typename fast_of<Ls>::type...>;
};
}  // namespace detail
template <class Model>
using with_fast_activations = typename detail::fast_of<Model>::type;

template <class Model, class Policy>
auto make(seed s = {}) {
    if constexpr (std::is_same_v<Policy, fast_activations>) return make<with_fast_activations<Model>>(s);
    else return make<with_policy<Model, Policy>>(s);
}

}  // namespace typenet
