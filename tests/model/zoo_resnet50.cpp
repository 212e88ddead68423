// torchvision's resnet50 as a type (examples/zoo/resnet50.hpp) against torchvision (zoo.hpp).
#include "zoo.hpp"

#include "../../examples/zoo/resnet50.hpp"

TEST_CASE("torchvision's resnet50 as a type: torchvision's names, weights and outputs", "[names][golden][torchvision][zoo]") {
    zoo_test::check_against_torchvision<zoo::ResNet50<224, 224>>("resnet50", 50);
}
