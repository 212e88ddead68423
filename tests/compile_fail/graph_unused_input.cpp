// A model input that no output uses.
#include <typenet/typenet.hpp>
namespace tn = typenet;

constexpr auto g = [] {
    auto image = tn::input<"image", 784>;
    auto tabular = tn::input<"tabular", 10>;
    auto x1 = tn::dense<"img_fc", 64, tn::relu>(image);
#ifdef TYPENET_FAIL
    auto out = tn::dense<"head", 10, tn::softmax>(x1);
#else
    auto out = tn::dense<"head", 10, tn::softmax>(tn::concat(x1, tn::dense<"tab_fc", 32>(tabular)));
#endif
    return tn::model(tn::inputs(image, tabular), tn::outputs(out));
};
using G = decltype(g());

int main() {
    auto net = tn::make<G>();
    (void)net;
}
