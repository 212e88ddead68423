// Flatten, Reshape and Dropout: views that cost no copy when the memory plan allows.
#include "../golden.hpp"

namespace tn = typenet;

using Shapes = tn::Sequential<tn::Input<4, 5, 3>, tn::Flatten, tn::Dense<24, tn::elu>, tn::Reshape<2, 3, 4>, tn::Dropout<>,
                              tn::Flatten, tn::Dense<7, tn::sigmoid>>;

TEST_CASE("Flatten, Reshape, Dropout: shape rules", "[layers]") {
    STATIC_REQUIRE(std::is_same_v<tn::Flatten::output_shape_for<tn::Shape<4, 5, 3>>, tn::Shape<60>>);
    STATIC_REQUIRE(std::is_same_v<tn::Reshape<2, 3, 4>::output_shape_for<tn::Shape<24>>, tn::Shape<2, 3, 4>>);
    STATIC_REQUIRE(tn::Reshape<2, 3, 4>::accepts<tn::Shape<6, 4>>);
    STATIC_REQUIRE(!tn::Reshape<2, 3, 4>::accepts<tn::Shape<25>>);
    STATIC_REQUIRE(std::is_same_v<tn::Dropout<1, 4>::output_shape_for<tn::Shape<9>>, tn::Shape<9>>);
    STATIC_REQUIRE(tn::Dropout<1, 4>::Rate == 0.25f);
    STATIC_REQUIRE(Shapes::output_shape == tn::shape<7>);
    STATIC_REQUIRE(Shapes::param_count == 60 * 24 + 24 + 24 * 7 + 7);
    CHECK(tn::layer_name<tn::Reshape<2, 3, 4>>() == "Reshape<2, 3, 4>");
    CHECK(tn::layer_name<tn::Dropout<>>() == "Dropout<0.5>");
}

TEST_CASE("Flatten, Reshape, Dropout match PyTorch", "[layers][golden]") { golden::check_model<Shapes>("shapes"); }

TEST_CASE("views alias their input: no activation buffer is spent on them", "[layers][plan]") {
    // Flatten directly on the model input reads the caller's buffer; the Reshape/Dropout/
    // Flatten run shares the Dense output's buffer.
    constexpr auto& plan = Shapes::program::plan;  // IR node k + 1 is layer k's output
    STATIC_REQUIRE(plan.where[1] == tn::passes::Where::input);
    STATIC_REQUIRE(plan.where[3] == plan.where[5]);
    STATIC_REQUIRE(plan.offset[3] == plan.offset[5]);
    STATIC_REQUIRE(Shapes::workspace_bytes == 32 * sizeof(float));  // one [24] buffer, padded to 64 bytes
}

TEST_CASE("a model that is only a view still copies into the output", "[layers][plan]") {
    using OnlyFlatten = tn::Sequential<tn::Input<2, 3>, tn::Flatten>;
    auto net = tn::make<OnlyFlatten>();
    tn::Tensor<2, 3> x = {{1, 2, 3}, {4, 5, 6}};
    const tn::Tensor<6> y = net(x);
    CHECK(y(0) == 1.f);
    CHECK(y(5) == 6.f);
}
