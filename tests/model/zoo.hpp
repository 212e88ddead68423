// The model zoo against torchvision (examples/zoo/): each model, written as a type with
// torchvision's module names, loads torchvision's state_dict with no renaming and computes
// what torchvision computes, at 224x224, one image and a batch of three.
//
// Nothing large is committed: tools/zoo_fixtures.py draws the weights and the inputs from a
// seeded generator that this file implements too, and commits only the state_dict's names and
// shapes (zoo_<model>.names.txt) and PyTorch's outputs (zoo_<model>.out.safetensors).
#pragma once
#include "../golden.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace zoo_test {
namespace tn = typenet;

struct Entry {
    std::string name;
    std::vector<std::size_t> shape;
};

inline std::vector<Entry> torchvision_names(const std::string& model) {
    std::ifstream f(golden::path("zoo_" + model + ".names.txt"));
    std::vector<Entry> v;
    for (std::string line; std::getline(f, line);) {  // "name 64,3,7,7" (a scalar has no dims)
        std::stringstream s(line);
        Entry e;
        std::string dims;
        s >> e.name >> dims;
        std::stringstream d(dims);
        for (std::string k; std::getline(d, k, ',');) e.shape.push_back(std::stoul(k));
        v.push_back(std::move(e));
    }
    return v;
}

// tools/ir_fixtures.py's uniform(): splitmix64 of (seed << 32) + (t << 24) + j, top 24 bits.
inline double uniform(std::uint64_t seed, std::uint64_t t, std::uint64_t j) {
    std::uint64_t z = (seed << 32) + (t << 24) + j + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return double(z >> 40) / double(1u << 24);
}

// tools/ir_fixtures.py's seeded_value(): tensor t of the state_dict.
inline std::vector<float> seeded_tensor(const Entry& e, std::uint64_t seed, std::uint64_t t) {
    std::size_t n = 1, fan_in = 1;
    for (std::size_t d : e.shape) n *= d;
    for (std::size_t k = 1; k < e.shape.size(); ++k) fan_in *= e.shape[k];
    const bool vector = e.shape.size() == 1;
    std::vector<float> v(n);
    for (std::size_t j = 0; j < n; ++j) {
        const double u = uniform(seed, t, j);
        if (e.name.ends_with("running_var") || (vector && e.name.ends_with("weight"))) v[j] = float(0.5 + u);
        else if (vector) v[j] = float(0.2 * u - 0.1);
        else v[j] = float((2 * u - 1) / std::sqrt(double(fan_in)));
    }
    return v;
}

// tools/zoo_fixtures.py's seeded_input(): [batch, 3, size, size] channels-first, returned
// channels-last as typenet reads images.
inline std::vector<float> seeded_input_nhwc(std::uint64_t seed, std::size_t batch, std::size_t size) {
    const std::size_t plane = size * size;
    std::vector<float> x(batch * 3 * plane);
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t p = 0; p < plane; ++p)
                x[(b * plane + p) * 3 + c] = float(2 * uniform(seed + 1000, 0, (b * 3 + c) * plane + p) - 1);
    return x;
}

// The type's parameter names and shapes are torchvision's; its state_dict, drawn by the seeded
// generator and saved as safetensors (num_batches_tracked included, as torch.save-d models
// have it), loads through the ordinary path with nothing missing or unused; one image
// (forward) and a batch of three (predict) match PyTorch to `rel` of the largest output.
template <class Model>
void check_against_torchvision(const std::string& model, std::uint64_t seed, double rel = 1e-4) {
    const auto names = torchvision_names(model);
    REQUIRE(!names.empty());
    std::map<std::string, std::vector<std::size_t>> ours, theirs;
    std::size_t count = 0;
    for (const Entry& e : names)
        if (!e.name.ends_with("num_batches_tracked")) {
            theirs[e.name] = e.shape;
            ++count;
        }
    const auto& infos = tn::Net<Model>::param_infos();
    for (const auto& p : infos) ours[p.name] = std::vector<std::size_t>(p.spec.dims.begin(), p.spec.dims.begin() + p.spec.rank);
    REQUIRE(infos.size() == count);
    CHECK(ours == theirs);

    std::vector<std::vector<float>> values;
    std::vector<tn::NamedTensor> tensors;
    std::uint64_t t = 0;
    for (const Entry& e : names) {
        if (e.name.ends_with("num_batches_tracked")) values.push_back({0.f});
        else values.push_back(seeded_tensor(e, seed, t++));
    }
    for (std::size_t k = 0; k < names.size(); ++k) tensors.push_back({names[k].name, names[k].shape, values[k]});
    const auto file = std::filesystem::temp_directory_path() / ("typenet_zoo_" + model + ".safetensors");
    tn::write_safetensors(file, tensors);
    values.clear();
    auto net = tn::make<Model>();
    tn::load_weights(net, file, tn::from_pytorch);
    std::filesystem::remove(file);

    constexpr std::size_t batch = 3, in = Model::input_shape_type::size, out = Model::output_shape_type::size;
    const auto x = seeded_input_nhwc(seed, batch, Model::input_shape_type::dims[0]);
    REQUIRE(x.size() == batch * in);
    const auto expected = tn::SafetensorsFile::read(golden::path("zoo_" + model + ".out.safetensors")).floats("output");
    REQUIRE(expected.size() == batch * out);
    std::vector<float> y(batch * out);
    net.forward(x.data(), y.data());  // one image
    golden::require_close(y.data(), expected.data(), 1, out, rel);
    net.predict(x.data(), y.data(), batch);
    golden::require_close(y.data(), expected.data(), batch, out, rel);
}

}  // namespace zoo_test
