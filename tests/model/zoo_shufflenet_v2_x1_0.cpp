// torchvision's shufflenet_v2_x1_0 as a type (examples/zoo/shufflenet_v2.hpp) against torchvision (zoo.hpp).
#include "zoo.hpp"

#include "../../examples/zoo/shufflenet_v2.hpp"

TEST_CASE("torchvision's shufflenet_v2_x1_0 as a type: torchvision's names, weights and outputs", "[names][golden][torchvision][zoo]") {
    zoo_test::check_against_torchvision<zoo::ShuffleNetV2x1_0<224, 224>>("shufflenet_v2_x1_0", 21);
}
