#include <catch2/catch.hpp>

#include <typenet/core/shape.hpp>

namespace tn = typenet;

TEST_CASE("Shape is a type with constexpr size, rank, equality and printing", "[shape]") {
    using S = tn::Shape<28, 28, 1>;
    STATIC_REQUIRE(S::rank == 3);
    STATIC_REQUIRE(S::size == 784);
    STATIC_REQUIRE(S::dims[1] == 28);
    STATIC_REQUIRE(tn::shape<10> == tn::shape<10>);
    STATIC_REQUIRE(!(tn::shape<10> == tn::shape<11>));
    STATIC_REQUIRE(!(tn::shape<2, 5> == tn::shape<10>));
    STATIC_REQUIRE(std::is_same_v<tn::flat_shape<S>, tn::Shape<784>>);
    STATIC_REQUIRE(std::is_same_v<tn::shape_from_array<std::array<std::size_t, 2>{3, 4}>, tn::Shape<3, 4>>);
    STATIC_REQUIRE(tn::ShapeType<S>);
    STATIC_REQUIRE(!tn::ShapeType<int>);
    CHECK(S::str() == "[28, 28, 1]");
    CHECK(tn::Shape<>::str() == "[]");
    STATIC_REQUIRE(tn::Shape<>::size == 1);
}
