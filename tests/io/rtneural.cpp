// RTNeural's own test models and the Python frameworks' outputs (../shared/rtneural-testdata:
// RTNeural's models/*.json and test_data/*.csv, data only), read through io/rtneural.hpp into
// typenet types, streamed sample by sample as RTNeural's tests stream them.
#include "rtneural_common.hpp"

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
