// The description records: typed rows, one per node and one per block, that summary,
// fusion_plan and to_dot format (report/). Nothing reads a row's text back.
#pragma once
#include "../core/isa.hpp"
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "../core/layer.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

enum class RowKind { input, block, layer, merge };

// One row of a model's description: a node of the IR or a block around some of them.
// What a layer's type fixes beyond its tensors' shapes: what a reader of a file that also
// describes the architecture (RTNeural's JSON) checks against the file, never guesses.
struct LayerTraits {
    std::string activation;  // applied to its output ("tanh"); empty when linear, or inside a recurrent cell
    double epsilon = -1;     // a BatchNorm's; < 0: none
    std::size_t kernel = 0, stride = 0, dilation = 0, groups = 0;  // a Conv1D's; kernel 0: not one
    bool causal = false;
};

struct LayerInfo {
    std::string path;          // "features.0", "layer1.0.conv1"
    std::string type;          // "Conv2D<5, 3x3>"
    std::string output_shape;  // "[12, 12, 5]"
    std::size_t params = 0;    // canonical floats it owns (a block: those of its nodes)
    std::size_t flops = 0;
    std::size_t output_floats = 0;  // of its output, per sample
    std::size_t packed = 0;    // floats of the packed weights its call reads (a shared layer's each call)
    std::size_t depth = 0;     // how many blocks it is inside
    RowKind kind = RowKind::layer;
    std::size_t node = 0;      // the IR node (a block: its last)
    std::size_t first = 0;     // a block: its first node (a node: itself)
    std::size_t kernel = 0;    // the node whose kernel computes this one (itself if its own)
    bool view = false;         // a view: no kernel, no copy
    bool extra_pass = false;   // its own activation runs as a pass of its own (fusion off)
    bool folded = false;       // a BatchNorm is folded into its weights
    std::string kernel_text;   // how the summary's Kernel column says it
    std::string kernel_name;   // the kernel it runs ("conv+bias+relu (batchnorm folded)"), if it names one
    bool adds_residual = false;        // its kernel adds a residual (the Add and what follows are fused rows)
    bool folded_into_weights = false;  // a BatchNorm folded into the weights of the kernel before it
    std::vector<std::size_t> args;  // the nodes it reads
    std::string buffer;        // where its value lives ("arena +256", "output 0")
    LayerTraits traits;
};

// One learnable tensor of the model, as weight files name it.
struct ParamInfo {
    std::string name;          // "features.0.weight"
    ParamSpec spec;
    std::size_t offset;        // into the canonical parameter vector
    std::string layer_path;    // "features.0"
    std::string_view keras_class;  // "dense", for Keras' default layer names; empty if unknown
    // For the weight of a layer that reads a Flatten of a spatial [H, W, C] map: {H, W, C}.
    // typenet flattens (h, w, c); PyTorch (c, h, w), so loading from PyTorch permutes columns.
    std::array<std::size_t, 3> flattened_hwc{};
    bool named = false;        // the layer has a name of its own (tn::Named): Keras files use it as is
};

}  // namespace typenet
