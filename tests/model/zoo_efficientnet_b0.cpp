// torchvision's efficientnet_b0 as a type (examples/zoo/efficientnet_b0.hpp) against torchvision (zoo.hpp).
#include "zoo.hpp"

#include "../../examples/zoo/efficientnet_b0.hpp"

TEST_CASE("torchvision's efficientnet_b0 as a type: torchvision's names, weights and outputs", "[names][golden][torchvision][zoo]") {
    zoo_test::check_against_torchvision<zoo::EfficientNetB0<224, 224>>("efficientnet_b0", 7);
}
