// A squeeze-and-excitation gate of the wrong width: the excitation Dense has 8 units where
// the feature map has 16 channels, so [8, 8, 16] * [8] does not broadcast. The error names the
// merge and both shapes.
#include <typenet/typenet.hpp>
namespace tn = typenet;

#ifdef TYPENET_FAIL
constexpr std::size_t units = 8;
#else
constexpr std::size_t units = 16;
#endif

constexpr auto se = [] {
    auto x = tn::input<"x", 8, 8, 3>;
    auto f = tn::conv2d<"conv", 16, tn::kernel<3>, tn::padding_same>(x);
    auto s = tn::dense<"excite", units, tn::sigmoid>(tn::dense<"squeeze", 4, tn::relu>(tn::call<tn::GlobalAveragePool2D>(f)));
    return tn::model(tn::inputs(x), tn::outputs(f * s));
};
using SE = decltype(se());

int main() {
    auto net = tn::make<SE>();
    (void)net;
}
