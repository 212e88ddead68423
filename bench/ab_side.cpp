// One side of tools/ab.sh: a set of models built against one revision's headers into a shared
// object of its own (hidden symbols, bound within it), so that two revisions run in one process
// without their inline functions and templates merging. The driver (bench/ab_main.cpp) loads
// two such objects and times their models call by call, alternating.
//   AB_SET=1: MLP 784-128-64-10 at batch 1 and 256, the Keras tutorial CNN at 1 and 64,
//             ResNet-20 at 1;
//   AB_SET=2: EfficientNet-B0, MobileNetV2, MobileNetV3-Large, ShuffleNetV2 x1.0, SqueezeNet 1.1 at 224x224,
//             batch 1;
//   AB_SET=3: ResNet-18, MobileNetV2, MobileNetV3-Large and EfficientNet-B0 at batch 8, and
//             Dense layers at a few rows: MobileNetV2's classifier (1280 -> 1000) at 8, the MLP at 16;
//   AB_SET=4: EfficientNet-B0, MobileNetV2, MobileNetV3-Large, ResNet-18 and ResNet-20 at batch 1 on two
//             threads (a tn::ThreadPool without a spin window, so that one side's workers do not
//             spin while the other side runs).
#include <typenet/typenet.hpp>

#include <chrono>
#include <memory>
#include <vector>

#if AB_SET == 2 || AB_SET == 4
#include <zoo/efficientnet_b0.hpp>
#include <zoo/mobilenet_v2.hpp>
#include <zoo/mobilenet_v3.hpp>
#include <zoo/shufflenet_v2.hpp>
#include <zoo/squeezenet1_1.hpp>
#if AB_SET == 4
#include <resnet20.hpp>
#include <zoo/resnet18.hpp>
#endif
#elif AB_SET == 3
#include <zoo/efficientnet_b0.hpp>
#include <zoo/mobilenet_v2.hpp>
#include <zoo/mobilenet_v3.hpp>
#include <zoo/resnet18.hpp>
#else
#include <resnet20.hpp>
#include <tutorial_cnn.hpp>
#endif

namespace {
namespace tn = typenet;

struct Model {
    virtual ~Model() = default;
    virtual double run(int calls) = 0;  // microseconds per call
};

#if AB_SET == 4
tn::ThreadPool& pool() {
    static tn::ThreadPool p(2);
    return p;
}
#endif

template <class M>
struct Timed final : Model {
    tn::Net<M> net = tn::make<M>(tn::seed{3});
    std::size_t rows;
    std::vector<float> x, y;
    explicit Timed(std::size_t r) : rows(r), x(r * tn::Net<M>::in_size), y(r * tn::Net<M>::out_size) {
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.01f * float(i % 97);
    }
    double run(int calls) override {
        const auto t0 = std::chrono::steady_clock::now();
        for (int c = 0; c < calls; ++c) {
#if AB_SET == 4
            net.forward(x.data(), y.data(), pool());
#else
            if (rows == 1) net.forward(x.data(), y.data());
            else net.predict(x.data(), y.data(), rows);
#endif
        }
        return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / calls;
    }
};

struct Entry {
    const char* name;
    std::unique_ptr<Model> (*make)();
};
template <class M, std::size_t Rows>
std::unique_ptr<Model> make_timed() {
    return std::make_unique<Timed<M>>(Rows);
}

#if AB_SET == 4
constexpr Entry entries[] = {
    {"efficientnet_b0_2threads", make_timed<zoo::EfficientNetB0<224, 224>, 1>},
    {"mobilenet_v2_2threads", make_timed<zoo::MobileNetV2<224, 224>, 1>},
    {"mobilenet_v3_large_2threads", make_timed<zoo::MobileNetV3Large<224, 224>, 1>},
    {"resnet18_2threads", make_timed<zoo::ResNet18<224, 224>, 1>},
    {"resnet20_2threads", make_timed<resnet::ResNet20, 1>},
};
#elif AB_SET == 2
constexpr Entry entries[] = {
    {"efficientnet_b0", make_timed<zoo::EfficientNetB0<224, 224>, 1>},
    {"mobilenet_v2", make_timed<zoo::MobileNetV2<224, 224>, 1>},
    {"mobilenet_v3_large", make_timed<zoo::MobileNetV3Large<224, 224>, 1>},
    {"shufflenet_v2_x1_0", make_timed<zoo::ShuffleNetV2x1_0<224, 224>, 1>},
    {"squeezenet1_1", make_timed<zoo::SqueezeNet1_1<224, 224>, 1>},
};
#elif AB_SET == 3
using Mlp = tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu>, tn::Dense<64, tn::relu>, tn::Dense<10, tn::softmax>>;
using Classifier = tn::Sequential<tn::Input<1280>, tn::Dense<1000>>;
constexpr Entry entries[] = {
    {"resnet18_b8", make_timed<zoo::ResNet18<224, 224>, 8>},
    {"mobilenet_v2_b8", make_timed<zoo::MobileNetV2<224, 224>, 8>},
    {"mobilenet_v3_large_b8", make_timed<zoo::MobileNetV3Large<224, 224>, 8>},
    {"efficientnet_b0_b8", make_timed<zoo::EfficientNetB0<224, 224>, 8>},
    {"classifier_1280_1000_b8", make_timed<Classifier, 8>},
    {"mlp_b16", make_timed<Mlp, 16>},
};
#else
using Mlp = tn::Sequential<tn::Input<784>, tn::Dense<128, tn::relu>, tn::Dense<64, tn::relu>, tn::Dense<10, tn::softmax>>;
constexpr Entry entries[] = {
    {"mlp_b1", make_timed<Mlp, 1>},
    {"mlp_b256", make_timed<Mlp, 256>},
    {"cnn_b1", make_timed<example::TutorialCnn, 1>},
    {"cnn_b64", make_timed<example::TutorialCnn, 64>},
    {"resnet20_b1", make_timed<resnet::ResNet20, 1>},
};
#endif
std::vector<std::unique_ptr<Model>> models;

}  // namespace

extern "C" {
[[gnu::visibility("default")]] int ab_count() { return int(std::size(entries)); }
[[gnu::visibility("default")]] const char* ab_name(int i) { return entries[i].name; }
[[gnu::visibility("default")]] void ab_setup() {
    for (const Entry& e : entries) models.push_back(e.make());
}
[[gnu::visibility("default")]] double ab_run(int i, int calls) { return models[std::size_t(i)]->run(calls); }
}
