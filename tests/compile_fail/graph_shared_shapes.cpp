// A shared layer (one name) called on inputs of two different shapes.
#include <typenet/typenet.hpp>
namespace tn = typenet;

constexpr auto g = [] {
    auto a = tn::input<"a", 64>;
#ifdef TYPENET_FAIL
    auto b = tn::input<"b", 48>;
#else
    auto b = tn::input<"b", 64>;
#endif
    constexpr auto enc = tn::dense<"encoder", 32, tn::tanh>;
    return tn::model(tn::inputs(a, b), tn::outputs(tn::dense<"score", 1>(tn::abs(enc(a) - enc(b)))));
};
using G = decltype(g());

int main() {
    auto net = tn::make<G>();
    (void)net;
}
