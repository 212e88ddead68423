// A program linking two translation units built for different instruction sets, each making
// and running the same model. Inline functions and templates are weak symbols: before
// typenet put every declaration in a namespace named after the instruction set
// (core/isa.hpp), the linker kept one body of dense_pack, gemm_micro, Net::Net, ... for both,
// and one of the two ran with the other's packing (errors of 0.08-0.1, by link order). Both
// must match a plain scalar reference computed here from the canonical weights.
#include "mixed_model.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>

namespace {
std::vector<float> reference(const std::vector<float>& w, const std::vector<float>& xs, std::size_t n) {
    const std::size_t sizes[] = {784, 128, 64, 10};
    std::vector<float> out;
    for (std::size_t s = 0; s < n; ++s) {
        std::vector<double> a(xs.begin() + std::ptrdiff_t(s * 784), xs.begin() + std::ptrdiff_t((s + 1) * 784));
        std::size_t at = 0;
        for (int l = 0; l < 3; ++l) {
            const std::size_t in = sizes[l], units = sizes[l + 1];
            std::vector<double> b(units);
            for (std::size_t u = 0; u < units; ++u) {
                double acc = w[at + in * units + u];  // bias after the [units, in] weight
                for (std::size_t i = 0; i < in; ++i) acc += double(w[at + u * in + i]) * a[i];
                b[u] = l < 2 ? std::max(acc, 0.0) : acc;
            }
            at += in * units + units;
            a = b;
        }
        const double m = *std::max_element(a.begin(), a.end());
        double z = 0;
        for (double& v : a) z += (v = std::exp(v - m));
        for (double v : a) out.push_back(float(v / z));
    }
    return out;
}
}  // namespace

TEST_CASE("two instruction sets in one program: each translation unit runs its own kernels", "[isa]") {
    const MixedRun native = run_native(), sse = run_sse();
    INFO("native kernels: " << native.isa << ", the other: " << sse.isa);
    CHECK(sse.isa == "sse4.2");
    REQUIRE(native.weights == sse.weights);  // the same seeded initialisation
    std::vector<float> xs(3 * 784);
    for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = float(i % 29) / 29.f;
    auto expected = reference(native.weights, xs, 3);
    expected.insert(expected.end(), expected.begin(), expected.begin() + 10);  // and net(x) of sample 0
    for (const MixedRun* r : {&native, &sse}) {
        INFO(r->isa);
        REQUIRE(r->outputs.size() == expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) CHECK(std::abs(r->outputs[i] - expected[i]) <= 1e-5f);
    }
}
