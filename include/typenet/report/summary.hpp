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

// The model's totals under its table.
struct SummaryTotals {
    std::size_t params, weight_bytes, flops, workspace_bytes, naive_workspace_bytes;
};

// The table and the totals, from the rows (one function for every model: the template below
// only gathers what it prints).
[[gnu::noinline]] inline std::string format_summary(const std::vector<LayerInfo>& rows, bool graph, std::string name,
                                                    const SummaryTotals& t) {
    std::vector<std::string> head{"Layer", "Type", "Output shape", "Params", "Kernel"};
    if (graph) head = {"Layer", "Type", "Output shape", "Params", "Connected to", "Buffer", "Kernel"};
    const std::size_t cols = head.size(), params_col = 3;
    std::vector<std::vector<std::string>> cells;
    for (const LayerInfo& r : rows) {
        std::vector<std::string> c{std::string(2 * r.depth, ' ') + r.path, r.type, r.output_shape, thousands(r.params)};
        if (graph) {
            std::string connected;
            for (std::size_t a : r.args) connected += (connected.empty() ? "" : ", ") + rows_path(rows, a);
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
    o << "Total params: " << thousands(t.params) << " (" << bytes_str(t.weight_bytes) << ")\n";
    o << "FLOPs per sample: " << thousands(t.flops) << "\n";
    o << "Activation arena: " << bytes_str(t.workspace_bytes) << " per sample (naive: " << bytes_str(t.naive_workspace_bytes) << ")\n";
    o << "Kernels: " << kernels::lanes << " float lanes (" << kernels::arch::name() << "), GEMM block " << kernels::mr
      << "x" << kernels::nr << "\n";
    return o.str();
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
        return detail::format_summary(runtime::describe(Model::program::tables), requires { Model::is_graph; }, std::string(type_name<Model>()),
                                      {Model::param_count, Model::weight_bytes, Model::flops, Model::workspace_bytes,
                                       Model::naive_workspace_bytes});
    }
}

}  // namespace typenet
