// Dense<Units, Options...>: y = act(W x + b), W: [Units, in] (PyTorch's Linear layout).
// Options: an activation (default linear) and tn::no_bias. The input is rank 1, or a sequence
// [T, F] (applied to each time step, as Keras' Dense and PyTorch's Linear act on the last
// axis); Flatten an image first. Runs as kernels::dense_gemv for one vector, dense_gemm for a
// batch, with bias and activation in the kernel's epilogue. On a sequence every step runs
// through kernels::dense_rows, whose result for a row does not depend on how many rows there
// are: a stream stepped one sample at a time gives bitwise the outputs of the whole sequence.
//
// tn::bf16_weights (an option here, or a policy for a whole model: make<M, tn::bf16_weights>())
// keeps the weights in bf16 and runs kernels::dense_bf16 (inputs rounded to bf16 inside the
// product, fp32 sums, bias and activation): half the bytes to stream. The parameters, their
// names and files stay fp32; they are rounded when packed. tn::int8_weights likewise, with
// kernels::dense_int8 (int8 weights per output channel, inputs quantized per row and call,
// exact int32 sums).
#pragma once
#include "../core/isa.hpp"
#include <array>
#include <cstddef>
#include <string>

#include "../kernels/activations.hpp"
#include "options.hpp"
#include "../core/diagnostics.hpp"
#include "../kernels/dense.hpp"
#include "../kernels/dense_bf16.hpp"
#include "../kernels/dense_int8.hpp"
#include "../core/layer.hpp"
#include "../core/shape.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

struct no_bias {};
// Weights in bf16 (layers that support it: Dense, Conv2D, recurrent layers); as a policy, every such layer of a model.
struct bf16_weights {};
// Weights in int8, symmetric per output, inputs quantized per row and call (kernels/dense_int8.hpp).
struct int8_weights {};
// Weights in fp32 (the default), named so that a precision policy leaves the layer as it is.
struct fp32_weights {};
// What the int8_weights policy gives a layer: int8 where its shape lets int8 pay (a Conv2D over
// fewer than 4 input channels, an image's first layer, stays fp32), written as int8_weights.
struct int8_policy {};
// What the bf16_weights policy gives a Conv2D: bf16 where its shape lets it run so (groups 1, an
// even number of input channels: an image's first layer stays fp32) and where Winograd would
// not run instead (kernels/conv_bf16.hpp), written as bf16_weights.
struct bf16_policy {};

template <std::size_t Units, class... Options>
struct Dense {
    static_assert(Units > 0, "typenet: Dense<0> has no outputs");
    using activation = typename detail::activation_option<linear, Options...>::type;
    static constexpr bool bias = !detail::has_option<no_bias, Options...>;
    static constexpr bool bf16 = detail::has_option<bf16_weights, Options...>;
    static constexpr bool int8 = detail::has_option<int8_weights, Options...> || detail::has_option<int8_policy, Options...>;
    static constexpr bool names_precision = bf16 || int8 || detail::has_option<fp32_weights, Options...>;
    static_assert(int(bf16) + int(int8) + int(detail::has_option<fp32_weights, Options...>) <= 1,
                  "typenet: a Dense takes one precision: fp32_weights, bf16_weights or int8_weights");
    static constexpr bool fp32 = !bf16 && !int8;
    static constexpr std::size_t units = Units;
    static constexpr std::string_view keras_class = "dense";

    template <class In> static constexpr bool accepts = In::rank == 1 || In::rank == 2;
    template <class In> using expected_input = shape_of_rank<1>;
    template <class In> struct out_shape { using type = Shape<Units>; };
    template <class In> requires(In::rank == 2) struct out_shape<In> { using type = Shape<In::dims[0], Units>; };
    template <class In> using output_shape_for = typename out_shape<In>::type;
    // Features per time step, and time steps per sample (1 for a vector).
    template <class In> static constexpr std::size_t features = In::dims[In::rank - 1];
    template <class In> static constexpr std::size_t steps = In::size / features<In>;
    template <class In> static constexpr bool streams_for = true;  // each step alone (rank 2), or no time axis

    template <class In>
    static constexpr auto params_for = [] {
        if constexpr (bias)
            return std::array{ParamSpec{"weight", {Units, features<In>}, Init::glorot_uniform, "kernel", KerasLayout::transpose},
                              ParamSpec{"bias", {Units}}};
        else
            return std::array{ParamSpec{"weight", {Units, features<In>}, Init::glorot_uniform, "kernel", KerasLayout::transpose}};
    }();
    template <class In> static constexpr std::size_t flops_for = 2 * Units * In::size;  // (features x steps)

    template <class In> static constexpr kernels::DensePacking packing{features<In>, Units};
    template <class In> static constexpr kernels::Bf16Packing packing_bf16{features<In>, Units};
    template <class In> static constexpr kernels::Int8Packing packing_int8{features<In>, Units};
    // The packed form always has a bias (zeros without one): a folded BatchNorm brings one.
    template <class In>
    static constexpr std::size_t packed_size_for = bf16   ? packing_bf16<In>.floats()
                                                   : int8 ? packing_int8<In>.floats()
                                                          : packing<In>.floats(true);
    // bf16 / int8: the inputs converted, per row (each time step of a sequence is a row).
    template <class In>
    static constexpr std::size_t scratch_size_for = bf16   ? kernels::bf16_scratch_floats(packing_bf16<In>, steps<In>)
                                                    : int8 ? kernels::int8_scratch_floats(packing_int8<In>, steps<In>)
                                                           : 0;

    template <class In>
    static void pack(const float* canonical, float* packed) noexcept {
        pack_with_bias<In>(canonical, bias ? canonical + Units * features<In> : nullptr, packed);
    }
    // Folding hook: weight rows are output features; bias may be null (zeros).
    static constexpr bool absorbs_batchnorm = std::is_same_v<activation, linear>;
    template <class In> static constexpr std::size_t out_channels = Units;
    template <class In>
    static void pack_with_bias(const float* weight, const float* b, float* packed) noexcept {
        if constexpr (bf16) {
            kernels::dense_pack_bf16(packing_bf16<In>, weight, b, packed);
            return;
        } else if constexpr (int8) {
            kernels::dense_pack_int8(packing_int8<In>, weight, b, packed);
            return;
        }
        kernels::dense_pack(packing<In>, weight, b, packed);
        if (!b) std::fill_n(packed + packing<In>.weight_floats(), packing<In>.bias_floats(), 0.f);
    }

    // The fusion hook: run with another activation in the epilogue (used when an activation
    // layer follows a linear Dense).
    static constexpr bool absorbs_activation = std::is_same_v<activation, linear>;
    template <class In, class Act>
    static void forward_with(const float* params, const float* in, float* out, std::size_t rows, float* scratch = nullptr) noexcept {
        if constexpr (bf16) kernels::dense_bf16<Act>(packing_bf16<In>, params, in, features<In>, rows * steps<In>, out, Units, scratch, nullptr, In::rank == 2);
        else if constexpr (int8) kernels::dense_int8<Act>(packing_int8<In>, params, in, features<In>, rows * steps<In>, out, Units, scratch);
        else if constexpr (In::rank == 2) kernels::dense_rows<Act, features<In>, Units>(params, in, rows * steps<In>, out);
        else if (kernels::dense_is_small<features<In>, Units> && rows == 1) kernels::dense_small<Act, features<In>, Units>(params, in, out);
        else if (rows == 1) kernels::dense_gemv<Act>(packing<In>, params, true, in, out);
        else kernels::dense_gemm<Act>(packing<In>, params, true, in, rows, out);
    }
    template <class In>
    static void forward(const float* params, const float* in, float* out, std::size_t rows, float* scratch = nullptr) noexcept {
        forward_with<In, activation>(params, in, out, rows, scratch);
    }
    // The residual hook: out = act(W x + b + add), `add` laid out like out (a skip connection
    // added in the epilogue instead of by a separate pass).
    static constexpr bool absorbs_add = std::is_same_v<activation, linear>;
    template <class In, class Act>
    static void forward_add(const float* params, const float* in, float* out, std::size_t rows, float* scratch, const float* add) noexcept {
        if constexpr (bf16) kernels::dense_bf16<Act>(packing_bf16<In>, params, in, features<In>, rows * steps<In>, out, Units, scratch, add, In::rank == 2);
        else if constexpr (int8) kernels::dense_int8<Act>(packing_int8<In>, params, in, features<In>, rows * steps<In>, out, Units, scratch, add);
        else if constexpr (In::rank == 2) kernels::dense_rows<Act, features<In>, Units>(params, in, rows * steps<In>, out, add);
        else if (kernels::dense_is_small<features<In>, Units> && rows == 1) kernels::dense_small<Act, features<In>, Units>(params, in, out, add);
        else if (rows == 1) kernels::dense_gemv<Act>(packing<In>, params, true, in, out, add);
        else kernels::dense_gemm<Act>(packing<In>, params, true, in, rows, out, add);
    }

    // The slice hook: out's rows are ldo floats apart (a slice of a Concat's output).
    static constexpr bool writes_strided = true;
    template <class In, class Act>
    static void forward_strided(const float* params, const float* in, float* out, std::size_t rows, float* scratch, std::size_t ldo) noexcept {
        if constexpr (bf16) kernels::dense_bf16<Act>(packing_bf16<In>, params, in, features<In>, rows * steps<In>, out, ldo, scratch, nullptr, In::rank == 2);
        else if constexpr (int8) kernels::dense_int8<Act>(packing_int8<In>, params, in, features<In>, rows * steps<In>, out, ldo, scratch);
        else if (In::rank == 1 && rows == 1) kernels::dense_gemv<Act>(packing<In>, params, true, in, out);
        else kernels::gemm<Act>(packing<In>, params, true, in, features<In>, rows * steps<In>, out, ldo);
    }

    // Several threads on one sample (runtime/program.hpp, run_shared): a layer on a vector
    // whose fp32 weights stream from beyond L2 (a classifier's megabytes) takes whole groups of
    // the matrix-vector kernel's panels (kernels::dense_gemv's share), each thread streaming
    // its part of the weights; every output is the same chain of FMAs as on one thread.
    template <class In>
    static constexpr bool shares = !bf16 && !int8 && In::rank == 1 && !kernels::dense_is_small<features<In>, Units> &&
                                   kernels::weights_stream(features<In> * Units * sizeof(float));
    template <class In> static constexpr int share_phases = 1;
    template <class In, class Act>
    static void forward_shared(const float* params, const float* in, float* out, float*, const float* add, std::size_t, kernels::Share share,
                               std::size_t = 0, std::size_t = 0) {
        kernels::dense_gemv<Act>(packing<In>, params, true, in, out, add, share);
    }

    static std::string name() {
        std::string s = "Dense<" + std::to_string(Units);
        if constexpr (!std::is_same_v<activation, linear>) {
            s += ", ";
            s += activation::name();
        }
        if constexpr (!bias) s += ", no_bias";
        if constexpr (bf16) s += ", bf16_weights";
        if constexpr (int8) s += ", int8_weights";
        if constexpr (detail::has_option<fp32_weights, Options...>) s += ", fp32_weights";
        return s + ">";
    }
    template <class Act = activation>
    static std::string kernel_name() {
        std::string s = bf16 ? "dense_bf16" : int8 ? "dense_int8" : "dense";
        if constexpr (bias) s += "+bias";
        if constexpr (!std::is_same_v<Act, linear>) {
            s += "+";
            s += Act::name();
        }
        return s;
    }
};

}  // namespace typenet
