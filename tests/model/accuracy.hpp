// A reduced-precision model against the same model in fp32, on n random inputs (uniform in
// [0, 1), like pixels): the largest absolute and relative differences of the outputs and how
// often the two agree on the top-1 class. Shared by tests/model/precision.cpp (which bounds
// these) and bench/precision.cpp (which prints them for docs/precision-and-threads.md).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include <typenet/typenet.hpp>

namespace accuracy {

struct Report {
    double max_abs = 0, max_rel = 0;  // relative to the sample's largest |output|
    std::size_t agree = 0, n = 0;
};

template <class A, class B>
Report compare(const A& fp32, const B& reduced, std::size_t n, unsigned seed = 11) {
    constexpr std::size_t in = A::in_size, out = A::out_size;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    std::vector<float> x(n * in), a(n * out), b(n * out);
    for (float& v : x) v = u(rng);
    fp32.predict(x.data(), a.data(), n);
    reduced.predict(x.data(), b.data(), n);
    Report r;
    r.n = n;
    for (std::size_t s = 0; s < n; ++s) {
        const float* pa = a.data() + s * out;
        const float* pb = b.data() + s * out;
        double scale = 0;
        for (std::size_t o = 0; o < out; ++o) scale = std::max(scale, double(std::abs(pa[o])));
        for (std::size_t o = 0; o < out; ++o) {
            const double d = std::abs(double(pa[o]) - double(pb[o]));
            r.max_abs = std::max(r.max_abs, d);
            if (scale > 0) r.max_rel = std::max(r.max_rel, d / scale);
        }
        r.agree += std::max_element(pa, pa + out) - pa == std::max_element(pb, pb + out) - pb;
    }
    return r;
}

}  // namespace accuracy
