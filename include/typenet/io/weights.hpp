// Loading and saving a Net's weights by name, in an explicit convention:
//
//   tn::native        typenet's own files, as save_weights writes them (the default).
//   tn::from_pytorch  a PyTorch state_dict of an nn.Sequential laid out like the model:
//                     "<index>.weight" / ".bias" / ".running_mean" ..., PyTorch's layouts; the
//                     Dense that follows a Flatten of an [H, W, C] map gets its columns
//                     permuted from PyTorch's (c, h, w) order to typenet's (h, w, c).
//   tn::from_keras    Keras' names "<layer>/kernel", "/bias", "/gamma", "/beta",
//                     "/moving_mean", "/moving_variance", "/depthwise_kernel", with layer
//                     names as Keras gives them by default ("conv2d", "conv2d_1", "dense", ...)
//                     and Keras' layouts (Dense kernel [in, out], Conv2D kernel [kh, kw, in,
//                     out], ...); Keras flattens NHWC like typenet.
// (to_pytorch / to_keras name the same conventions for save_weights.)
//
// A load checks every tensor against the model's type — present, right shape, a float dtype
// (F32; F64, F16, BF16 converted), finite — and reports tensors the model does not have;
// only then are the new weights packed and swapped in. A bad file changes nothing.
#pragma once
#include "../core/isa.hpp"
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../model/any_model.hpp"
#include "../model/net.hpp"
#include "safetensors.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

struct WeightConvention {
    enum class Kind { native, pytorch, keras } kind;
};
inline constexpr WeightConvention native{WeightConvention::Kind::native};
inline constexpr WeightConvention from_pytorch{WeightConvention::Kind::pytorch};
inline constexpr WeightConvention from_keras{WeightConvention::Kind::keras};
inline constexpr WeightConvention to_pytorch = from_pytorch;
inline constexpr WeightConvention to_keras = from_keras;

struct LoadOptions {
    bool allow_unexpected = false;  // tensors in the file that the model does not have
    bool allow_non_finite = false;  // NaN or Inf in weights
    // Name mapping: a file name that starts with `first` (after the convention's naming) is
    // looked up with `second` instead, e.g. {"0.", "features.0."} or {"dense", "classifier"}.
    std::vector<std::pair<std::string, std::string>> rename;
};

namespace detail {

inline std::string apply_rename(const std::string& name, const LoadOptions& o) {
    for (const auto& [from, to] : o.rename)
        if (name.rfind(from, 0) == 0) return to + name.substr(from.size());
    return name;
}

// The file-side name of every parameter under a convention.
inline std::vector<std::string> file_names(const std::vector<ParamInfo>& infos, WeightConvention c) {
    std::vector<std::string> names;
    if (c.kind != WeightConvention::Kind::keras) {
        for (const ParamInfo& p : infos) names.push_back(p.name);
        return names;
    }
    // Keras' default layer names: the class name, then "_1", "_2", ... per class, in order.
    std::map<std::string_view, std::size_t> seen;
    std::map<std::string, std::string> layer_name;
    for (const ParamInfo& p : infos) {
        if (!layer_name.count(p.layer_path) && p.named) {
            layer_name[p.layer_path] = p.layer_path.substr(p.layer_path.rfind('.') + 1);  // its own name, as Keras keeps it
        } else if (!layer_name.count(p.layer_path)) {
            const std::string_view cls = p.keras_class.empty() ? std::string_view("layer") : p.keras_class;
            const std::size_t n = seen[cls]++;
            std::string layer(cls);
            if (n) {
                layer += '_';
                layer += std::to_string(n);
            }
            layer_name[p.layer_path] = std::move(layer);
        }
        names.push_back(layer_name[p.layer_path] + "/" + std::string(p.spec.keras_name));
    }
    return names;
}

// The shape a parameter has in the file.
inline std::vector<std::size_t> file_dims(const ParamSpec& s, WeightConvention c) {
    const auto& d = s.dims;
    if (c.kind == WeightConvention::Kind::keras) switch (s.keras_layout) {
            case KerasLayout::transpose: return {d[1], d[0]};
            case KerasLayout::conv: return {d[2], d[3], d[1], d[0]};
            case KerasLayout::depthwise: return {d[2], d[3], d[0] / s.depth_multiplier, s.depth_multiplier};
            case KerasLayout::conv_transpose: return {d[2], d[3], d[1], d[0]};
            case KerasLayout::conv1d: return {d[2], d[1], d[0]};
            case KerasLayout::depthwise1d: return {d[2], d[0] / s.depth_multiplier, s.depth_multiplier};
            case KerasLayout::gates: return {d[1], d[0]};
            case KerasLayout::gate_vector:
                if (s.keras_rows > 1) return {s.keras_rows, d[0]};
                return {d[0]};
            case KerasLayout::same: break;
        }
    return std::vector<std::size_t>(d.begin(), d.begin() + std::ptrdiff_t(s.rank));
}

// No NaN or Inf (SIMD: see kernels::all_finite).
inline bool all_finite(std::span<const float> v) noexcept { return kernels::all_finite(v.data(), v.size()); }

// Whether the file's layout differs from the canonical one for this parameter.
inline bool permutes(const ParamInfo& p, WeightConvention c) {
    if (c.kind == WeightConvention::Kind::pytorch) return p.flattened_hwc[0] != 0;
    if (c.kind == WeightConvention::Kind::keras) return p.spec.keras_layout != KerasLayout::same;
    return false;
}

// Keras' recurrent biases: several canonical vectors in one file tensor (see ParamSpec). A
// parameter is `shared` when an earlier one takes the same row of the same file tensor: it
// is not in the file (zero at load; added into that row at save).
inline std::vector<bool> shared_rows(const std::vector<ParamInfo>& infos, const std::vector<std::string>& names, WeightConvention c) {
    std::vector<bool> shared(infos.size());
    if (c.kind != WeightConvention::Kind::keras) return shared;
    for (std::size_t i = 0; i < infos.size(); ++i)
        for (std::size_t j = 0; j < i && !shared[i]; ++j)
            shared[i] = names[j] == names[i] && infos[j].spec.keras_row == infos[i].spec.keras_row;
    return shared;
}
// Canonical gate g sits at Keras' gate keras_gate(g) (GRU: r and z swap places).
inline std::size_t keras_gate(const ParamSpec& s, std::size_t g) { return s.keras_swap_gates && g < 2 ? 1 - g : g; }

// File values to canonical (Forward) or back (!Forward).
template <bool Forward>
void convert(const ParamInfo& p, WeightConvention c, const float* in, float* out) {
    const ParamSpec& s = p.spec;
    const auto& d = s.dims;
    auto move = [&](std::size_t canonical, std::size_t file) {
        if constexpr (Forward) out[canonical] = in[file];
        else out[file] = in[canonical];
    };
    if (c.kind == WeightConvention::Kind::pytorch && p.flattened_hwc[0]) {
        const auto [h, w, ch] = p.flattened_hwc;
        for (std::size_t o = 0; o < d[0]; ++o)
            for (std::size_t y = 0; y < h; ++y)
                for (std::size_t x = 0; x < w; ++x)
                    for (std::size_t k = 0; k < ch; ++k) move(o * d[1] + (y * w + x) * ch + k, o * d[1] + (k * h + y) * w + x);
        return;
    }
    if (c.kind == WeightConvention::Kind::keras) switch (s.keras_layout) {
            case KerasLayout::transpose:
                for (std::size_t o = 0; o < d[0]; ++o)
                    for (std::size_t i = 0; i < d[1]; ++i) move(o * d[1] + i, i * d[0] + o);
                return;
            case KerasLayout::conv:  // canonical [o][i][y][x], Keras [y][x][i][o]
            case KerasLayout::conv_transpose:  // canonical [i][o][y][x], Keras [y][x][o][i]: the same permutation
                for (std::size_t a = 0; a < d[0]; ++a)
                    for (std::size_t b = 0; b < d[1]; ++b)
                        for (std::size_t y = 0; y < d[2]; ++y)
                            for (std::size_t x = 0; x < d[3]; ++x)
                                move(((a * d[1] + b) * d[2] + y) * d[3] + x, ((y * d[3] + x) * d[1] + b) * d[0] + a);
                return;
            case KerasLayout::depthwise: {  // canonical [c * M + m][0][y][x], Keras [y][x][c][m]
                const std::size_t m = s.depth_multiplier, ch = d[0] / m;
                for (std::size_t c0 = 0; c0 < ch; ++c0)
                    for (std::size_t k = 0; k < m; ++k)
                        for (std::size_t y = 0; y < d[2]; ++y)
                            for (std::size_t x = 0; x < d[3]; ++x)
                                move(((c0 * m + k) * d[2] + y) * d[3] + x, ((y * d[3] + x) * ch + c0) * m + k);
                return;
            }
            case KerasLayout::depthwise1d: {  // canonical [c * M + m][0][k], Keras [k][c][m]
                const std::size_t m = s.depth_multiplier, ch = d[0] / m;
                for (std::size_t o = 0; o < d[0]; ++o)
                    for (std::size_t k = 0; k < d[2]; ++k) move(o * d[2] + k, (k * ch + o / m) * m + o % m);
                return;
            }
            case KerasLayout::conv1d:  // canonical [o][i][k], Keras [k][i][o]
                for (std::size_t o = 0; o < d[0]; ++o)
                    for (std::size_t i = 0; i < d[1]; ++i)
                        for (std::size_t k = 0; k < d[2]; ++k) move((o * d[1] + i) * d[2] + k, (k * d[1] + i) * d[0] + o);
                return;
            case KerasLayout::gates:  // canonical [g * U + j][i], Keras [i][keras_gate(g) * U + j]
            case KerasLayout::gate_vector: {  // canonical [g * U + j], Keras [keras_gate(g) * U + j] (one row)
                const std::size_t units = d[0] / s.keras_gates, cols = s.keras_layout == KerasLayout::gates ? d[1] : 1;
                for (std::size_t g = 0; g < s.keras_gates; ++g)
                    for (std::size_t j = 0; j < units; ++j)
                        for (std::size_t i = 0; i < cols; ++i)
                            move((g * units + j) * cols + i, i * d[0] + keras_gate(s, g) * units + j);
                return;
            }
            case KerasLayout::same: break;
        }
    for (std::size_t i = 0; i < s.size(); ++i) move(i, i);
}

inline std::string dims_str(const std::vector<std::size_t>& d) {
    std::string s = "[";
    for (std::size_t k = 0; k < d.size(); ++k) {
        if (k) s += ", ";
        s += std::to_string(d[k]);
    }
    return s + "]";
}

// No NaN or Inf among n little-endian F32 values at p (any alignment).
inline bool all_finite_f32(const std::uint8_t* p, std::size_t n) noexcept { return kernels::all_finite(p, n); }

}  // namespace detail

namespace detail {
// What the first pass found for each parameter: the file tensor's name (after renames), its
// entry, and whether an earlier parameter takes its row of it (Keras' recurrent biases).
struct CheckedFile {
    std::vector<std::string> names;
    std::vector<const TensorEntry*> entries;
    std::vector<bool> shared;
};

// The first pass: every tensor against the model's parameters (present, shape, dtype, finite:
// read straight from the mapped file), and no tensor the model lacks; load_error otherwise.
// (Plain functions, not per model: an AnyModel of many models compiles them once.)
inline CheckedFile check_file(const std::vector<ParamInfo>& infos, const SafetensorsFile& file, WeightConvention convention,
                              const LoadOptions& options) {
    const auto names = file_names(infos, convention);
    CheckedFile checked{{}, {}, shared_rows(infos, names, convention)};
    const std::string& src = file.source();
    std::vector<float> scratch;
    for (std::size_t i = 0; i < infos.size(); ++i) {
        const ParamInfo& p = infos[i];
        const std::string name = apply_rename(names[i], options);
        checked.names.push_back(name);
        const std::string ours = name == p.name ? "" : " (typenet's '" + p.name + "')";
        const auto dims = file_dims(p.spec, convention);
        const TensorEntry* t = file.find(name);
        if (!t) throw load_error("typenet: '" + src + "': missing tensor '" + name + "'" + ours + " (expected F32 " + dims_str(dims) + ")");
        if (t->shape != dims)
            throw load_error("typenet: '" + src + "': tensor '" + name + "'" + ours + " has shape " + t->shape_str() + ", expected " +
                             dims_str(dims));
        if (!SafetensorsFile::is_float_dtype(t->dtype))
            throw load_error("typenet: '" + src + "': tensor '" + name + "'" + ours + " has dtype " + t->dtype +
                             ", expected F32 (or F64, F16, BF16)");
        const std::size_t file_size = t->elements();
        if (!options.allow_non_finite) {
            bool finite = true;
            if (t->dtype == "F32") {
                finite = all_finite_f32(file.bytes(*t), file_size);
            } else {
                scratch.resize(file_size);
                file.read_floats(name, *t, scratch);
                finite = all_finite(scratch);
            }
            if (!finite) {
                scratch.resize(file_size);
                file.read_floats(name, *t, scratch);
                for (std::size_t k = 0; k < scratch.size(); ++k)
                    if (!std::isfinite(scratch[k]))
                        throw load_error("typenet: '" + src + "': tensor '" + name + "'" + ours + " holds a non-finite value at element " +
                                         std::to_string(k) + " (LoadOptions::allow_non_finite accepts it)");
            }
        }
        checked.entries.push_back(t);
    }
    if (!options.allow_unexpected) {
        // Every tensor the model does not have, by name (a two-layer recurrent file in a
        // one-layer type: all of its *_l1 tensors), so the mismatch is seen whole.
        std::vector<std::string> unexpected;
        for (const auto& [name, entry] : file.tensors())
            if (std::find(checked.names.begin(), checked.names.end(), name) == checked.names.end() &&
                !(convention.kind == WeightConvention::Kind::pytorch && name.ends_with(".num_batches_tracked")))
                unexpected.push_back(detail::quoted(name) + " " + entry.shape_str());
        if (!unexpected.empty()) {
            std::sort(unexpected.begin(), unexpected.end());
            std::string list;
            constexpr std::size_t shown = 12;
            for (std::size_t i = 0; i < unexpected.size() && i < shown; ++i) list += (i ? ", " : "") + unexpected[i];
            if (unexpected.size() > shown) list += " and " + std::to_string(unexpected.size() - shown) + " more";
            throw load_error("typenet: '" + src + "': unexpected tensor" + (unexpected.size() > 1 ? "s " : " ") + list +
                             " that the model does not have" +
                             " (LoadOptions::allow_unexpected ignores them)");
        }
    }
    return checked;
}

// The second pass, which cannot fail: the checked tensors decoded into the canonical buffer.
inline void decode_file(const std::vector<ParamInfo>& infos, const SafetensorsFile& file, WeightConvention convention,
                        const CheckedFile& checked, float* canonical) {
    std::vector<float> scratch;
    for (std::size_t i = 0; i < infos.size(); ++i) {
        const ParamInfo& p = infos[i];
        if (checked.shared[i]) {  // an earlier parameter took its row of the file tensor
            std::fill_n(canonical + p.offset, p.spec.size(), 0.f);
        } else if (!permutes(p, convention)) {  // straight into place
            file.read_floats(checked.names[i], *checked.entries[i], std::span<float>(canonical + p.offset, p.spec.size()));
        } else {
            scratch.resize(checked.entries[i]->elements());
            file.read_floats(checked.names[i], *checked.entries[i], scratch);
            const std::size_t row = convention.kind == WeightConvention::Kind::keras ? p.spec.keras_row : 0;
            convert<true>(p, convention, scratch.data() + row * p.spec.size(), canonical + p.offset);
        }
    }
}
}  // namespace detail

// Two passes: every tensor is checked against the model (present, shape, dtype, finite: read
// straight from the mapped file) before anything is written; then the weights are decoded
// into the model's canonical buffer and packed, in place. A bad file changes nothing, and a
// load allocates nothing the size of the model (fresh pages are what made loading slow: the
// kernel zeroes every one). Not to be run while another thread runs the same Net.
template <class Model>
void load_weights(Net<Model, true>& net, const SafetensorsFile& file, WeightConvention convention = native, const LoadOptions& options = {}) {
    const auto& infos = Net<Model>::param_infos();
    const detail::CheckedFile checked = detail::check_file(infos, file, convention, options);
    // Everything checked: from here nothing can fail.
    net.update_weights([&](float* canonical) { detail::decode_file(infos, file, convention, checked, canonical); });
}

template <class Model>
void load_weights(Net<Model, true>& net, const std::filesystem::path& path, WeightConvention convention = native,
                  const LoadOptions& options = {}) {
    load_weights(net, SafetensorsFile::read(path), convention, options);
}

// The same checks, without exceptions: the error, or nothing when the weights were loaded.
template <class Model, class Source>
std::optional<load_error> try_load_weights(Net<Model, true>& net, const Source& source, WeightConvention convention = native,
                                           const LoadOptions& options = {}) noexcept {
    try {
        load_weights(net, source, convention, options);
        return std::nullopt;
    } catch (const load_error& e) {
        return e;
    } catch (const std::exception& e) {
        return load_error(std::string("typenet: ") + e.what());
    }
}

namespace detail {
// The canonical weights as the convention's file: one tensor per name (Keras' recurrent bias
// gathers several parameters: rows, sums).
inline void save_canonical(const std::filesystem::path& path, const std::vector<ParamInfo>& infos, const std::vector<float>& canonical,
                           WeightConvention convention) {
    const auto names = file_names(infos, convention);
    std::vector<std::vector<float>> converted;
    std::vector<std::vector<std::size_t>> dims;
    std::map<std::string, std::size_t> index;
    std::vector<float> one;
    for (std::size_t i = 0; i < infos.size(); ++i) {
        const ParamInfo& p = infos[i];
        const auto [at, fresh] = index.emplace(names[i], converted.size());
        if (fresh) {
            dims.push_back(file_dims(p.spec, convention));
            std::size_t n = 1;
            for (std::size_t d : dims.back()) n *= d;
            converted.emplace_back(n, 0.f);
        }
        one.assign(p.spec.size(), 0.f);
        convert<false>(p, convention, canonical.data() + p.offset, one.data());
        const std::size_t row = convention.kind == WeightConvention::Kind::keras ? p.spec.keras_row : 0;
        float* into = converted[at->second].data() + row * p.spec.size();
        for (std::size_t k = 0; k < one.size(); ++k) into[k] += one[k];
    }
    std::vector<NamedTensor> tensors(converted.size());
    for (const auto& [name, i] : index) tensors[i] = NamedTensor{name, dims[i], converted[i]};
    write_safetensors(path, tensors);
}
}  // namespace detail

template <class Model>
void save_weights(const Net<Model, true>& net, const std::filesystem::path& path, WeightConvention convention = native) {
    detail::save_canonical(path, Net<Model>::param_infos(), net.get_weights(), convention);
}

// Into whichever of an AnyModel's models the file fits (the first, in order); a file that fits
// none is one error saying why each refused it, and the AnyModel keeps its model.
template <class... Models>
void load_weights(AnyModel<Models...>& any, const SafetensorsFile& file, WeightConvention convention = native,
                  const LoadOptions& options = {}) {
    if (auto why = any.load_first([&](auto& net) { return try_load_weights(net, file, convention, options); }))
        throw load_error("typenet: '" + file.source() + "' fits none of the " + std::to_string(sizeof...(Models)) + " models:" + *why);
}
template <class... Models>
void load_weights(AnyModel<Models...>& any, const std::filesystem::path& path, WeightConvention convention = native,
                  const LoadOptions& options = {}) {
    load_weights(any, SafetensorsFile::read(path), convention, options);
}

// After a model's error (reported once, at its type): loading and saving do nothing, so that
// the program around them compiles without a second error.
template <class... A> void load_weights(detail::InvalidNet&, A&&...) {}
template <class... A> std::optional<load_error> try_load_weights(detail::InvalidNet&, A&&...) noexcept { return std::nullopt; }
template <class... A> void save_weights(const detail::InvalidNet&, A&&...) {}

}  // namespace typenet
