// torchvision's mobilenet_v3_large as a type (examples/zoo/mobilenet_v3.hpp) against torchvision (zoo.hpp).
#include "zoo.hpp"

#include "../../examples/zoo/mobilenet_v3.hpp"

TEST_CASE("torchvision's mobilenet_v3_large as a type: torchvision's names, weights and outputs", "[names][golden][torchvision][zoo]") {
    zoo_test::check_against_torchvision<zoo::MobileNetV3Large<224, 224>>("mobilenet_v3_large", 4);
}
