// to_dot<Model>(): the model as a Graphviz digraph (dot -Tsvg model.dot > model.svg). One box
// per node, labelled with its name, type and output shape; an edge for each input it reads.
// Blocks (Sequential, Residual, Branch, nested graphs) are shown as one box.
#pragma once
#include <sstream>
#include <string>
#include <vector>

#include "sequential.hpp"

namespace typenet {

template <class Model>
std::string to_dot() {
    static_assert(Model::is_model, "typenet: to_dot<M>() needs a model: a Sequential with tn::Input<...>, or a Graph");
    if constexpr (!Model::valid) {
        return "digraph invalid {}\n";
    } else {
        constexpr bool graph = requires { Model::is_graph; };
        std::vector<LayerInfo> rows;
        if constexpr (!graph) rows.push_back(LayerInfo{"input", "Input", Model::input_shape_type::str(), 0, 0, "", 0, {}, {}});
        Model::program::describe(rows, "", 0);
        auto quoted = [](const std::string& s) {
            std::string q = "\"";
            for (char c : s) {
                if (c == '"' || c == '\\') q += '\\';
                q += c;
            }
            return q + "\"";
        };
        std::ostringstream o;
        o << "digraph model {\n  rankdir=TB;\n  node [shape=box, fontname=\"monospace\"];\n";
        std::string previous;
        for (const LayerInfo& r : rows) {
            if (r.depth != 0) continue;
            o << "  " << quoted(r.path) << " [label=" << quoted(r.path + "\\n" + r.type + "\\n" + r.output_shape) << "];\n";
            if constexpr (graph) {
                std::size_t at = 0;
                while (at < r.connected_to.size()) {
                    std::size_t end = r.connected_to.find(", ", at);
                    if (end == std::string::npos) end = r.connected_to.size();
                    o << "  " << quoted(r.connected_to.substr(at, end - at)) << " -> " << quoted(r.path) << ";\n";
                    at = end + 2;
                }
            } else if (!previous.empty()) {
                o << "  " << quoted(previous) << " -> " << quoted(r.path) << ";\n";
            }
            previous = r.path;
        }
        o << "}\n";
        return o.str();
    }
}

}  // namespace typenet
