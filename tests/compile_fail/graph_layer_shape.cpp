// A Dense called on an image in a graph (the Flatten was forgotten): the error names the
// node, the layer and both shapes.
#include <typenet/typenet.hpp>
namespace tn = typenet;

constexpr auto g = [] {
    auto image = tn::input<"image", 28, 28, 1>;
#ifdef TYPENET_FAIL
    auto h = tn::dense<"shared", 16, tn::relu>(image);
#else
    auto h = tn::dense<"shared", 16, tn::relu>(tn::call<tn::Flatten>(image));
#endif
    return tn::model(tn::inputs(image), tn::outputs(tn::dense<"aux", 4>(h), tn::dense<"main", 10>(h)));
};
using G = decltype(g());

int main() {
    auto net = tn::make<G>();
    (void)net;
}
