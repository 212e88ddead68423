// The recurrent kernels' own sigmoid and tanh against double precision, over the whole
// range a gate sees (and past saturation): within 3 ulp of the true value, or 3 * 2^-24
// absolute where the value is near zero.
#include <typenet/kernels/recurrent.hpp>

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

namespace k = typenet::kernels;

namespace {
template <class F, class G>
double worst_error(F simd, G exact) {
    double worst = 0;  // in units of the allowed error
    std::vector<float> xs;
    for (float x = -30.f; x <= 30.f; x += 1.f / 1024) xs.push_back(x);
    for (float x = -1e-3f; x <= 1e-3f; x += 1e-7f) xs.push_back(x);
    xs.push_back(88.f), xs.push_back(-88.f), xs.push_back(1e30f), xs.push_back(-1e30f);
    alignas(64) float in[k::lanes], out[k::lanes];
    for (std::size_t i = 0; i < xs.size(); i += k::lanes) {
        for (std::size_t j = 0; j < k::lanes; ++j) in[j] = xs[std::min(i + j, xs.size() - 1)];
        simd(k::load(in)).store_aligned(out);
        for (std::size_t j = 0; j < k::lanes; ++j) {
            const double e = exact(double(in[j]));
            const double allowed = std::max(3 * std::abs(e) * 0x1p-24, 3 * 0x1p-24 * std::min(1.0, std::abs(e) * 1e3 + 1e-3));
            const double err = std::abs(double(out[j]) - e) / std::max(allowed, 3 * 0x1p-24 * 0x1p-24);
            INFO("x = " << in[j] << ": got " << out[j] << ", exact " << e);
            REQUIRE(err <= 1.0);
            worst = std::max(worst, err);
        }
    }
    return worst;
}
}  // namespace

TEST_CASE("the recurrent kernels' sigmoid and tanh are within 3 ulp", "[kernels][recurrent]") {
    const double s = worst_error([](k::vfloat x) { return k::detail::sigmoid_v(x); }, [](double x) { return 1 / (1 + std::exp(-x)); });
    const double t = worst_error([](k::vfloat x) { return k::detail::tanh_v(x); }, [](double x) { return std::tanh(x); });
    WARN("worst error, as a fraction of the bound: sigmoid " << s << ", tanh " << t);
}
