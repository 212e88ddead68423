// RTNeural's JSON model files: what AIDA-X, GuitarML and RTNeural's own exporters write, so
// that users of those model files can run them in typenet.
//
//   using Amp = tn::Sequential<tn::Input<1, 1>, tn::LSTM<16, tn::return_sequences>, tn::Dense<1>>;
//   auto net = tn::make<Amp>();
//   tn::load_rtneural(net, "model.json");      // checked against the type, then loaded
//
// The file comes in two forms, both read:
//   - Keras' (RTNeural's model_utils.save_model): {"in_shape": [...], "layers": [{"type":
//     "dense" | "time-distributed-dense" | "conv1d" | "gru" | "lstm" | "batchnorm" | "prelu" |
//     "activation", "activation": "tanh" | ..., "shape": [...], "weights": [...]}, ...]},
//     weights in Keras' layouts. The type is the architecture, so the file's layers are checked
//     against it: the same layers with weights in the same order and of the same kinds, the
//     same activations after each (fused or as layers of their own), a Conv1D's kernel size,
//     dilation and groups, a BatchNorm's epsilon; then every tensor's shape as any Keras file
//     is (tn::from_keras). A BatchNorm without scale and centre gives only its moving mean and
//     variance: its gamma is 1, beta 0. The padding of a Conv1D is the type's: RTNeural streams
//     its Conv1D causally (tn::padding_causal).
//   - PyTorch's (a state_dict dumped as JSON: {"gru.weight_ih_l0": [[...]], ...}): the tensors
//     by name, loaded as a PyTorch file (tn::from_pytorch; LoadOptions::rename maps names).
//
// Everything a load_weights promises holds: a file that does not fit changes nothing, and the
// error says which layer and why. Not read: RTNeural's conv2d, batchnorm2d and conv1d
// transpose layers (a load_error names them).
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "json.hpp"
#include "npy.hpp"
#include "safetensors.hpp"
#include "weights.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

// A tensor of the file: C-order values and their shape (nested JSON arrays).
struct RTNeuralTensor {
    std::vector<std::size_t> shape;
    std::vector<float> values;
};

// One entry of the Keras form's "layers".
struct RTNeuralLayer {
    std::string type;        // "dense", "conv1d", "gru", ...
    std::string activation;  // "" when none
    std::size_t units = 0;   // the last entry of "shape": the layer's output features
    std::vector<RTNeuralTensor> weights;
    double epsilon = -1;                             // batchnorm
    std::size_t kernel_size = 0, dilation = 1, groups = 1;  // conv1d
};

struct RTNeuralFile {
    std::string source;
    std::vector<RTNeuralLayer> layers;           // Keras' form
    std::optional<SafetensorsFile> state_dict;   // PyTorch's form
    bool keras() const noexcept { return !state_dict.has_value(); }
};

namespace detail {

[[noreturn]] inline void rtneural_fail(const std::string& source, const std::string& what) {
    throw load_error("typenet: '" + source + "': " + what);
}

// Nested arrays of numbers, rectangular, into a shape and C-order values.
inline RTNeuralTensor rtneural_tensor(const json::Value& j, const std::string& source, const std::string& what) {
    RTNeuralTensor t;
    const json::Value* at = &j;
    while (at->is_array()) {
        t.shape.push_back(at->items.size());
        if (at->items.empty()) break;
        at = &at->items[0];
    }
    // No reserve from the shape: a ragged array is refused as the walk reaches it, before the
    // first-path sizes it claims (which may multiply past memory) are believed.
    auto walk = [&](auto& self, const json::Value& v, std::size_t depth) -> void {
        if (depth == t.shape.size()) {
            if (!v.is_number()) rtneural_fail(source, what + " holds " + json::kind_name(v) + " where a number belongs");
            t.values.push_back(v.is_unsigned ? float(v.u) : float(v.number));
            return;
        }
        if (!v.is_array() || v.items.size() != t.shape[depth])
            rtneural_fail(source, what + " is not a rectangular array (dimension " + std::to_string(depth) + " should have " +
                                      std::to_string(t.shape[depth]) + " entries)");
        for (const auto& e : v.items) self(self, e, depth + 1);
    };
    walk(walk, j, 0);
    return t;
}

// The JSON under the limits: nesting past max_depth, a key longer than max_name_bytes and a
// key given twice in one object are refused as the reader meets them.
inline json::Value rtneural_parse(std::string_view text, const std::string& source, const ReadLimits& limits) {
    try {
        return json::parse(text, {limits.max_depth, std::size_t(-1), limits.max_name_bytes, "the JSON"});
    } catch (const json::error& e) {
        rtneural_fail(source, e.syntax ? std::string("not valid JSON: ") + e.what() : std::string(e.what()));
    }
}

inline std::vector<std::uint8_t> f32_bytes(const std::vector<float>& v) {
    std::vector<std::uint8_t> b(v.size() * 4);
    for (std::size_t i = 0; i < v.size(); ++i) {
        std::uint32_t u;
        std::memcpy(&u, &v[i], 4);
        for (std::size_t k = 0; k < 4; ++k) b[4 * i + k] = std::uint8_t(u >> (8 * k));
    }
    return b;
}

inline std::string rtneural_where(std::size_t i, const RTNeuralLayer& l) { return "layer " + std::to_string(i) + " (" + l.type + ")"; }

// The Keras class of typenet's layer that an RTNeural layer type is.
inline std::string_view rtneural_keras_class(const std::string& type) {
    if (type == "dense" || type == "time-distributed-dense") return "dense";
    if (type == "conv1d") return "conv1d";
    if (type == "gru") return "gru";
    if (type == "lstm") return "lstm";
    if (type == "batchnorm") return "batch_normalization";
    if (type == "prelu") return "p_re_lu";
    return {};
}

inline std::string join(const std::vector<std::string>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s + "]";
}

}  // namespace detail

// Parses either form (read_rtneural: from a file); the architecture of the Keras form is checked when it is loaded into a
// model (load_rtneural), its own consistency (each layer's declared width against its
// weights) here.
inline RTNeuralFile parse_rtneural(std::string_view text, const std::string& source = "<memory>", const ReadLimits& limits = {}) {
    const json::Value j = detail::rtneural_parse(text, source, limits);
    if (!j.is_object()) detail::rtneural_fail(source, "not an RTNeural model: the JSON is not an object");
    RTNeuralFile f;
    f.source = source;
    const json::Value* layers = j.find("layers");
    if (!layers) {  // PyTorch's form: name -> nested arrays
        std::vector<std::pair<std::string, detail::NpyArray>> arrays;
        for (std::size_t m = 0; m < j.keys.size(); ++m) {
            const std::string& name = j.keys[m];
            const json::Value& value = j.items[m];
            if (!value.is_array() && !value.is_number())
                detail::rtneural_fail(source, "not an RTNeural model: no \"layers\", and " + detail::quoted(name) + " is not a tensor");
            RTNeuralTensor t = detail::rtneural_tensor(value, source, "tensor " + detail::quoted(name));
            arrays.emplace_back(name, detail::NpyArray{"F32", t.shape, detail::f32_bytes(t.values)});
        }
        if (arrays.empty()) detail::rtneural_fail(source, "not an RTNeural model: an empty object");
        f.state_dict = detail::as_safetensors(arrays, source);
        return f;
    }
    if (!layers->is_array()) detail::rtneural_fail(source, "\"layers\" is not an array");
    for (const json::Value& lj : layers->items) {
        RTNeuralLayer l;
        const std::string where = "layer " + std::to_string(f.layers.size());
        const json::Value* type = lj.find("type");
        if (!lj.is_object() || !type || !type->is_string()) detail::rtneural_fail(source, where + " has no \"type\"");
        l.type = type->text;
        if (const json::Value* a = lj.find("activation")) {
            if (!a->is_string()) detail::rtneural_fail(source, where + "'s \"activation\" is not a string");
            l.activation = a->text;
            if (l.activation == "linear") l.activation.clear();
        }
        if (const json::Value* s = lj.find("shape"); s && s->is_array() && !s->items.empty() && s->items.back().is_unsigned)
            l.units = std::size_t(s->items.back().u);
        if (const json::Value* w = lj.find("weights")) {
            if (!w->is_array()) detail::rtneural_fail(source, where + "'s \"weights\" is not an array");
            for (const json::Value& t : w->items)
                l.weights.push_back(detail::rtneural_tensor(t, source, where + "'s weight " + std::to_string(l.weights.size())));
        }
        auto first = [&](const char* key, std::size_t fallback) -> std::size_t {
            const json::Value* k = lj.find(key);
            if (!k) return fallback;
            const json::Value& v = k->is_array() && !k->items.empty() ? k->items[0] : *k;
            if (!v.is_unsigned || v.u == 0 || v.u > std::numeric_limits<std::size_t>::max())
                detail::rtneural_fail(source, where + "'s \"" + key + "\" is not a positive integer");
            return std::size_t(v.u);
        };
        l.kernel_size = first("kernel_size", 0), l.dilation = first("dilation", 1), l.groups = first("groups", 1);
        if (const json::Value* e = lj.find("epsilon")) {
            if (!e->is_number()) detail::rtneural_fail(source, where + "'s \"epsilon\" is not a number");
            l.epsilon = e->number;
        }
        // The layer's declared width against its weights: the last axis of its first tensor
        // (Keras' kernel [.., units * gates]).
        const std::size_t gates = l.type == "gru" ? 3 : l.type == "lstm" ? 4 : 1;
        if (l.units && !l.weights.empty() && detail::rtneural_keras_class(l.type) != "p_re_lu" && !l.weights[0].shape.empty()) {
            const std::size_t cols = l.type == "batchnorm" ? l.weights[0].shape.back() : l.weights[0].shape.back() / gates;
            if (cols != l.units)
                detail::rtneural_fail(source, detail::rtneural_where(f.layers.size(), l) + " declares " + std::to_string(l.units) +
                                                  " outputs but its weights are for " + std::to_string(cols) + " (weight 0 has shape " +
                                                  detail::dims_str(l.weights[0].shape) + ")");
        }
        f.layers.push_back(std::move(l));
    }
    return f;
}

inline RTNeuralFile read_rtneural(const std::filesystem::path& path, const ReadLimits& limits = {}) {
    const std::vector<std::uint8_t> bytes = detail::read_bytes(path);
    if (bytes.size() > limits.max_archive_bytes) detail::rtneural_fail(path.string(), "larger than ReadLimits::max_archive_bytes");
    return parse_rtneural(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path.string(), limits);
}

namespace detail {
// The Keras form checked against a model's description (its rows and parameters: kinds,
// activations, options, tensor counts and sizes) and given the model's Keras names: the file
// load_weights then reads. load_error where they differ. (A plain function, not per model: an
// AnyModel of many models compiles it once.)
inline SafetensorsFile rtneural_as_keras(const RTNeuralFile& file, const std::vector<ParamInfo>& infos, const std::vector<LayerInfo>& rows) {
    const std::string& src = file.source;
    auto fail = [&](const std::string& what) { rtneural_fail(src, what); };
    // The model's layers with weights, each with the activations applied after it before the
    // next one (its own, fused or not, then Activation layers).
    struct Group {
        std::string path, type;
        std::string_view keras_class;
        LayerTraits traits;
        std::vector<std::string> activations;
        std::vector<std::size_t> params;  // indices into param_infos
    };
    std::vector<Group> model;
    for (const LayerInfo& r : rows) {
        if (r.kind != RowKind::layer) continue;
        std::vector<std::size_t> params;
        for (std::size_t i = 0; i < infos.size(); ++i)
            if (infos[i].layer_path == r.path) params.push_back(i);
        if (!params.empty()) {
            model.push_back({r.path, r.type, infos[params[0]].keras_class, r.traits, {}, params});
            if (!r.traits.activation.empty()) model.back().activations.push_back(r.traits.activation);
        } else if (!r.traits.activation.empty()) {
            if (model.empty()) fail("the model applies " + r.traits.activation + " to its input, which RTNeural's format cannot say");
            model.back().activations.push_back(r.traits.activation);
        }
    }
    struct FileGroup {
        std::size_t index;
        std::vector<std::string> activations;
    };
    std::vector<FileGroup> groups;
    for (std::size_t i = 0; i < file.layers.size(); ++i) {
        const RTNeuralLayer& l = file.layers[i];
        const bool recurrent = l.type == "gru" || l.type == "lstm";
        if (l.type == "activation") {
            if (groups.empty()) fail("layer 0 is an activation: typenet's models start with a layer with weights here");
            if (!l.activation.empty()) groups.back().activations.push_back(l.activation);
            continue;
        }
        if (rtneural_keras_class(l.type).empty())
            fail(rtneural_where(i, l) + ": typenet reads RTNeural's dense, time-distributed-dense, conv1d, gru, lstm, "
                                                "batchnorm, prelu and activation layers, not " + detail::quoted(l.type));
        if (recurrent && !l.activation.empty() && l.activation != "tanh")
            fail(rtneural_where(i, l) + " has the cell activation " + detail::quoted(l.activation) + "; GRU and LSTM use tanh");
        groups.push_back({i, {}});
        if (!recurrent && !l.activation.empty()) groups.back().activations.push_back(l.activation);
    }
    auto model_list = [&] {
        std::vector<std::string> v;
        for (const Group& g : model) v.push_back("'" + g.path + "' " + g.type);
        return join(v);
    };
    auto file_list = [&] {
        std::vector<std::string> v;
        for (const FileGroup& g : groups) v.push_back(std::to_string(g.index) + " " + file.layers[g.index].type);
        return join(v);
    };
    if (groups.size() != model.size())
        fail("the file has " + std::to_string(groups.size()) + " layers with weights " + file_list() + ", the model " +
             std::to_string(model.size()) + " " + model_list());
    // Each pair: kind, activations, options; then the tensors under the model's Keras names.
    const auto names = file_names(infos, from_keras);
    std::vector<std::pair<std::string, NpyArray>> arrays;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const RTNeuralLayer& l = file.layers[groups[g].index];
        const Group& m = model[g];
        const std::string here = rtneural_where(groups[g].index, l) + " and the model's '" + m.path + "' " + m.type;
        if (rtneural_keras_class(l.type) != m.keras_class) fail(here + " are different kinds of layer");
        if (groups[g].activations != m.activations)
            fail(here + ": the file applies " + join(groups[g].activations) + " after it, the model " + join(m.activations));
        if (l.type == "conv1d") {
            const LayerTraits& t = m.traits;
            if (l.kernel_size && l.kernel_size != t.kernel) fail(here + ": kernel size " + std::to_string(l.kernel_size) + " vs " + std::to_string(t.kernel));
            if (l.dilation != t.dilation) fail(here + ": dilation " + std::to_string(l.dilation) + " vs " + std::to_string(t.dilation));
            if (l.groups != t.groups) fail(here + ": groups " + std::to_string(l.groups) + " vs " + std::to_string(t.groups));
            if (t.stride != 1) fail(here + ": RTNeural's Keras Conv1D has stride 1, the model's " + std::to_string(t.stride));
        }
        if (l.type == "batchnorm" && l.epsilon >= 0 && std::abs(l.epsilon - m.traits.epsilon) > 1e-6 * std::max(1.0, l.epsilon))
            fail(here + ": epsilon " + float_str(float(l.epsilon)) + " vs " + float_str(float(m.traits.epsilon)) +
                 " (BatchNorm<Num, Den> is Num / Den)");
        // The model's distinct file tensors for this layer, in order (a GRU's two biases are
        // one Keras "bias").
        std::vector<std::size_t> distinct;
        for (std::size_t i : m.params)
            if (std::none_of(distinct.begin(), distinct.end(), [&](std::size_t d) { return names[d] == names[i]; })) distinct.push_back(i);
        std::size_t skip = 0;  // leading tensors the file leaves out
        if (l.type == "batchnorm" && l.weights.size() == 2 && distinct.size() == 4) {  // no scale, no centre
            const std::size_t c = infos[distinct[0]].spec.size();
            arrays.emplace_back(names[distinct[0]], NpyArray{"F32", {c}, f32_bytes(std::vector<float>(c, 1.f))});
            arrays.emplace_back(names[distinct[1]], NpyArray{"F32", {c}, f32_bytes(std::vector<float>(c, 0.f))});
            skip = 2;
        }
        if (l.weights.size() + skip != distinct.size()) {
            std::vector<std::string> want;
            for (std::size_t i : distinct) want.push_back(names[i]);
            fail(here + ": the file gives " + std::to_string(l.weights.size()) + " tensors, the model has " +
                 std::to_string(distinct.size()) + " " + join(want));
        }
        for (std::size_t w = 0; w < l.weights.size(); ++w) {
            const std::size_t i = distinct[w + skip];
            std::vector<std::size_t> shape = l.weights[w].shape;
            if (l.type == "prelu") shape = file_dims(infos[i].spec, from_keras);  // Keras' alpha [1, C] or [1, 1]: one per channel, or one
            std::size_t n = 1;
            for (std::size_t d : shape) n *= d;
            if (n != l.weights[w].values.size())
                fail(here + ": weight " + std::to_string(w) + " has " + std::to_string(l.weights[w].values.size()) + " values, expected " +
                     std::to_string(n) + " for " + detail::quoted(names[i]));
            arrays.emplace_back(names[i], NpyArray{"F32", shape, f32_bytes(l.weights[w].values)});
        }
    }
    return as_safetensors(arrays, src);
}
}  // namespace detail

// Checks the file against the model and loads it; nothing changes unless all of it fits.
template <class Model>
void load_rtneural(Net<Model, true>& net, const RTNeuralFile& file, const LoadOptions& options = {}) {
    if (!file.keras()) {
        load_weights(net, *file.state_dict, from_pytorch, options);
        return;
    }
    load_weights(net, detail::rtneural_as_keras(file, Net<Model>::param_infos(), runtime::describe(Model::program::tables)), from_keras, options);
}

template <class Model>
void load_rtneural(Net<Model, true>& net, const std::filesystem::path& path, const LoadOptions& options = {}) {
    load_rtneural(net, read_rtneural(path), options);
}

// Into whichever of an AnyModel's models the file fits (model/any_model.hpp).
template <class... Models>
void load_rtneural(AnyModel<Models...>& any, const RTNeuralFile& file, const LoadOptions& options = {}) {
    if (auto why = any.load_first([&](auto& net) { return try_load_rtneural(net, file, options); }))
        throw load_error("typenet: '" + file.source + "' fits none of the " + std::to_string(sizeof...(Models)) + " models:" + *why);
}
template <class... Models>
void load_rtneural(AnyModel<Models...>& any, const std::filesystem::path& path, const LoadOptions& options = {}) {
    load_rtneural(any, read_rtneural(path), options);
}

// Without exceptions: the error, or nothing when the model was loaded.
template <class Model, class Source>
std::optional<load_error> try_load_rtneural(Net<Model, true>& net, const Source& source, const LoadOptions& options = {}) noexcept {
    try {
        load_rtneural(net, source, options);
        return std::nullopt;
    } catch (const load_error& e) {
        return e;
    } catch (const std::exception& e) {
        return load_error(std::string("typenet: ") + e.what());
    }
}

template <class... A> void load_rtneural(detail::InvalidNet&, A&&...) {}
template <class... A> std::optional<load_error> try_load_rtneural(detail::InvalidNet&, A&&...) noexcept { return std::nullopt; }

}  // namespace typenet
