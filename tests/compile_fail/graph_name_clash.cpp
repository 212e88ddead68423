// Two different layers given one name (a name is one layer with one set of weights).
#include <typenet/typenet.hpp>
namespace tn = typenet;

constexpr auto g = [] {
    auto a = tn::input<"a", 16>;
    auto h = tn::dense<"fc", 8, tn::relu>(a);
#ifdef TYPENET_FAIL
    auto out = tn::dense<"fc", 4>(h);
#else
    auto out = tn::dense<"fc_out", 4>(h);
#endif
    return tn::model(tn::inputs(a), tn::outputs(out));
};
using G = decltype(g());

int main() {
    auto net = tn::make<G>();
    (void)net;
}
