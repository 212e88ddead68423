// core.hpp is the compile-time vocabulary alone: it must not pull in the kernels' SIMD
// library, the tensor library or the JSON reader. Checked at the preprocessor, so a
// violation is a build error in this test, not a slower build nobody notices.
#include <typenet/core.hpp>

#if defined(XSIMD_VERSION_MAJOR)
#error "typenet/core.hpp includes xsimd"
#endif
#if defined(XTENSOR_VERSION_MAJOR)
#error "typenet/core.hpp includes xtensor"
#endif
#if defined(NLOHMANN_JSON_VERSION_MAJOR)
#error "typenet/core.hpp includes nlohmann-json"
#endif

#include <catch2/catch.hpp>

namespace tn = typenet;

// What core.hpp alone can do: write a layer's shape rule and check it.
struct Halve {
    template <class In> using output_shape_for = tn::Shape<In::size / 2>;
    template <class In> static void forward(const float*, const float* in, float* out, std::size_t rows) {
        for (std::size_t i = 0; i < rows * (In::size / 2); ++i) out[i] = in[2 * i];
    }
};

TEST_CASE("core.hpp: shapes, type lists and the Layer role, without the kernels", "[core]") {
    STATIC_REQUIRE(tn::LayerOn<Halve, tn::Shape<8>>);
    STATIC_REQUIRE(std::is_same_v<Halve::output_shape_for<tn::Shape<8>>, tn::Shape<4>>);
    STATIC_REQUIRE(tn::Shape<2, 3, 4>::size == 24);
    using table = tn::meta::index_table<std::index_sequence_for<int, float, char>, int, float, char>;
    STATIC_REQUIRE(std::is_same_v<tn::meta::pick_t<1, table>, float>);
    STATIC_REQUIRE(tn::meta::index_of<char, table> == 2);
    STATIC_REQUIRE(tn::meta::contains<float, tn::meta::type_set<int, float>>);
    STATIC_REQUIRE(!tn::meta::contains<double, tn::meta::type_set<int, float>>);
}
