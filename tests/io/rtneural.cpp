// RTNeural's own test models and the Python frameworks' outputs (../shared/rtneural-testdata:
// RTNeural's models/*.json and test_data/*.csv, data only), read through io/rtneural.hpp into
// typenet types, streamed sample by sample as RTNeural's tests stream them.
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

std::string data(const std::string& file) { return std::string(TYPENET_RTNEURAL_TESTDATA) + "/" + file; }

// A CSV of numbers: one vector per line.
std::vector<std::vector<double>> csv(const std::string& file) {
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
std::vector<float> column(const std::string& file) {
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
const tn::LoadOptions lone_module{.rename = {{"0.", ""}}};

}  // namespace

TEST_CASE("RTNeural's Keras models reproduce its Python references", "[rtneural][golden]") {
    SECTION("dense.json: Dense with tanh, relu, elu, softmax layers; Dense without bias") {
        auto net = loaded<DenseNet>("dense.json");
        const auto x = column("test_data/dense_x_python.csv"), y = column("test_data/dense_y_python.csv");
        double worst = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            float out = 0;
            net.forward(&x[i], &out);
            worst = std::max(worst, std::abs(double(out) - y[i]));
        }
        REQUIRE(worst <= 1e-6);
    }
    SECTION("gru.json, gru_1d.json: time-distributed Dense, GRU (reset_after), Dense") {
        check_stream(loaded<GruNet>("gru.json"), column("test_data/gru_x_python.csv"), column("test_data/gru_y_python.csv"), 5e-6);
        check_stream(loaded<Gru1dNet>("gru_1d.json"), column("test_data/gru_1d_x_python.csv"), column("test_data/gru_1d_y_python.csv"), 1e-6);
    }
    SECTION("lstm.json, lstm_1d.json") {
        check_stream(loaded<LstmNet>("lstm.json"), column("test_data/lstm_x_python.csv"), column("test_data/lstm_y_python.csv"), 1e-6);
        check_stream(loaded<Lstm1dNet>("lstm_1d.json"), column("test_data/lstm_1d_x_python.csv"), column("test_data/lstm_1d_y_python.csv"), 1e-6);
    }
    SECTION("conv.json: causal Conv1D (dilation, groups), BatchNorm with and without scale, PReLU per channel and shared") {
        check_stream(loaded<ConvNet>("conv.json"), column("test_data/conv_x_python.csv"), column("test_data/conv_y_python.csv"), 1e-6);
    }
    SECTION("conv_stateless.json: valid Conv1D over a 128-sample block") {
        auto net = loaded<ConvStateless>("conv_stateless.json");
        const auto x = column("test_data/conv_stateless_x_python.csv"), y = column("test_data/conv_stateless_y_python.csv");
        std::vector<float> out(16);
        net.forward(x.data(), out.data());
        for (std::size_t i = 0; i < 16; ++i) REQUIRE(std::abs(double(out[i]) - y[i]) <= 1e-6);
    }
}

TEST_CASE("RTNeural's PyTorch state_dict files load as PyTorch files", "[rtneural][golden]") {
    SECTION("gru_torch.json: GRU, then a three-layer GRU, then Linear") {
        check_stream(loaded<TorchGru>("gru_torch.json"), column("test_data/gru_torch_x_python.csv"), column("test_data/gru_torch_y_python.csv"),
                     1e-6);
    }
    SECTION("lstm_torch.json") {
        check_stream(loaded<TorchLstm>("lstm_torch.json"), column("test_data/lstm_torch_x_python.csv"),
                     column("test_data/lstm_torch_y_python.csv"), 1e-6);
    }
    // Conv1d outputs: the CSV has a row per channel, a column per output step.
    auto check_conv = []<class M>(const tn::Net<M>& net, const std::vector<float>& x, const std::string& y_file) {
        using Out = typename M::output_shape_type;
        constexpr std::size_t T = Out::dims[0], C = Out::dims[1];
        const auto y = csv(y_file);
        REQUIRE(y.size() == C);
        std::vector<float> out(Out::size);
        net.forward(x.data(), out.data());
        for (std::size_t c = 0; c < C; ++c) {
            REQUIRE(y[c].size() == T);
            for (std::size_t t = 0; t < T; ++t) REQUIRE(std::abs(double(out[t * C + c]) - y[c][t]) <= 1e-6);
        }
    };
    SECTION("conv1d_torch.json: Conv1d(1, 12, 5), and streamed causally (output t + 4 is valid output t)") {
        using Valid = tn::Sequential<tn::Input<1000, 1>, tn::Conv1D<12, tn::kernel<5>>>;
        const auto x = column("test_data/conv1d_torch_x_python.csv");
        check_conv(loaded<Valid>("conv1d_torch.json", lone_module), x, "test_data/conv1d_torch_y_python.csv");
        using Causal = tn::Sequential<tn::Input<1, 1>, tn::Conv1D<12, tn::kernel<5>, tn::padding_causal>>;
        const auto net = loaded<Causal>("conv1d_torch.json", lone_module);
        const auto y = csv("test_data/conv1d_torch_y_python.csv");
        auto st = net.make_state();
        float out[12];
        for (std::size_t t = 0; t < x.size(); ++t) {
            net.step(&x[t], out, st);
            if (t >= 4)
                for (std::size_t c = 0; c < 12; ++c) REQUIRE(std::abs(double(out[c]) - y[c][t - 4]) <= 1e-6);
        }
    }
    SECTION("conv1d_torch_stride_3.json: stride 3") {
        using Strided = tn::Sequential<tn::Input<1000, 1>, tn::Conv1D<12, tn::kernel<5>, tn::stride<3>>>;
        check_conv(loaded<Strided>("conv1d_torch_stride_3.json", lone_module), column("test_data/conv1d_torch_x_python_stride_3.csv"),
                   "test_data/conv1d_torch_y_python_stride_3.csv");
    }
    SECTION("conv1d_torch_group_*.json: groups, dilation, depthwise") {
        std::vector<float> x;
        for (const auto& r : csv("test_data/conv1d_torch_group_x_python.csv")) x.insert(x.end(), r.begin(), r.end());
        REQUIRE(x.size() == 500 * 6);
        check_conv(loaded<tn::Sequential<tn::Input<500, 6>, tn::Conv1D<3, tn::kernel<3>, tn::groups<3>>>>("conv1d_torch_group_6_3_3_1_3.json", lone_module),
                   x, "test_data/conv1d_torch_group_y_python_6_3_3_1_3.csv");
        check_conv(loaded<tn::Sequential<tn::Input<500, 6>, tn::Conv1D<3, tn::kernel<4>, tn::dilation<10>, tn::groups<3>>>>(
                       "conv1d_torch_group_6_3_4_10_3.json", lone_module),
                   x, "test_data/conv1d_torch_group_y_python_6_3_4_10_3.csv");
        check_conv(loaded<tn::Sequential<tn::Input<500, 6>, tn::Conv1D<6, tn::kernel<1>, tn::groups<6>>>>("conv1d_torch_group_6_6_1_1_6.json", lone_module),
                   x, "test_data/conv1d_torch_group_y_python_6_6_1_1_6.csv");
    }
}

TEST_CASE("an RTNeural file that does not fit the type is refused in words and changes nothing", "[rtneural][io]") {
    SECTION("bad_lstm.json declares 16 units with weights for 20 (RTNeural's own bad-model test)") {
        REQUIRE_THROWS_WITH(tn::read_rtneural(data("models/bad_lstm.json")),
                            Catch::Contains("layer 0 (lstm) declares 16 outputs but its weights are for 20"));
    }
    SECTION("another activation") {
        using Relu = tn::Sequential<tn::Input<100, 1>, tn::Dense<8, tn::relu>, tn::GRU<8, tn::return_sequences>, tn::Dense<8, tn::sigmoid>, tn::Dense<1>>;
        auto net = tn::make<Relu>();
        const auto before = net.get_weights();
        REQUIRE_THROWS_WITH(tn::load_rtneural(net, data("models/gru.json")),
                            Catch::Contains("layer 0 (time-distributed-dense) and the model's '0' Dense<8, relu>") &&
                                Catch::Contains("the file applies [tanh] after it, the model [relu]"));
        REQUIRE(net.get_weights() == before);
    }
    SECTION("another kind of layer, another count of layers") {
        auto lstm = tn::make<tn::Sequential<tn::Input<100, 1>, tn::Dense<8, tn::tanh>, tn::LSTM<8, tn::return_sequences>, tn::Dense<8, tn::sigmoid>, tn::Dense<1>>>();
        REQUIRE_THROWS_WITH(tn::load_rtneural(lstm, data("models/gru.json")),
                            Catch::Contains("layer 1 (gru) and the model's '1' LSTM<8, return_sequences> are different kinds of layer"));
        auto short_net = tn::make<Lstm1dNet>();
        REQUIRE_THROWS_WITH(tn::load_rtneural(short_net, data("models/lstm.json")),
                            Catch::Contains("the file has 3 layers with weights [0 time-distributed-dense, 1 lstm, 2 dense], the model 2"));
    }
    SECTION("another size: the tensor is named with both shapes") {
        auto wide = tn::make<tn::Sequential<tn::Input<100, 1>, tn::LSTM<9, tn::return_sequences>, tn::Dense<1>>>();
        REQUIRE_THROWS_WITH(tn::load_rtneural(wide, data("models/lstm_1d.json")),
                            Catch::Contains("'lstm/kernel'") && Catch::Contains("has shape [1, 32], expected [1, 36]"));
    }
    SECTION("another dilation, another epsilon") {
        using Dil = tn::Sequential<tn::Input<100, 1>, tn::Dense<8, tn::tanh>, tn::Conv1D<4, tn::kernel<3>, tn::padding_causal, tn::tanh>,
                                   tn::BatchNorm<1, 100>, tn::PReLU<>, tn::Conv1D<4, tn::kernel<1>, tn::padding_causal, tn::tanh>,
                                   tn::Conv1D<6, tn::kernel<3>, tn::dilation<3>, tn::groups<2>, tn::padding_causal, tn::tanh>,
                                   tn::BatchNorm<5, 1>, tn::PReLU<1>, tn::Dense<1, tn::sigmoid>>;
        auto d = tn::make<Dil>();
        REQUIRE_THROWS_WITH(tn::load_rtneural(d, data("models/conv.json")), Catch::Contains("dilation 2 vs 3"));
        using Eps = tn::Sequential<tn::Input<100, 1>, tn::Dense<8, tn::tanh>, tn::Conv1D<4, tn::kernel<3>, tn::padding_causal, tn::tanh>,
                                   tn::BatchNorm<>, tn::PReLU<>, tn::Conv1D<4, tn::kernel<1>, tn::padding_causal, tn::tanh>,
                                   tn::Conv1D<6, tn::kernel<3>, tn::dilation<2>, tn::groups<2>, tn::padding_causal, tn::tanh>,
                                   tn::BatchNorm<5, 1>, tn::PReLU<1>, tn::Dense<1, tn::sigmoid>>;
        auto e = tn::make<Eps>();
        REQUIRE_THROWS_WITH(tn::load_rtneural(e, data("models/conv.json")), Catch::Contains("epsilon 0.01 vs 0.00001"));
    }
    SECTION("a PyTorch state_dict with a layer the type lacks names its tensors") {
        using OneGru = tn::Sequential<tn::Input<1000, 1>, tn::Named<"gru", tn::GRU<8, tn::return_sequences>>, tn::Named<"dense", tn::Dense<1>>>;
        auto net = tn::make<OneGru>();
        REQUIRE_THROWS_WITH(tn::load_rtneural(net, data("models/gru_torch.json")),
                            Catch::Contains("unexpected tensors") && Catch::Contains("'gru2.weight_ih_l2' [24, 8]"));
    }
    SECTION("malformed JSON") {
        REQUIRE_THROWS_WITH(tn::parse_rtneural(std::string_view(R"({"a": [1, 2], "a": [3]})")), Catch::Contains("the key 'a' is given twice"));
        REQUIRE_THROWS_WITH(tn::parse_rtneural(std::string_view(R"({"w": [[1, 2], [3]]})")), Catch::Contains("not a rectangular array"));
        REQUIRE_THROWS_WITH(tn::parse_rtneural(std::string_view(R"({"w": [[[[[[[[[[1]]]]]]]]]]})")), Catch::Contains("nests deeper than 8"));
        REQUIRE_THROWS_WITH(tn::parse_rtneural(std::string_view(R"({"layers": [{"type": "dense", "weights": [[["x"]]]}]})")),
                            Catch::Contains("holds string where a number belongs"));
        REQUIRE_NOTHROW(tn::parse_rtneural(std::string_view(R"({"layers": [{"type": "conv2d", "weights": []}]})")));  // read; refused when loaded:
        auto net = tn::make<Lstm1dNet>();
        REQUIRE_THROWS_WITH(tn::load_rtneural(net, tn::parse_rtneural(std::string_view(R"({"layers": [{"type": "conv2d", "weights": []}]})"))),
                            Catch::Contains("not 'conv2d'"));
        REQUIRE(tn::try_load_rtneural(net, tn::parse_rtneural(std::string_view(R"({"layers": []})"))).has_value());
    }
}
