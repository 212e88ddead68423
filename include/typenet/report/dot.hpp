// to_dot<Model>(): the model as a Graphviz digraph (dot -Tsvg model.dot > model.svg). One box
// per node of the lowered model, labelled with its name, type and output shape; an edge for
// each input it reads. Blocks are seen through.
#pragma once
#include "../core/isa.hpp"
#include <sstream>
#include <string>
#include <vector>

#include "../passes/records.hpp"
#include "../model/model.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <class Model>
std::string to_dot() {
    static_assert(Model::is_model, "typenet: to_dot<M>() needs a model: a Sequential with tn::Input<...>, or a Graph");
    if constexpr (!Model::valid) {
        return "digraph invalid {}\n";
    } else {
        const std::vector<LayerInfo> rows = runtime::describe(Model::program::tables);
        auto quoted = [](const std::string& s) {
            std::string q = "\"";
            for (char c : s) {
                if (c == '"' || c == '\\') q += '\\';
                q += c;
            }
            return q + "\"";
        };
        std::vector<std::string> path_of_node;
        for (const LayerInfo& r : rows)
            if (r.kind != RowKind::block) {
                if (path_of_node.size() <= r.node) path_of_node.resize(r.node + 1);
                path_of_node[r.node] = r.path;
            }
        std::ostringstream o;
        o << "digraph model {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n";
        for (const LayerInfo& r : rows) {
            if (r.kind == RowKind::block) continue;
            o << "  " << quoted(r.path) << " [label=" << quoted(r.path + "\\n" + r.type + "\\n" + r.output_shape) << "];\n";
            for (std::size_t a : r.args) o << "  " << quoted(path_of_node[a]) << " -> " << quoted(r.path) << ";\n";
        }
        o << "}\n";
        return o.str();
    }
}

}  // namespace typenet
