// torchvision's squeezenet1_1 as a type (examples/zoo/squeezenet1_1.hpp) against torchvision (zoo.hpp).
#include "zoo.hpp"

#include "../../examples/zoo/squeezenet1_1.hpp"

TEST_CASE("torchvision's squeezenet1_1 as a type: torchvision's names, weights and outputs", "[names][golden][torchvision][zoo]") {
    zoo_test::check_against_torchvision<zoo::SqueezeNet1_1<224, 224>>("squeezenet1_1", 11);
}
