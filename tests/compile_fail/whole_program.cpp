// A whole program around a model with one shape mistake (the Flatten before the Dense is
// forgotten): it makes the net, loads weights, runs one sample, raw buffers and a batch,
// names tn::Net<Model> and its input type, and prints the summary and the fusion plan. The
// mistake is ONE error naming the layer and both shapes; nothing else in the program errors.
#include <typenet/typenet.hpp>

#include <iostream>
#include <vector>
namespace tn = typenet;

#ifdef TYPENET_FAIL
using Model = tn::Sequential<tn::Input<28, 28, 1>, tn::Conv2D<8, tn::kernel<3>, tn::relu>, tn::MaxPool2D<2>, tn::Dense<10>>;
#else
using Model = tn::Sequential<tn::Input<28, 28, 1>, tn::Conv2D<8, tn::kernel<3>, tn::relu>, tn::MaxPool2D<2>, tn::Flatten, tn::Dense<10>>;
#endif

int main(int argc, char** argv) {
    auto net = tn::make<Model>();
    if (argc > 1) tn::load_weights(net, argv[1], tn::from_pytorch);
    if (auto error = tn::try_load_weights(net, "model.safetensors")) std::cerr << error->what() << "\n";
    tn::Tensor<28, 28, 1> x{};
    auto y = net(x);
    std::cout << y(3) << "\n";
    std::vector<float> in(28 * 28 * 4), out(10 * 4);
    net.forward(in.data(), out.data());
    net.predict(in.data(), out.data(), 4);
    // The Net type named directly, as a class member or a plugin's field would be.
    typename tn::Net<Model>::input_type x2{};
    tn::Net<Model> held = tn::make<Model>();
    tn::load_weights(held, "model.safetensors", tn::from_keras);
    auto y2 = held(x2);
    std::cout << y2(0) << "\n";
    std::cout << tn::summary<Model>() << tn::fusion_plan<Model>() << tn::to_dot<Model>();
}
