// torchvision's mobilenet_v2 as a type (examples/zoo/mobilenet_v2.hpp) against torchvision (zoo.hpp).
#include "zoo.hpp"

#include "../../examples/zoo/mobilenet_v2.hpp"

TEST_CASE("torchvision's mobilenet_v2 as a type: torchvision's names, weights and outputs", "[names][golden][torchvision][zoo]") {
    zoo_test::check_against_torchvision<zoo::MobileNetV2<224, 224>>("mobilenet_v2", 2);
}
