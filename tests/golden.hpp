// Helpers for the PyTorch golden fixtures (tools/make_fixtures.py writes them).
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include <typenet/typenet.hpp>

namespace golden {

inline std::string path(const std::string& file) { return std::string(TYPENET_FIXTURES) + "/" + file; }

struct Io {
    std::vector<float> input, output;
    std::size_t rows = 0, in_size = 0, out_size = 0;
};

inline Io io(const std::string& name) {
    const auto f = typenet::SafetensorsFile::read(path(name + ".io.safetensors"));
    Io r{f.floats("input"), f.floats("output"), f.find("input")->shape[0], 0, 0};
    r.in_size = r.input.size() / r.rows;
    r.out_size = r.output.size() / r.rows;
    return r;
}

// Agreement with PyTorch: |a - b| <= rel * max(|b|, largest |b| of that sample). Relative per
// element, except that an element far smaller than its row's largest value is held to the
// row's scale: float32 sums of many terms cannot give it more relative accuracy than that.
inline void require_close(const float* actual, const float* expected, std::size_t rows, std::size_t n, double rel = 1e-5) {
    for (std::size_t r = 0; r < rows; ++r) {
        double scale = 0;
        for (std::size_t i = 0; i < n; ++i) scale = std::max(scale, std::abs(double(expected[r * n + i])));
        for (std::size_t i = 0; i < n; ++i) {
            const double a = actual[r * n + i], b = expected[r * n + i];
            INFO("sample " << r << ", output " << i << ": typenet " << a << ", PyTorch " << b);
            REQUIRE(std::abs(a - b) <= rel * std::max(std::abs(b), scale));
        }
    }
}

// Loads the named fixture into a Net<Model> and checks one sample at a time (net(x)) and
// batches of 1, 3 and 17 (net.predict).
template <class Model>
void check_model(const std::string& name, double rel = 1e-5, const std::string& weights_suffix = ".weights.safetensors",
                 typenet::WeightConvention convention = typenet::from_pytorch) {
    auto net = typenet::make<Model>();
    typenet::load_weights(net, path(name + weights_suffix), convention);
    const Io d = io(name);
    REQUIRE(d.in_size == Model::input_shape_type::size);
    REQUIRE(d.out_size == Model::output_shape_type::size);
    SECTION("one sample at a time") {
        std::vector<float> y(d.out_size);
        for (std::size_t r = 0; r < d.rows; ++r) {
            net.forward(d.input.data() + r * d.in_size, y.data());
            require_close(y.data(), d.output.data() + r * d.out_size, 1, d.out_size, rel);
        }
    }
    for (std::size_t rows : {std::size_t{1}, std::size_t{3}, d.rows}) {
        DYNAMIC_SECTION("batch of " << rows) {
            std::vector<float> y(rows * d.out_size);
            net.predict(d.input.data(), y.data(), rows);
            require_close(y.data(), d.output.data(), rows, d.out_size, rel);
        }
    }
    SECTION("fused and unfused (tn::no_fusion) agree within 1e-6") {
        auto plain = typenet::make<Model, typenet::no_fusion>();
        plain.set_weights(net.get_weights());
        std::vector<float> y(d.rows * d.out_size), z(d.rows * d.out_size);
        net.predict(d.input.data(), y.data(), d.rows);
        plain.predict(d.input.data(), z.data(), d.rows);
        require_close(y.data(), z.data(), d.rows, d.out_size, 1e-6);
    }
}

// Streams every sample of a sequence fixture through one State: step by step, then in the
// given blocks (the last one takes the rest); each must equal net.forward on the whole
// sequence, bit for bit.
template <class Model>
void check_streaming(const std::string& name, std::initializer_list<std::size_t> sizes = {1, 7, 32},
                     typenet::WeightConvention convention = typenet::native) {
    auto net = typenet::make<Model>();
    typenet::load_weights(net, path(name + ".weights.safetensors"), convention);
    const Io d = io(name);
    constexpr std::size_t T = Model::input_shape_type::dims[0], F = Model::input_shape_type::dims[1];
    constexpr std::size_t out = Model::output_shape_type::size, per_step = out / T;
    auto st = net.make_state();
    for (std::size_t r = 0; r < d.rows; ++r) {
        const float* x = d.input.data() + r * T * F;
        std::vector<float> whole(out), stepped(out), blocks(out);
        net.forward(x, whole.data());
        st.reset();
        for (std::size_t t = 0; t < T; ++t) net.step(x + t * F, stepped.data() + t * per_step, st);
        REQUIRE(stepped == whole);
        st.reset();
        std::size_t t = 0;
        for (std::size_t k = 0; k <= sizes.size(); ++k) {
            const std::size_t n = k < sizes.size() ? std::min(sizes.begin()[k], T - t) : T - t;
            net.process(x + t * F, blocks.data() + t * per_step, n, st);
            t += n;
        }
        REQUIRE(t == T);
        REQUIRE(blocks == whole);
    }
}

}  // namespace golden
