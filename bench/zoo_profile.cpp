// Where a zoo model's forward pass spends its time, kernel by kernel and block by block
// (tn::profile, report/profile.hpp): one core, batch 1 unless asked, weights from tn::seed. Beside it,
// bench/zoo_ort_profile.mjs prints ONNX Runtime's own profile of the same model by the same
// module paths (docs/zoo.md, "Where the time goes").
//
//   taskset -c 1 build/bench/bench/zoo_profile efficientnet_b0 [depth] [calls] [batch]
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <typenet/typenet.hpp>

#include "../examples/zoo/efficientnet_b0.hpp"
#include "../examples/zoo/mobilenet_v2.hpp"
#include "../examples/zoo/mobilenet_v3.hpp"
#include "../examples/zoo/resnet18.hpp"
#include "../examples/zoo/resnet50.hpp"
#include "../examples/zoo/shufflenet_v2.hpp"
#include "../examples/zoo/squeezenet1_1.hpp"
#include "../examples/zoo/vgg11.hpp"

namespace tn = typenet;

namespace {

template <class M>
int show(std::size_t depth, std::size_t calls, std::size_t batch) {
    const auto net = tn::make<M>(tn::seed{3});
    const tn::Profile p = tn::profile(net, batch, calls);
    std::cout << p.table(depth) << '\n' << p.by_kernel();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string name = argc > 1 ? argv[1] : "";
    const std::size_t depth = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : SIZE_MAX;
    const std::size_t calls = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 50;
    const std::size_t batch = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 1;
    if (name == "resnet18") return show<zoo::ResNet18<224, 224>>(depth, calls, batch);
    if (name == "resnet50") return show<zoo::ResNet50<224, 224>>(depth, calls, batch);
    if (name == "mobilenet_v2") return show<zoo::MobileNetV2<224, 224>>(depth, calls, batch);
    if (name == "mobilenet_v3_small") return show<zoo::MobileNetV3Small<224, 224>>(depth, calls, batch);
    if (name == "mobilenet_v3_large") return show<zoo::MobileNetV3Large<224, 224>>(depth, calls, batch);
    if (name == "efficientnet_b0") return show<zoo::EfficientNetB0<224, 224>>(depth, calls, batch);
    if (name == "squeezenet1_1") return show<zoo::SqueezeNet1_1<224, 224>>(depth, calls, batch);
    if (name == "shufflenet_v2_x1_0") return show<zoo::ShuffleNetV2x1_0<224, 224>>(depth, calls, batch);
    if (name == "vgg11") return show<zoo::VGG11<224, 224>>(depth, calls, batch);
    std::fprintf(stderr,
                 "usage: zoo_profile MODEL [depth] [calls] [batch]\n  MODEL: resnet18 resnet50 mobilenet_v2 mobilenet_v3_small "
                 "mobilenet_v3_large efficientnet_b0 squeezenet1_1 shufflenet_v2_x1_0 vgg11\n");
    return 2;
}
