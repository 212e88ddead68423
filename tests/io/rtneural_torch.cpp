// RTNeural's own test models and the Python frameworks' outputs (../shared/rtneural-testdata:
// RTNeural's models/*.json and test_data/*.csv, data only), read through io/rtneural.hpp into
// typenet types, streamed sample by sample as RTNeural's tests stream them.
// (This half: the PyTorch-form files and the refusals.)
#include "rtneural_common.hpp"

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
        REQUIRE_THROWS_WITH(tn::parse_rtneural(std::string_view(R"({"a": [1, 2], "a": [3]})")), Catch::Contains("the JSON gives the key 'a' twice"));
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
