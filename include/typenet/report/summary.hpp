// summary<Model>(): the Keras-style table: each layer's path, type, output shape and
// parameter count, plus what typenet adds: the kernel each layer runs as (and which layers
// were fused into another's kernel), FLOPs, weight bytes, and the activation arena against
// the naive sum of all activations.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include "../core/type_name.hpp"
#include "../passes/records.hpp"
#include "../model/model.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

namespace detail {
inline std::string thousands(std::size_t n) {
    const std::string digits = std::to_string(n);
    std::string s;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) s += ',';
        s += digits[i];
    }
    return s;
}
inline std::string bytes_str(std::size_t b) {
    std::ostringstream o;
    o.precision(2);
    if (b < 1024) o << b << " B";
    else if (b < 1024 * 1024) o << std::fixed << double(b) / 1024 << " KiB";
    else o << std::fixed << double(b) / (1024 * 1024) << " MiB";
    return o.str();
}
// The path of IR node k, as its row shows it.
inline std::string rows_path(const std::vector<LayerInfo>& rows, std::size_t k) {
    for (const LayerInfo& r : rows)
        if (r.kind != RowKind::block && r.node == k) return r.path;
    std::string s = "#";  // (not "#" + to_string: g++ 12 warns falsely on it, -Wrestrict)
    s += std::to_string(k);
    return s;
}
}  // namespace detail

// For a Graph the table is Keras' functional one: every node, in execution order, with the
// nodes it reads ("Connected to") and where its value lives in the memory plan.
template <class Model>
std::string summary() {
    static_assert(Model::is_model, "typenet: summary<M>() needs a model: a Sequential whose first element is tn::Input<...>, or a Graph");
    if constexpr (!Model::valid) {
        return "<invalid model: see the shape error>";  // reported once already
    } else {
    constexpr bool graph = requires { Model::is_graph; };
    const std::vector<LayerInfo> rows = Model::program::describe();

    std::vector<std::string> head{"Layer", "Type", "Output shape", "Params", "Kernel"};
    if constexpr (graph) head = {"Layer", "Type", "Output shape", "Params", "Connected to", "Buffer", "Kernel"};
    const std::size_t cols = head.size(), params_col = 3;
    std::vector<std::vector<std::string>> cells;
    for (const LayerInfo& r : rows) {
        std::vector<std::string> c{std::string(2 * r.depth, ' ') + r.path, r.type, r.output_shape, detail::thousands(r.params)};
        if constexpr (graph) {
            std::string connected;
            for (std::size_t a : r.args) connected += (connected.empty() ? "" : ", ") + detail::rows_path(rows, a);
            c.push_back(connected);
            c.push_back(r.kind == RowKind::block ? std::string{} : r.buffer);
        }
        c.push_back(r.kernel_text);
        cells.push_back(std::move(c));
    }
    std::vector<std::size_t> width(cols);
    for (std::size_t c = 0; c < cols; ++c) {
        width[c] = head[c].size();
        for (const auto& row : cells) width[c] = std::max(width[c], row[c].size());
    }
    std::size_t total_width = 0;
    for (std::size_t w : width) total_width += w + 2;

    std::ostringstream o;
    std::string name(type_name<Model>());
    if (name.find('<') != std::string::npos) name = graph ? "Graph" : "Sequential";  // unnamed: don't print the whole type
    o << "Model: \"" << name << "\"\n" << std::string(total_width, '=') << "\n";
    auto line = [&](const auto& row) {
        for (std::size_t c = 0; c < cols; ++c) {
            const std::string& s = row[c];
            if (c == params_col) o << std::string(width[c] - s.size(), ' ') << s << "  ";  // numbers right-aligned
            else if (c + 1 == cols) o << s;                                               // no trailing blanks
            else o << s << std::string(width[c] - s.size() + 2, ' ');
        }
        o << "\n";
    };
    line(head);
    o << std::string(total_width, '-') << "\n";
    for (const auto& row : cells) line(row);
    o << std::string(total_width, '=') << "\n";
    o << "Total params: " << detail::thousands(Model::param_count) << " (" << detail::bytes_str(Model::weight_bytes) << ")\n";
    o << "FLOPs per sample: " << detail::thousands(Model::flops) << "\n";
    o << "Activation arena: " << detail::bytes_str(Model::workspace_bytes) << " per sample (naive: "
      << detail::bytes_str(Model::naive_workspace_bytes) << ")\n";
    o << "Kernels: " << kernels::lanes << " float lanes (" << kernels::arch::name() << "), GEMM block " << kernels::mr
      << "x" << kernels::nr << "\n";
    return o.str();
    }
}

}  // namespace typenet
