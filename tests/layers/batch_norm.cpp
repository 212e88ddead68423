#include "../golden.hpp"

namespace tn = typenet;

using WithBn = tn::Sequential<tn::Input<23, 19, 3>, tn::Conv2D<8, tn::kernel<3>, tn::no_bias>, tn::BatchNorm<>, tn::ReLU,
                              tn::MaxPool2D<2>, tn::BatchNormalization, tn::GlobalAveragePool2D, tn::Dense<4>, tn::BatchNorm<>>;

TEST_CASE("BatchNorm after a linear Conv2D or Dense is folded, and the activation after it fused", "[batchnorm][fusion]") {
    // IR nodes: 0 the input, then the layers in order.
    constexpr auto& e = WithBn::program::epilogues;
    STATIC_REQUIRE(e.batchnorm[1] == 2);
    STATIC_REQUIRE(e.activation[1] == 3);          // the ReLU after the BatchNorm
    STATIC_REQUIRE(e.fused_away(2));
    STATIC_REQUIRE(e.fused_away(3));
    STATIC_REQUIRE(e.batchnorm[4] == tn::passes::none);  // after pooling: runs on its own
    STATIC_REQUIRE(!e.fused_away(5));
    STATIC_REQUIRE(e.batchnorm[7] == 8);           // Dense -> BatchNorm
    STATIC_REQUIRE(WithBn::param_count == 8 * 3 * 9 + 4 * 8 + 4 * 8 + 8 * 4 + 4 + 4 * 4);
    const std::string s = tn::summary<WithBn>();
    INFO(s);
    CHECK(s.find("conv+bias+relu (batchnorm folded)") != std::string::npos);
}

TEST_CASE("BatchNorm (folded and standalone, PyTorch and Keras epsilon) matches PyTorch", "[batchnorm][golden]") {
    golden::check_model<WithBn>("batchnorm");
}

TEST_CASE("folding keeps the weights as given: get_weights and save round-trip exactly", "[batchnorm]") {
    auto net = tn::make<WithBn>();
    tn::load_weights(net, golden::path("batchnorm.weights.safetensors"));
    const auto file = tn::SafetensorsFile::read(golden::path("batchnorm.weights.safetensors"));
    CHECK(net.get_weights()[0] == file.floats("0.weight")[0]);
    const auto& infos = tn::Net<WithBn>::param_infos();
    CHECK(infos[1].name == "1.weight");
    CHECK(infos[4].name == "1.running_var");
}
