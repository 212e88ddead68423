// torchvision's vgg11 as a type (examples/zoo/vgg11.hpp) against torchvision (zoo.hpp).
#include "zoo.hpp"

#include "../../examples/zoo/vgg11.hpp"

TEST_CASE("torchvision's vgg11 as a type: torchvision's names, weights and outputs", "[names][golden][torchvision][zoo]") {
    zoo_test::check_against_torchvision<zoo::VGG11<224, 224>>("vgg11", 111);
}
