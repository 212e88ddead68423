// torchvision's resnet18 as a type (examples/zoo/resnet18.hpp) against torchvision (zoo.hpp).
#include "zoo.hpp"

#include "../../examples/zoo/resnet18.hpp"

TEST_CASE("torchvision's resnet18 as a type: torchvision's names, weights and outputs", "[names][golden][torchvision][zoo]") {
    zoo_test::check_against_torchvision<zoo::ResNet18<224, 224>>("resnet18", 18);
}
