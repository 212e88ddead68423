// An output that depends on an input the model does not list.
#include <typenet/typenet.hpp>
namespace tn = typenet;

constexpr auto g = [] {
    auto image = tn::input<"image", 784>;
    auto tabular = tn::input<"tabular", 10>;
    auto out = tn::dense<"head", 10>(tn::concat(tn::dense<"img_fc", 64>(image), tn::dense<"tab_fc", 32>(tabular)));
#ifdef TYPENET_FAIL
    return tn::model(tn::inputs(image), tn::outputs(out));
#else
    return tn::model(tn::inputs(image, tabular), tn::outputs(out));
#endif
};
using G = decltype(g());

int main() {
    auto net = tn::make<G>();
    (void)net;
}
