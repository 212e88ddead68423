// fusion_plan<Model, Policy>(): every kernel the forward pass runs and the layers each one
// computes, formatted from the typed description records (passes/records.hpp).
#pragma once
#include "../core/isa.hpp"
#include <sstream>
#include <string>
#include <vector>

#include "../model/fusion.hpp"
#include "../passes/records.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

// fusion_plan<Model>(): every kernel the forward pass runs, and the layers it computes.
template <class Model, class Policy = fuse_all>
std::string fusion_plan() {
    using M = with_policy<Model, Policy>;
    static_assert(M::is_model, "typenet: fusion_plan<M>() needs a model");
    if constexpr (!M::valid) {
        return "<invalid model: see the shape error>";
    } else {
        const std::vector<LayerInfo> rows = runtime::describe(M::program::tables);
        std::vector<std::size_t> kernels;  // rows that run a kernel of their own
        std::size_t layers = 0, views = 0, passes = 0;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const LayerInfo& r = rows[i];
            if (r.kind == RowKind::block || r.kind == RowKind::input) continue;
            ++layers;
            if (r.kernel != r.node) continue;
            if (r.view) {
                ++views;
                continue;
            }
            kernels.push_back(i);
            passes += r.extra_pass ? 2 : 1;  // an unfused own activation is a pass of its own
        }
        std::ostringstream o;
        o << "Fusion plan: " << passes << " kernels for " << layers << " layers (" << views << " views, no copy)\n";
        for (std::size_t i : kernels) {
            const LayerInfo& k = rows[i];
            std::string what = k.kernel_name.empty() ? k.type : k.kernel_name;
            std::vector<std::string> computes{k.path + " " + k.type};
            for (const LayerInfo& r : rows)
                if (r.kind != RowKind::block && r.kernel == k.node && r.node != k.node) {
                    computes.push_back(r.path + " " + r.type);
                    // after an Add in the epilogue, what else the kernel computes, in order
                    if (k.adds_residual && !r.folded_into_weights) what += " + " + r.type;
                }
            o << "  " << what << "\n";
            for (const std::string& l : computes) o << "      " << l << "\n";
        }
        return o.str();
    }
}

}  // namespace typenet
