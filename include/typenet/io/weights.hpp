// Loading and saving a Net's weights by name. A load checks every tensor against the model's
// type first and only then swaps the new weights in: a bad file changes nothing.
#pragma once
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "../model/net.hpp"
#include "safetensors.hpp"

namespace typenet {

// Naming and layout convention of a weights file. PyTorch's is typenet's canonical one
// ("<index>.weight" [out, in], "<index>.bias"); the I/O issue adds Keras'.
struct from_pytorch_t {};
inline constexpr from_pytorch_t from_pytorch{};

struct LoadOptions {
    bool allow_unexpected = false;  // tensors in the file that the model does not have
    bool allow_non_finite = false;  // NaN or Inf in weights
};

template <class Model>
void load_weights(Net<Model>& net, const SafetensorsFile& file, from_pytorch_t = {}, LoadOptions options = {}) {
    const auto& infos = Net<Model>::param_infos();
    std::vector<float> canonical(Net<Model>::param_count);
    const std::string& src = file.source();
    for (const ParamInfo& p : infos) {
        const TensorEntry* t = file.find(p.name);
        if (!t) throw load_error("typenet: '" + src + "': missing tensor '" + p.name + "' (expected F32 " + p.spec.shape_str() + ")");
        bool same = t->shape.size() == p.spec.rank;
        for (std::size_t k = 0; same && k < p.spec.rank; ++k) same = t->shape[k] == p.spec.dims[k];
        if (!same)
            throw load_error("typenet: '" + src + "': tensor '" + p.name + "' has shape " + t->shape_str() + ", expected " +
                             p.spec.shape_str());
        if (t->dtype != "F32")
            throw load_error("typenet: '" + src + "': tensor '" + p.name + "' has dtype " + t->dtype + ", expected F32");
        const std::vector<float> v = file.floats(p.name);
        if (!options.allow_non_finite)
            for (std::size_t i = 0; i < v.size(); ++i)
                if (!std::isfinite(v[i]))
                    throw load_error("typenet: '" + src + "': tensor '" + p.name + "' holds a non-finite value at element " +
                                     std::to_string(i) + " (LoadOptions::allow_non_finite accepts it)");
        std::copy(v.begin(), v.end(), canonical.begin() + std::ptrdiff_t(p.offset));
    }
    if (!options.allow_unexpected)
        for (const auto& [name, entry] : file.tensors()) {
            const bool known = std::any_of(infos.begin(), infos.end(), [&](const ParamInfo& p) { return p.name == name; });
            if (!known)
                throw load_error("typenet: '" + src + "': unexpected tensor '" + name + "' " + entry.shape_str() +
                                 " that the model does not have (LoadOptions::allow_unexpected ignores it)");
        }
    net.set_weights(canonical);
}

template <class Model>
void load_weights(Net<Model>& net, const std::filesystem::path& path, from_pytorch_t convention = {}, LoadOptions options = {}) {
    load_weights(net, SafetensorsFile::read(path), convention, options);
}

template <class Model>
void save_weights(const Net<Model>& net, const std::filesystem::path& path) {
    const std::vector<float> canonical = net.get_weights();
    std::vector<NamedTensor> tensors;
    for (const ParamInfo& p : Net<Model>::param_infos())
        tensors.push_back(NamedTensor{p.name, std::vector<std::size_t>(p.spec.dims.begin(), p.spec.dims.begin() + std::ptrdiff_t(p.spec.rank)),
                                      std::span<const float>(canonical.data() + p.offset, p.spec.size())});
    write_safetensors(path, tensors);
}

}  // namespace typenet
