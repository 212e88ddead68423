// Compile-time diagnostics. A shape error is reported ONCE, where layers are composed, by a
// static_assert whose condition is a type that reads as a sentence:
//
//   typenet::at_layer<2, Dense<10>>::expects_input<shape_of_rank<1>>::but_gets<Shape<26, 26, 32>>
//
// Both g++ and clang print that condition with its template arguments, so the message names
// the layer's index and type and both shapes. After reporting, the composition stops (the
// shape trace becomes `failed`), so nothing downstream is instantiated and no cascade follows.
#pragma once
#include <cstddef>

#include "fixed_string.hpp"

namespace typenet {

// Descriptions of what a layer expects, for layers whose rule is not one exact shape.
template <std::size_t Rank> struct shape_of_rank {};
template <std::size_t Size> struct shape_with_size {};
// A window op: the input (with its padding) must be at least the kernel's extent.
template <std::size_t Height, std::size_t Width> struct spatial_size_at_least {};
// A window over time: the sequence (with its padding) must be at least this many steps.
template <std::size_t Steps> struct sequence_length_at_least {};
template <std::size_t Groups> struct channels_divisible_by {};
// Reasons a layer's own options are invalid, whatever its input.
struct stride_must_be_at_least_1 {};
struct int8_weights_is_for_conv2d_with_groups_1 {};  // grouped and depthwise convolutions run in fp32
struct bf16_weights_is_for_conv2d_with_groups_1 {};  // grouped and depthwise convolutions run in fp32
struct a_convolution_takes_one_precision {};         // fp32_weights, bf16_weights or int8_weights
struct bf16_weights_is_for_recurrent_layers_of_16_units_or_more {};  // smaller ones are latency-bound: fp32
struct recurrent_layers_take_bf16_or_fp32_weights {};  // int8 is for Dense and Conv2D
struct dilation_must_be_at_least_1 {};
struct kernel_size_required {};
struct winograd_is_for_3x3_convolutions_with_stride_1_dilation_1_groups_1 {};
struct a_convolution_takes_winograd_or_direct_not_both {};
struct a_convolution_takes_one_winograd_option {};  // winograd, winograd_4x4 or winograd_2x2
struct winograd_runs_in_fp32_not_int8 {};  // int8 convolutions are direct
struct winograd_runs_in_fp32_not_bf16 {};  // bf16 convolutions are direct
// Residual<F>: x must have the shape of F(x); Residual<F, Projection<P>>: P(x) that of F(x).
template <class BodyOutput> struct shape_of_its_body_output {};
template <class ProjectionOutput, class BodyOutput> struct projection_output_equal_to_body_output {};

template <int Index, class Layer>
struct at_layer {
    template <class Expected>
    struct expects_input {
        template <class Got>
        static constexpr bool but_gets = false;
    };
    template <class Got>
    static constexpr bool is_not_a_layer_on_input = false;
    template <class Why>
    static constexpr bool has_invalid_options = false;
    template <class In>
    static constexpr bool on_input_has_a_size_that_overflows_size_t = false;
};

// In a graph, where an error is: the node's name (node<"fc">), or an unnamed node.
template <fixed_string Name> struct node {};
struct unnamed_node {};

template <class Where, class Layer>
struct at_node {
    template <class Expected>
    struct expects_input {
        template <class Got> static constexpr bool but_gets = false;
    };
    template <class Got> static constexpr bool is_not_a_layer_on_input = false;
    template <class Why> static constexpr bool has_invalid_options = false;
    template <class In> static constexpr bool on_input_has_a_size_that_overflows_size_t = false;
};

// net(x) with a tensor that is not the model's input type.
template <class InputShape>
struct net_takes {
    template <class Got> static constexpr bool but_is_called_with = false;
};

// predict with a tensor that is not the model's batch type (a view, a column-major tensor,
// an xarray, another rank).
template <class Batch>
struct predict_takes {
    template <class Got> static constexpr bool but_is_called_with = false;
};

// net.step / net.process on a model with a layer that reads the whole sequence at once (a
// bidirectional recurrent layer, a non-causal Conv1D, a Flatten or pooling over time).
template <class Layer>
struct streaming_runs_one_step_at_a_time {
    static constexpr bool but_this_layer_reads_the_whole_sequence = false;
};
// net.step / net.process on a model without exactly one sequence input Input<T, F> and one output.
template <class Model>
struct streaming_needs_one_input_T_by_F_and_one_output {
    static constexpr bool value = false;
};

template <class Model>
struct make_needs_a_model_with_input {
    static constexpr bool value = false;
};

namespace core {

template <int Index, class Layer, class Expected, class Got>
struct report_shape_mismatch {
    static_assert(at_layer<Index, Layer>::template expects_input<Expected>::template but_gets<Got>,
                  "typenet: shape mismatch: the layer in this condition does not accept the input shape it is given");
};

template <int Index, class Layer, class Got>
struct report_not_a_layer {
    static_assert(at_layer<Index, Layer>::template is_not_a_layer_on_input<Got>,
                  "typenet: not a layer: a layer needs `template <class In> using output_shape_for` and "
                  "`template <class In> static void forward(const float* params, const float* in, float* out, "
                  "std::size_t rows)` (see docs/layers.md, custom layers)");
};

template <int Index, class Layer, class Why>
struct report_invalid_options {
    static_assert(at_layer<Index, Layer>::template has_invalid_options<Why>,
                  "typenet: invalid layer options: the reason is named in this condition");
};

}  // namespace core
}  // namespace typenet
