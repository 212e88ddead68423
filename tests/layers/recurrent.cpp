// SimpleRNN, GRU and LSTM against PyTorch (tools/sequence_fixtures.py): whole sequences one
// at a time and in batches, then streamed — step by step and in blocks of several sizes —
// which must give bitwise the outputs of the whole sequence.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "../golden.hpp"

namespace tn = typenet;

namespace {

using Gru2 = tn::Sequential<tn::Input<23, 3>, tn::GRU<37, tn::return_sequences, tn::num_layers<2>>, tn::Dense<2>>;
using Lstm1 = tn::Sequential<tn::Input<40, 1>, tn::LSTM<29, tn::return_sequences>, tn::Dense<1>>;
using Gru1 = tn::Sequential<tn::Input<40, 1>, tn::GRU<29, tn::return_sequences>, tn::Dense<1>>;
using Lstm2 = tn::Sequential<tn::Input<23, 3>, tn::LSTM<37, tn::return_sequences, tn::num_layers<2>>, tn::Dense<4>>;
using RnnTanh = tn::Sequential<tn::Input<17, 4>, tn::SimpleRNN<13, tn::return_sequences>, tn::Dense<3>>;
using RnnRelu = tn::Sequential<tn::Input<17, 4>, tn::SimpleRNN<13, tn::relu, tn::return_sequences, tn::no_bias>>;
using GruLast = tn::Sequential<tn::Input<19, 3>, tn::GRU<16>, tn::Dense<3>>;
using LstmBi = tn::Sequential<tn::Input<11, 3>, tn::LSTM<7, tn::return_sequences, tn::num_layers<2>, tn::bidirectional>>;
using GruBiLast = tn::Sequential<tn::Input<13, 3>, tn::GRU<11, tn::bidirectional>>;

}  // namespace


TEST_CASE("recurrent layers: shapes, parameters and state sizes are constants", "[recurrent]") {
    STATIC_REQUIRE(std::is_same_v<Gru2::output_shape_type, tn::Shape<23, 2>>);
    STATIC_REQUIRE(std::is_same_v<GruLast::output_shape_type, tn::Shape<3>>);
    STATIC_REQUIRE(std::is_same_v<LstmBi::output_shape_type, tn::Shape<11, 14>>);
    STATIC_REQUIRE(std::is_same_v<GruBiLast::output_shape_type, tn::Shape<22>>);
    // PyTorch's parameter counts: 3H(F + H + 2) per GRU layer, 4H(F + H + 2) per LSTM layer
    STATIC_REQUIRE(Gru2::param_count == 3 * 37 * (3 + 37 + 2) + 3 * 37 * (37 + 37 + 2) + 2 * 37 + 2);
    STATIC_REQUIRE(LstmBi::param_count == 2 * 4 * 7 * (3 + 7 + 2) + 2 * 4 * 7 * (14 + 7 + 2));
    STATIC_REQUIRE(tn::Net<Gru2>::state_floats == 2 * 37);             // h_n [2, 37]
    STATIC_REQUIRE(tn::Net<Lstm2>::state_floats == 2 * 2 * 37);         // h_n and c_n
    STATIC_REQUIRE(tn::Net<LstmBi>::state_floats == 2 * 2 * 2 * 7);     // [layers x dirs, H] each
    STATIC_REQUIRE(tn::Net<RnnRelu>::state_floats == 13);
}

TEST_CASE("GRU, two layers, input 3, hidden 37 matches PyTorch", "[recurrent][golden]") {
    golden::check_model<Gru2>("gru_3_37_2l", 2e-5);
    golden::check_streaming<Gru2>("gru_3_37_2l");
}
TEST_CASE("LSTM, input 1, hidden 29 matches PyTorch", "[recurrent][golden]") {
    golden::check_model<Lstm1>("lstm_1_29", 2e-5);
    golden::check_streaming<Lstm1>("lstm_1_29");
}
TEST_CASE("GRU, input 1, hidden 29 matches PyTorch", "[recurrent][golden]") {
    golden::check_model<Gru1>("gru_1_29", 2e-5);
    golden::check_streaming<Gru1>("gru_1_29");
}
TEST_CASE("LSTM, two layers, input 3, hidden 37 matches PyTorch", "[recurrent][golden]") {
    golden::check_model<Lstm2>("lstm_3_37_2l", 2e-5);
    golden::check_streaming<Lstm2>("lstm_3_37_2l");
}
TEST_CASE("SimpleRNN tanh and relu (no bias) match PyTorch's nn.RNN", "[recurrent][golden]") {
    golden::check_model<RnnTanh>("rnn_tanh_4_13", 2e-5);
    golden::check_streaming<RnnTanh>("rnn_tanh_4_13");
    golden::check_model<RnnRelu>("rnn_relu_4_13", 2e-5);
    golden::check_streaming<RnnRelu>("rnn_relu_4_13");
}
TEST_CASE("GRU's last step only (h_n) then Dense matches PyTorch; stepping gives each step's", "[recurrent][golden]") {
    golden::check_model<GruLast>("gru_last_3_16", 2e-5);
    // A last-step model streams too: step t returns what the sequence up to t would end with.
    auto net = tn::make<GruLast>();
    tn::load_weights(net, golden::path("gru_last_3_16.weights.safetensors"));
    const golden::Io d = golden::io("gru_last_3_16");
    auto st = net.make_state();
    tn::Net<GruLast>::step_output_type y;
    tn::Net<GruLast>::step_input_type x;
    for (std::size_t t = 0; t < 19; ++t) {
        std::copy_n(d.input.data() + 3 * t, 3, x.data());
        y = net.step(x, st);
    }
    std::vector<float> whole(3);
    net.forward(d.input.data(), whole.data());
    REQUIRE(std::equal(whole.begin(), whole.end(), y.data()));
}
TEST_CASE("bidirectional LSTM (two layers, every step) and GRU (h_n of both directions) match PyTorch", "[recurrent][golden]") {
    golden::check_model<LstmBi>("lstm_bi_3_7_2l", 2e-5);
    golden::check_model<GruBiLast>("gru_bi_last_3_11", 2e-5);
}

TEST_CASE("an LSTM of two units (gates packed two to a vector) matches PyTorch, exact and fast, streamed bitwise", "[recurrent][golden]") {
    using Pair = tn::Sequential<tn::Input<31, 2>, tn::LSTM<2, tn::return_sequences, tn::num_layers<2>>, tn::Dense<1>>;
    STATIC_REQUIRE(tn::kernels::RecurrentPacking<tn::kernels::Cell::lstm, 2, 2>::paired);
    golden::check_model<Pair>("lstm_2_2_2l", 2e-5);
    golden::check_streaming<Pair>("lstm_2_2_2l");
    golden::check_model<tn::with_fast_activations<Pair>>("lstm_2_2_2l", 1e-4);
    golden::check_streaming<tn::with_fast_activations<Pair>>("lstm_2_2_2l");
}

TEST_CASE("a given initial state (PyTorch's h0, c0) through State::of", "[recurrent][golden]") {
    using M = tn::Sequential<tn::Input<15, 2>, tn::LSTM<9, tn::return_sequences, tn::num_layers<2>>>;
    auto net = tn::make<M>();
    tn::load_weights(net, golden::path("lstm_h0_2_9.weights.safetensors"));
    const auto f = tn::SafetensorsFile::read(golden::path("lstm_h0_2_9.io.safetensors"));
    const auto x = f.floats("input"), expected = f.floats("output"), h0 = f.floats("h0"), c0 = f.floats("c0");
    auto st = net.make_state();
    REQUIRE(tn::Net<M>::State::layers() == std::vector<std::string>{"0"});
    auto s = st.of("0");
    REQUIRE(s.size() == 2 * 2 * 9);
    std::copy(h0.begin(), h0.end(), s.begin());
    std::copy(c0.begin(), c0.end(), s.begin() + 18);
    auto start = st;  // a copy forks the stream
    std::vector<float> y(15 * 9), z(15 * 9);
    net.forward(x.data(), y.data(), st);
    golden::require_close(y.data(), expected.data(), 15, 9, 2e-5);
    net.process(x.data(), z.data(), 15, start);
    REQUIRE(y == z);
    REQUIRE(std::equal(st.values().begin(), st.values().end(), start.values().begin()));
    REQUIRE_THROWS_WITH(st.of("1"), Catch::Contains("no layer with state at \"1\"") && Catch::Contains("layers with state: 0"));
}

TEST_CASE("a two-layer PyTorch GRU loaded into a one-layer type names the unused layer-1 tensors", "[recurrent][io]") {
    using OneLayer = tn::Sequential<tn::Input<23, 3>, tn::GRU<37, tn::return_sequences>, tn::Dense<2>>;
    auto net = tn::make<OneLayer>();
    const auto before = net.get_weights();
    REQUIRE_THROWS_WITH(tn::load_weights(net, golden::path("gru_3_37_2l.weights.safetensors")),
                        Catch::Contains("unexpected tensors") && Catch::Contains("'0.weight_ih_l1' [111, 37]") &&
                            Catch::Contains("'0.weight_hh_l1' [111, 37]") && Catch::Contains("'0.bias_ih_l1' [111]") &&
                            Catch::Contains("'0.bias_hh_l1' [111]"));
    REQUIRE(net.get_weights() == before);  // nothing changed
}

// Keras' layouts (tools/sequence_fixtures.py: keras_fixtures): kernel [F, G*U],
// recurrent_kernel [U, G*U], gates z, r, h for the GRU; its bias [2, 3U] with reset_after and
// [3U] without; the LSTM's one bias. The GRU references follow Keras' equations.
namespace {
using KerasGru = tn::Sequential<tn::Input<21, 3>, tn::GRU<19, tn::return_sequences>, tn::Dense<2>>;
using KerasGruBefore = tn::Sequential<tn::Input<21, 3>, tn::GRU<19, tn::return_sequences, tn::reset_before>, tn::Dense<2>>;
using KerasLstm = tn::Sequential<tn::Input<21, 3>, tn::LSTM<19, tn::return_sequences>, tn::Dense<2>>;
}  // namespace

TEST_CASE("Keras GRU (reset_after true and false) and LSTM files load and match Keras' equations", "[recurrent][golden][keras]") {
    golden::check_model<KerasGru>("keras_gru_reset_after", 2e-5, ".weights.safetensors", tn::from_keras);
    golden::check_streaming<KerasGru>("keras_gru_reset_after", {1, 7, 32}, tn::from_keras);
    golden::check_model<KerasGruBefore>("keras_gru_reset_before", 2e-5, ".weights.safetensors", tn::from_keras);
    golden::check_streaming<KerasGruBefore>("keras_gru_reset_before", {1, 7, 32}, tn::from_keras);
    golden::check_model<KerasLstm>("keras_lstm", 2e-5, ".weights.safetensors", tn::from_keras);
    golden::check_streaming<KerasLstm>("keras_lstm", {1, 7, 32}, tn::from_keras);
    STATIC_REQUIRE(KerasGruBefore::param_count == KerasGru::param_count);  // the same tensors, another cell
}

TEST_CASE("a Keras reset_after=False GRU file is refused by a reset_after type, naming the bias", "[recurrent][keras][io]") {
    auto net = tn::make<KerasGru>();
    REQUIRE_THROWS_WITH(tn::load_weights(net, golden::path("keras_gru_reset_before.weights.safetensors"), tn::from_keras),
                        Catch::Contains("'gru/bias'") && Catch::Contains("has shape [57], expected [2, 57]"));
}

TEST_CASE("PyTorch weights saved in Keras' layout load back to the same outputs, bit for bit", "[recurrent][keras][io]") {
    auto round_trip = []<class M>(const std::string& fixture, M*) {
        auto net = tn::make<M>();
        tn::load_weights(net, golden::path(fixture + ".weights.safetensors"), tn::from_pytorch);
        const std::string file = (std::filesystem::temp_directory_path() / ("typenet_keras_round_trip_" + fixture + ".safetensors")).string();
        tn::save_weights(net, file, tn::to_keras);
        auto back = tn::make<M>();
        tn::load_weights(back, file, tn::from_keras);
        const golden::Io d = golden::io(fixture);
        std::vector<float> y(d.rows * d.out_size), z(d.rows * d.out_size);
        net.predict(d.input.data(), y.data(), d.rows);
        back.predict(d.input.data(), z.data(), d.rows);
        REQUIRE(y == z);
        const auto keras = tn::SafetensorsFile::read(file);
        return keras;
    };
    const auto gru = round_trip("gru_1_29", static_cast<Gru1*>(nullptr));
    REQUIRE(gru.find("gru/bias")->shape == std::vector<std::size_t>{2, 87});
    REQUIRE(gru.find("gru/kernel")->shape == std::vector<std::size_t>{1, 87});
    const auto lstm = round_trip("lstm_3_37_2l", static_cast<Lstm2*>(nullptr));  // biases summed; layer 1 as _l1
    REQUIRE(lstm.find("lstm/bias")->shape == std::vector<std::size_t>{148});
    REQUIRE(lstm.find("lstm/recurrent_kernel_l1")->shape == std::vector<std::size_t>{37, 148});
    const auto bi = round_trip("gru_bi_last_3_11", static_cast<GruBiLast*>(nullptr));
    REQUIRE(bi.find("bidirectional/backward_gru/recurrent_kernel")->shape == std::vector<std::size_t>{11, 33});
}

// tn::fast_activations, as an option and as a policy: the same weights and names, within
// the fast functions' error of PyTorch, and streamed bit for bit like the exact ones.
TEST_CASE("fast activations: GRU and LSTM within 1e-4 of PyTorch, streamed bitwise", "[recurrent][golden][fast]") {
    using FastGru = tn::Sequential<tn::Input<40, 1>, tn::GRU<29, tn::return_sequences, tn::fast_activations>, tn::Dense<1>>;
    STATIC_REQUIRE(std::is_same_v<tn::with_fast_activations<Gru1>, FastGru>);
    golden::check_model<FastGru>("gru_1_29", 1e-4);
    golden::check_streaming<FastGru>("gru_1_29");
    golden::check_model<tn::with_fast_activations<Lstm2>>("lstm_3_37_2l", 1e-4);
    golden::check_streaming<tn::with_fast_activations<Lstm2>>("lstm_3_37_2l");
    golden::check_model<tn::with_fast_activations<KerasGruBefore>>("keras_gru_reset_before", 1e-4, ".weights.safetensors", tn::from_keras);
    // Small layers keep their state in registers: an 8-unit GRU and LSTM, exact and fast.
    using Small = tn::Sequential<tn::Input<40, 1>, tn::LSTM<8, tn::return_sequences>, tn::GRU<8, tn::return_sequences>, tn::Dense<1>>;
    auto exact = tn::make<Small>(tn::seed{4});
    auto fast = tn::make<Small, tn::fast_activations>();
    fast.set_weights(exact.get_weights());
    std::vector<float> x(40), a(40), b(40);
    for (std::size_t t = 0; t < 40; ++t) x[t] = std::sin(0.3f * float(t));
    exact.forward(x.data(), a.data());
    fast.forward(x.data(), b.data());
    golden::require_close(b.data(), a.data(), 1, 40, 1e-4);
    auto st = fast.make_state();
    std::vector<float> c(40);
    for (std::size_t t = 0; t < 40; ++t) fast.step(&x[t], &c[t], st);
    REQUIRE(c == b);
}

// bf16_weights on recurrent layers (kernels/recurrent.hpp: W_hh as bf16 pairs (to nearest
// even), h rounded to bf16 (to nearest, ties away) inside each step's product, everything else
// fp32): against a scalar model of exactly
// that scheme in double precision, against PyTorch's fp32 outputs within bf16's error, and
// streamed bit for bit. Layers under 16 units stay fp32 under the policy.
namespace {
float bf(float v) { return tn::kernels::from_bf16(tn::kernels::to_bf16(v)); }
float bf_away(float v) { return tn::kernels::from_bf16(tn::kernels::to_bf16_away(v)); }  // the state's rounding
double sigmoid(double v) { return 1 / (1 + std::exp(-v)); }

// One layer, return_sequences, zero initial state; w: the layer's canonical weights
// (weight_ih [G*H][F], weight_hh [G*H][H], bias_ih, bias_hh).
template <tn::kernels::Cell C, bool ResetAfter = true>
std::vector<float> bf16_reference(const std::vector<float>& w, const float* x, std::size_t T, std::size_t F, std::size_t H) {
    constexpr std::size_t G = tn::kernels::cell_gates<C>;
    const float* wi = w.data();
    const float* wh = wi + G * H * F;
    const float* bi = wh + G * H * H;
    const float* bh = bi + G * H;
    std::vector<double> h(H, 0.0), c(H, 0.0), a(G * H), ah(G * H);
    std::vector<float> y(T * H);
    auto hidden = [&](const std::vector<double>& v, std::size_t g0, std::size_t ng) {  // W_hh v, v and W_hh in bf16
        for (std::size_t o = g0 * H; o < (g0 + ng) * H; ++o) {
            double s = 0;
            for (std::size_t k = 0; k < H; ++k) s += double(bf(wh[o * H + k])) * double(bf_away(float(v[k])));
            ah[o] = s;
        }
    };
    for (std::size_t t = 0; t < T; ++t) {
        for (std::size_t o = 0; o < G * H; ++o) {
            double s = bi[o];
            for (std::size_t f = 0; f < F; ++f) s += double(wi[o * F + f]) * x[t * F + f];
            a[o] = s;
        }
        if constexpr (C == tn::kernels::Cell::lstm) {
            hidden(h, 0, 4);
            for (std::size_t j = 0; j < H; ++j) {
                auto gate = [&](std::size_t g) { return a[g * H + j] + ah[g * H + j] + bh[g * H + j]; };
                c[j] = sigmoid(gate(1)) * c[j] + sigmoid(gate(0)) * std::tanh(gate(2));
                h[j] = sigmoid(gate(3)) * std::tanh(c[j]);
            }
        } else if constexpr (ResetAfter) {
            hidden(h, 0, 3);
            for (std::size_t j = 0; j < H; ++j) {
                const double r = sigmoid(a[j] + ah[j] + bh[j]), z = sigmoid(a[H + j] + ah[H + j] + bh[H + j]);
                const double n = std::tanh(a[2 * H + j] + r * (ah[2 * H + j] + bh[2 * H + j]));
                h[j] = (1 - z) * n + z * h[j];
            }
        } else {
            hidden(h, 0, 2);
            std::vector<double> rh(H), z(H);
            for (std::size_t j = 0; j < H; ++j) {
                rh[j] = sigmoid(a[j] + ah[j] + bh[j]) * h[j];
                z[j] = sigmoid(a[H + j] + ah[H + j] + bh[H + j]);
            }
            hidden(rh, 2, 1);
            for (std::size_t j = 0; j < H; ++j) {
                const double n = std::tanh(a[2 * H + j] + ah[2 * H + j] + bh[2 * H + j]);
                h[j] = (1 - z[j]) * n + z[j] * h[j];
            }
        }
        for (std::size_t j = 0; j < H; ++j) y[t * H + j] = float(h[j]);
    }
    return y;
}

template <class M, tn::kernels::Cell C, bool ResetAfter = true>
void check_bf16_layer(std::size_t H) {
    constexpr std::size_t T = M::input_shape_type::dims[0], F = M::input_shape_type::dims[1];
    auto net = tn::make<M>(tn::seed{31});
    std::vector<float> x(T * F), y(T * H), whole(T * H), stepped(T * H);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * float(i)) * 1.5f;
    net.forward(x.data(), y.data());
    const auto ref = bf16_reference<C, ResetAfter>(net.get_weights(), x.data(), T, F, H);
    // A state element whose rounding to bf16 lands on the other side of a tie moves the next
    // products by one bf16 step (2^-8 of |h| <= 1, times a weight): 2e-3 covers that, and
    // a wrong pairing or a lost term is far larger.
    double worst = 0;
    for (std::size_t i = 0; i < y.size(); ++i) worst = std::max(worst, std::abs(double(y[i]) - ref[i]));
    INFO(tn::layer_name<M>() << ": largest difference from the bf16 scheme's reference " << worst);
    CHECK(worst < 2e-3);
    auto st = net.make_state();
    for (std::size_t t = 0; t < T; ++t) net.step(&x[t * F], &stepped[t * H], st);
    REQUIRE(stepped == y);
}
}  // namespace

TEST_CASE("bf16 weights: GRU and LSTM against the scheme's reference, streamed bitwise", "[recurrent][bf16]") {
    using GruB = tn::Sequential<tn::Input<23, 3>, tn::GRU<37, tn::return_sequences, tn::bf16_weights>>;
    using GruBeforeB = tn::Sequential<tn::Input<23, 3>, tn::GRU<33, tn::return_sequences, tn::reset_before, tn::bf16_weights>>;
    using LstmB = tn::Sequential<tn::Input<23, 3>, tn::LSTM<37, tn::return_sequences, tn::bf16_weights>>;
    using RnnB = tn::Sequential<tn::Input<23, 3>, tn::SimpleRNN<40, tn::return_sequences, tn::bf16_weights>>;
    check_bf16_layer<GruB, tn::kernels::Cell::gru>(37);
    check_bf16_layer<GruBeforeB, tn::kernels::Cell::gru, false>(33);
    check_bf16_layer<LstmB, tn::kernels::Cell::lstm>(37);
    // 16 units: the state in registers, h's pairs by lane shuffles (AVX-512: vcvtneps2bf16).
    using GruB16 = tn::Sequential<tn::Input<23, 3>, tn::GRU<16, tn::return_sequences, tn::bf16_weights, tn::fast_activations>>;
    using LstmB16 = tn::Sequential<tn::Input<23, 3>, tn::LSTM<16, tn::return_sequences, tn::bf16_weights>>;
    check_bf16_layer<GruB16, tn::kernels::Cell::gru>(16);
    check_bf16_layer<LstmB16, tn::kernels::Cell::lstm>(16);
    STATIC_REQUIRE(tn::Net<RnnB>::param_count == tn::Net<tn::Sequential<tn::Input<23, 3>, tn::SimpleRNN<40, tn::return_sequences>>>::param_count);
}

TEST_CASE("bf16 weights as a policy: PyTorch's GRU and LSTM within bf16's error, streamed bitwise; small layers stay fp32",
          "[recurrent][bf16][golden]") {
    STATIC_REQUIRE(std::is_same_v<tn::with_policy<Gru2, tn::bf16_weights>,
                                  tn::Sequential<tn::Input<23, 3>, tn::GRU<37, tn::return_sequences, tn::num_layers<2>, tn::bf16_weights>,
                                                 tn::Dense<2, tn::bf16_weights>>>);
    STATIC_REQUIRE(std::is_same_v<tn::with_policy<GruLast, tn::bf16_weights>,  // 16 units: bf16
                                  tn::Sequential<tn::Input<19, 3>, tn::GRU<16, tn::bf16_weights>, tn::Dense<3, tn::bf16_weights>>>);
    STATIC_REQUIRE(std::is_same_v<tn::with_policy<LstmBi, tn::bf16_weights>, LstmBi>);  // 7 units: fp32
    using Kept = tn::Sequential<tn::Input<5, 2>, tn::LSTM<64, tn::fp32_weights>>;  // named: kept
    STATIC_REQUIRE(std::is_same_v<tn::with_policy<Kept, tn::bf16_weights>, Kept>);
    // Two layers of 37 units over 23 steps: the outputs (order 0.1-1) move by ~1e-3.
    golden::check_model<tn::with_policy<Gru2, tn::bf16_weights>>("gru_3_37_2l", 3e-2);
    golden::check_streaming<tn::with_policy<Gru2, tn::bf16_weights>>("gru_3_37_2l");
    golden::check_model<tn::with_policy<Lstm2, tn::bf16_weights>>("lstm_3_37_2l", 3e-2);
    golden::check_streaming<tn::with_policy<Lstm2, tn::bf16_weights>>("lstm_3_37_2l");
}

// A NaN in the input reaches the output, as in PyTorch: from its step on every output is NaN
// (the state carries it), the steps before it untouched — exact gates, in registers (8 and 16
// units) and in memory (29 and 37), GRU, LSTM (paired at 4 units) and SimpleRNN. (The opt-in
// fast gates clamp their argument, which saturates a NaN: docs/sequences.md.)
TEST_CASE("a NaN in a recurrent layer's input makes that step's output and every later one NaN", "[recurrent][nan]") {
    const auto check = [](auto model, const char* name) {
        using M = decltype(model);
        const auto net = tn::make<M>(tn::seed{5});
        auto st = net.make_state();
        constexpr std::size_t T = 12, F = 2, O = 3, bad = 5;
        std::vector<float> x(T * F), y(T * O);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.4f * std::sin(0.9f * float(i));
        x[bad * F + 1] = std::numeric_limits<float>::quiet_NaN();
        net.process(x.data(), y.data(), T, st);
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t o = 0; o < O; ++o) {
                INFO(name << ", step " << t << ", output " << o << ": " << y[t * O + o]);
                REQUIRE(std::isnan(y[t * O + o]) == (t >= bad));
            }
    };
    check(tn::Sequential<tn::Input<1, 2>, tn::GRU<8, tn::return_sequences>, tn::Dense<3>>{}, "GRU 8");
    check(tn::Sequential<tn::Input<1, 2>, tn::GRU<37, tn::return_sequences>, tn::Dense<3>>{}, "GRU 37");
    check(tn::Sequential<tn::Input<1, 2>, tn::LSTM<4, tn::return_sequences>, tn::Dense<3>>{}, "LSTM 4");
    check(tn::Sequential<tn::Input<1, 2>, tn::LSTM<16, tn::return_sequences>, tn::Dense<3>>{}, "LSTM 16");
    check(tn::Sequential<tn::Input<1, 2>, tn::LSTM<29, tn::return_sequences>, tn::Dense<3>>{}, "LSTM 29");
    check(tn::Sequential<tn::Input<1, 2>, tn::SimpleRNN<13, tn::return_sequences>, tn::Dense<3>>{}, "SimpleRNN 13");
}

// Offline, both directions, a Dense on every step (dense_rows: g++ 12 warned on this model that
// an iteration ~2^64 / 12 floats on overflowed its index, a loop bound it could not see): one
// sample's forward is row for row the batch's, and a NaN at step 33 of 40 reaches every output
// (the backward direction meets it first from the end).
TEST_CASE("a bidirectional GRU with a Dense on every step: batch rows and a NaN", "[recurrent][nan]") {
    using Bi = tn::Sequential<tn::Input<40, 3>, tn::GRU<6, tn::return_sequences, tn::bidirectional>, tn::Dense<3>>;
    const auto net = tn::make<Bi>(tn::seed{5});
    std::vector<float> x(3 * 40 * 3), y(3 * 40 * 3), one(40 * 3);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.4f * std::sin(0.9f * float(i));
    net.predict(x.data(), y.data(), 3);
    for (std::size_t b = 0; b < 3; ++b) {
        net.forward(x.data() + b * 120, one.data());
        for (std::size_t i = 0; i < 120; ++i) REQUIRE(std::bit_cast<std::uint32_t>(one[i]) == std::bit_cast<std::uint32_t>(y[b * 120 + i]));
    }
    x[33 * 3 + 2] = std::numeric_limits<float>::quiet_NaN();
    net.forward(x.data(), one.data());
    for (float v : one) REQUIRE(std::isnan(v));
}
