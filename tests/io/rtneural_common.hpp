// Shared by tests/io/rtneural.cpp and rtneural_torch.cpp: RTNeural's test data, the models as
// types, and the helpers (two translation units, so that the two halves build in parallel).
#pragma once
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <typenet/typenet.hpp>

#include "sequences/rtneural_models.hpp"

namespace tn = typenet;

namespace {

[[maybe_unused]] std::string data(const std::string& file) { return std::string(TYPENET_RTNEURAL_TESTDATA) + "/" + file; }

// A CSV of numbers: one vector per line.
[[maybe_unused]] std::vector<std::vector<double>> csv(const std::string& file) {
    std::ifstream in(data(file));
    REQUIRE(in.good());
    std::vector<std::vector<double>> rows;
    std::string line, cell;
    while (std::getline(in, line)) {
        std::vector<double>& row = rows.emplace_back();
        std::stringstream s(line);
        while (std::getline(s, cell, ',')) row.push_back(std::stod(cell));
    }
    return rows;
}
[[maybe_unused]] std::vector<float> column(const std::string& file) {
    std::vector<float> v;
    for (const auto& r : csv(file)) v.push_back(float(r.at(0)));
    return v;
}

// The model streamed over the whole input, one sample per step (RTNeural's forward), and as
// one sequence; both within `tol` of the reference at every sample, and bitwise equal.
template <class M>
void check_stream(const tn::Net<M>& net, const std::vector<float>& x, const std::vector<float>& expected, double tol) {
    constexpr std::size_t T = M::input_shape_type::dims[0];
    REQUIRE(x.size() == T);
    REQUIRE(expected.size() == T);
    auto st = net.make_state();
    std::vector<float> stepped(T), whole(T);
    for (std::size_t t = 0; t < T; ++t) net.step(&x[t], &stepped[t], st);
    net.forward(x.data(), whole.data());
    REQUIRE(stepped == whole);
    double worst = 0;
    for (std::size_t t = 0; t < T; ++t) worst = std::max(worst, std::abs(double(whole[t]) - expected[t]));
    INFO("worst absolute difference " << worst);
    REQUIRE(worst <= tol);
}

using DenseNet = tn::Sequential<tn::Input<1>, tn::Dense<8>, tn::Tanh, tn::Dense<8>, tn::ReLU, tn::Dense<8>, tn::ELU, tn::Dense<8>,
                                tn::Softmax, tn::Dense<1>, tn::Dense<8, tn::no_bias>, tn::Dense<8, tn::no_bias>, tn::Dense<1, tn::no_bias>>;
using GruNet = tn::Sequential<tn::Input<100, 1>, tn::Dense<8, tn::tanh>, tn::GRU<8, tn::return_sequences>, tn::Dense<8, tn::sigmoid>,
                              tn::Dense<1>>;
using Gru1dNet = rtneural_models::Gru1d<100>;
using LstmNet = tn::Sequential<tn::Input<100, 1>, tn::Dense<8, tn::tanh>, tn::LSTM<8, tn::return_sequences>, tn::Dense<1>>;
using Lstm1dNet = rtneural_models::Lstm1d<100>;
using ConvNet = rtneural_models::Conv<100>;
using ConvStateless =
    tn::Sequential<tn::Input<128, 1>, tn::Conv1D<12, tn::kernel<65>>, tn::PReLU<>, tn::BatchNorm<1, 100>, tn::Conv1D<8, tn::kernel<33>>,
                   tn::PReLU<>, tn::BatchNorm<1, 100>, tn::Conv1D<4, tn::kernel<13>>, tn::PReLU<>, tn::BatchNorm<1, 100>,
                   tn::Conv1D<1, tn::kernel<5>, tn::tanh>>;
using TorchGru = tn::Sequential<tn::Input<1000, 1>, tn::Named<"gru", tn::GRU<8, tn::return_sequences>>,
                                tn::Named<"gru2", tn::GRU<8, tn::return_sequences, tn::num_layers<3>>>, tn::Named<"dense", tn::Dense<1>>>;
using TorchLstm = tn::Sequential<tn::Input<1000, 1>, tn::Named<"lstm", tn::LSTM<8, tn::return_sequences>>,
                                 tn::Named<"lstm2", tn::LSTM<8, tn::return_sequences, tn::num_layers<3>>>, tn::Named<"dense", tn::Dense<1>>>;

template <class M>
tn::Net<M> loaded(const std::string& model, const tn::LoadOptions& options = {}) {
    auto net = tn::make<M>();
    tn::load_rtneural(net, data("models/" + model), options);
    return net;
}
// A lone nn.Conv1d's state_dict: "weight", "bias" for typenet's "0.weight", "0.bias".
[[maybe_unused]] const tn::LoadOptions lone_module{.rename = {{"0.", ""}}};

}  // namespace
