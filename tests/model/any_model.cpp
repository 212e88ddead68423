// AnyModel: the model the file holds, among compiled ones (RTNeural's test models as the files).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <typenet/typenet.hpp>

#include "sequences/rtneural_models.hpp"

namespace tn = typenet;

namespace {
std::string model_file(const std::string& name) { return std::string(TYPENET_RTNEURAL_TESTDATA) + "/models/" + name; }

using Gru = rtneural_models::Gru1d<1>;
using Lstm = rtneural_models::Lstm1d<1>;
using Conv = rtneural_models::Conv<1>;
using Amps = tn::AnyModel<Gru, Lstm, Conv>;

// The alternative's own Net, loaded from the same file, run on the same signal.
template <class M>
std::vector<float> reference(const std::string& file, const std::vector<float>& x) {
    auto net = tn::make<M>();
    tn::load_rtneural(net, model_file(file));
    auto st = net.make_state();
    std::vector<float> y(x.size());
    net.process(x.data(), y.data(), x.size(), st);
    return y;
}
}  // namespace

TEST_CASE("AnyModel picks the model the file holds and runs it as that model", "[any_model][rtneural]") {
    STATIC_REQUIRE(Amps::streams);
    STATIC_REQUIRE(Amps::step_input_floats == 1 && Amps::step_output_floats == 1);
    std::vector<float> x(300);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 17) / 8.f - 1.f;
    Amps amp;
    REQUIRE(!amp.has_model());
    std::vector<float> y(x.size(), 1.f);
    amp.process(x.data(), y.data(), x.size());  // no model: silence
    REQUIRE(y == std::vector<float>(x.size(), 0.f));

    auto check = [&]<class M>(const std::string& file, std::size_t index, M*) {
        tn::load_rtneural(amp, model_file(file));
        REQUIRE(amp.index() == index);
        std::vector<float> out(x.size());
        amp.process(x.data(), out.data(), 100);  // blocks of any size, then one step
        amp.process(x.data() + 100, out.data() + 100, 199);
        amp.step(x.data() + 299, out.data() + 299);
        REQUIRE(out == reference<M>(file, x));
        amp.reset();
        std::vector<float> again(x.size());
        amp.process(x.data(), again.data(), x.size());
        REQUIRE(again == out);
    };
    check("lstm_1d.json", 1, static_cast<Lstm*>(nullptr));
    check("gru_1d.json", 0, static_cast<Gru*>(nullptr));
    check("conv.json", 2, static_cast<Conv*>(nullptr));
    REQUIRE(amp.model_name().find("Conv1D<6") != std::string::npos);

    SECTION("a file none fits: why each refused it, and the loaded model stays") {
        REQUIRE_THROWS_WITH(tn::load_rtneural(amp, model_file("gru.json")),
                            Catch::Contains("fits none of the 3 models") && Catch::Contains("model 0, ") &&
                                Catch::Contains("the file has 4 layers with weights") && Catch::Contains("model 2, "));
        REQUIRE(amp.index() == 2);
    }
    SECTION("safetensors files too, in any convention") {
        using Keras = tn::AnyModel<tn::Sequential<tn::Input<21, 3>, tn::LSTM<19, tn::return_sequences>, tn::Dense<2>>,
                                   tn::Sequential<tn::Input<21, 3>, tn::GRU<19, tn::return_sequences, tn::reset_before>, tn::Dense<2>>,
                                   tn::Sequential<tn::Input<21, 3>, tn::GRU<19, tn::return_sequences>, tn::Dense<2>>>;
        Keras k;
        tn::load_weights(k, std::string(TYPENET_FIXTURES) + "/keras_gru_reset_after.weights.safetensors", tn::from_keras);
        REQUIRE(k.index() == 2);  // the LSTM's kernel has the wrong width; reset_before wants a [57] bias
        tn::load_weights(k, std::string(TYPENET_FIXTURES) + "/keras_gru_reset_before.weights.safetensors", tn::from_keras);
        REQUIRE(k.index() == 1);
    }
}
