// For the graph examples: run a model on the inputs of its PyTorch fixture (written by
// tools/graph_fixtures.py) and compare every output with PyTorch's. The fixture holds
// "input.<name>" per model input and "output.<name>" per output, as the model names them.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <typenet/typenet.hpp>

namespace example {

// The fixture's name for input i / output o: the model's own, or "x" / "y" when it has none
// (a Sequential, an unnamed merge).
template <class Model>
std::string input_key(std::size_t i) {
    if constexpr (requires { Model::input_names; }) return "input." + std::string(Model::input_names[i]);
    else return "input.x";
}
template <class Model>
std::string output_key(std::size_t o) {
    if constexpr (requires { Model::output_names; })
        if (!Model::output_names[o].empty()) return "output." + std::string(Model::output_names[o]);
    return "output.y";
}

inline std::string fixture(const std::string& file) { return std::string(TYPENET_FIXTURES) + "/" + file; }

// Largest difference relative to each sample's largest |value|; prints one line per output.
template <class Model>
double max_error_vs_pytorch(const typenet::Net<Model>& net, const std::string& name) {
    const auto io = typenet::SafetensorsFile::read(fixture(name + ".io.safetensors"));
    std::vector<std::vector<float>> in, out(Model::n_outputs), ref;
    std::vector<const float*> ins;
    std::vector<float*> outs;
    std::size_t rows = 0;
    for (std::size_t i = 0; i < Model::n_inputs; ++i) {
        in.push_back(io.floats(input_key<Model>(i)));
        rows = io.find(input_key<Model>(i))->shape[0];
    }
    for (const auto& v : in) ins.push_back(v.data());
    double worst = 0;
    [&]<std::size_t... o>(std::index_sequence<o...>) {
        ((out[o].resize(rows * Model::template output_shape_at<o>::size), outs.push_back(out[o].data())), ...);
    }(std::make_index_sequence<Model::n_outputs>{});
    net.predict(ins.data(), outs.data(), rows);
    // The same weights with every fusion pass off (tn::no_fusion) give the same numbers.
    auto plain = typenet::make<Model, typenet::no_fusion>();
    plain.set_weights(net.get_weights());
    std::vector<std::vector<float>> plain_out(Model::n_outputs);
    std::vector<float*> plain_ptrs;
    for (std::size_t o = 0; o < Model::n_outputs; ++o) {
        plain_out[o].resize(out[o].size());
        plain_ptrs.push_back(plain_out[o].data());
    }
    plain.predict(ins.data(), plain_ptrs.data(), rows);
    double fusion_err = 0;
    for (std::size_t o = 0; o < Model::n_outputs; ++o) {
        const std::string key = output_key<Model>(o);
        const std::vector<float> expected = io.floats(key);
        const std::size_t n = expected.size() / rows;
        double err = 0;
        for (std::size_t r = 0; r < rows; ++r) {
            double scale = 1e-30;
            for (std::size_t i = 0; i < n; ++i) scale = std::max(scale, std::abs(double(expected[r * n + i])));
            for (std::size_t i = 0; i < n; ++i)
                err = std::max(err, std::abs(double(out[o][r * n + i]) - double(expected[r * n + i])) / scale);
        }
        double unfused = 0;
        for (std::size_t r = 0; r < rows; ++r) {
            double scale = 1e-30;
            for (std::size_t i = 0; i < n; ++i) scale = std::max(scale, std::abs(double(out[o][r * n + i])));
            for (std::size_t i = 0; i < n; ++i)
                unfused = std::max(unfused, std::abs(double(out[o][r * n + i]) - double(plain_out[o][r * n + i])) / scale);
        }
        std::printf("  %-14s %zu samples x %zu values, largest difference from PyTorch: %.2e (relative); fused vs "
                    "unfused: %.2e\n",
                    key.c_str(), rows, n, err, unfused);
        worst = std::max(worst, err);
        fusion_err = std::max(fusion_err, unfused);
    }
    return fusion_err <= 1e-6 ? worst : 1.0;
}

}  // namespace example
