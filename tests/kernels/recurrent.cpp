// The recurrent kernels' own sigmoid and tanh against double precision, over the whole
// range a gate sees (and past saturation): within 3 ulp of the true value, or 3 * 2^-24
// absolute where the value is near zero.
#include <typenet/kernels/dense.hpp>
#include <typenet/kernels/recurrent.hpp>

#include <catch2/catch.hpp>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
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
            if (!(err <= 1.0)) {
                INFO("x = " << in[j] << ": got " << out[j] << ", exact " << e);
                REQUIRE(err <= 1.0);
            }
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
    // and a NaN stays NaN (a recurrent step then carries it on, as PyTorch's does)
    const k::vfloat nan(std::numeric_limits<float>::quiet_NaN());
    REQUIRE(xsimd::all(xsimd::isnan(k::detail::sigmoid_v(nan))));
    REQUIRE(xsimd::all(xsimd::isnan(k::detail::tanh_v(nan))));
}

// The opt-in fast functions (tn::fast_activations): an absolute bound, checked on every float
// in [-16, 16] whose low mantissa bits are zero (2^20 of them, densest near zero) and far past
// saturation; odd (tanh) and bounded like the functions they stand for.
TEST_CASE("the fast sigmoid and tanh are within their stated absolute bounds", "[kernels][recurrent][fast]") {
    std::vector<float> xs;
    for (std::uint32_t bits = 0; bits < 0x41800000u; bits += 1u << 10) {  // 0 .. 16
        float x;
        std::memcpy(&x, &bits, 4);
        xs.push_back(x), xs.push_back(-x);
    }
    for (float x : {20.f, 88.f, 1e30f, std::numeric_limits<float>::max()}) xs.push_back(x), xs.push_back(-x);
    double worst_t = 0, worst_s = 0, worst_lt = 0, worst_ls = 0;
    alignas(64) float in[k::lanes], t[k::lanes], s[k::lanes], ts[k::lanes], lt[k::lanes], ls[k::lanes];
    for (std::size_t i = 0; i < xs.size(); i += k::lanes) {
        for (std::size_t j = 0; j < k::lanes; ++j) in[j] = xs[std::min(i + j, xs.size() - 1)];
        k::detail::tanh_fast_v(k::load(in)).store_aligned(t);
        k::detail::sigmoid_fast_v(k::load(in)).store_aligned(s);
        k::detail::tanh_sigmoid_fast_v(k::load(in)).store_aligned(ts);  // an LSTM's paired [g | o]
        k::detail::tanh_fast_lean_v(k::load(in)).store_aligned(lt);     // the forms written for throughput
        k::detail::sigmoid_fast_lean_v(k::load(in)).store_aligned(ls);
        for (std::size_t j = 0; j < k::lanes; ++j) {
            const double x = in[j];
            if (!(std::abs(t[j]) <= 1.f && s[j] >= 0.f && s[j] <= 1.f && std::abs(lt[j]) <= 1.f && ls[j] >= 0.f && ls[j] <= 1.f) ||
                std::memcmp(&ts[j], j < k::lanes / 2 ? &t[j] : &s[j], 4) != 0) {  // one assertion per failure, not per value
                INFO("x = " << in[j] << ": tanh " << t[j] << ", sigmoid " << s[j] << ", lane " << j << " of the paired form " << ts[j]
                            << ", lean tanh " << lt[j] << ", lean sigmoid " << ls[j]);
                REQUIRE(false);
            }
            worst_t = std::max(worst_t, std::abs(double(t[j]) - std::tanh(x)));
            worst_s = std::max(worst_s, std::abs(double(s[j]) - 1 / (1 + std::exp(-x))));
            worst_lt = std::max(worst_lt, std::abs(double(lt[j]) - std::tanh(x)));
            worst_ls = std::max(worst_ls, std::abs(double(ls[j]) - 1 / (1 + std::exp(-x))));
        }
    }
    WARN("fast functions' worst absolute error: tanh " << worst_t << ", sigmoid " << worst_s << "; lean forms: tanh " << worst_lt
                                                       << ", sigmoid " << worst_ls);
    REQUIRE(worst_t <= 1.5e-6);
    REQUIRE(worst_s <= 1e-6);
    REQUIRE(worst_lt <= 1.5e-6);
    REQUIRE(worst_ls <= 1e-6);
    // s tanh(x) with the gate s folded into the numerator, and the quotients an LSTM step
    // combines before it divides (s sigmoid(x), tanh(x), (n / d) tanh(x) in one division): the
    // same bounds times |s|, plus the rounding of a product.
    double worst_st = 0, worst_lst = 0, worst_qs = 0, worst_qt = 0, worst_qnd = 0;
    alignas(64) float scale[k::lanes];
    for (std::size_t i = 0; i < xs.size(); i += k::lanes) {
        for (std::size_t j = 0; j < k::lanes; ++j) in[j] = xs[std::min(i + j, xs.size() - 1)], scale[j] = 0.25f + 0.5f * float(j % 7);
        k::detail::scaled_tanh_fast_v(k::load(in), k::load(scale)).store_aligned(t);
        k::detail::scaled_tanh_fast_lean_v(k::load(in), k::load(scale)).store_aligned(lt);
        alignas(64) float qs[k::lanes], qt[k::lanes], qnd[k::lanes];
        const k::detail::Quotient sq = k::detail::sigmoid_fast_q(k::load(in), k::load(scale)), tq = k::detail::tanh_fast_q(k::load(in));
        (sq.num / sq.den).store_aligned(qs);
        (tq.num / tq.den).store_aligned(qt);
        // n / d = scale: n = 3 scale, d = 3
        k::detail::quotient_tanh_fast_v(k::load(in), k::vfloat(3.f) * k::load(scale), k::vfloat(3.f)).store_aligned(qnd);
        for (std::size_t j = 0; j < k::lanes; ++j) {
            const double x = in[j], sc = scale[j];
            worst_qs = std::max(worst_qs, std::abs(double(qs[j]) - sc / (1 + std::exp(-x))) / sc);
            worst_qt = std::max(worst_qt, std::abs(double(qt[j]) - std::tanh(x)));
            worst_qnd = std::max(worst_qnd, std::abs(double(qnd[j]) - double(3.f * scale[j]) / 3 * std::tanh(x)) / sc);
            worst_st = std::max(worst_st, std::abs(double(t[j]) - sc * std::tanh(x)) / sc);
            worst_lst = std::max(worst_lst, std::abs(double(lt[j]) - sc * std::tanh(x)) / sc);
        }
    }
    WARN("scaled forms' worst absolute error per unit of scale: tanh " << worst_st << ", lean tanh " << worst_lst << "; quotients: s sigmoid "
                                                                        << worst_qs << ", tanh " << worst_qt << ", (n / d) tanh " << worst_qnd);
    REQUIRE(worst_st <= 1.5e-6 + 1.2e-7);
    REQUIRE(worst_lst <= 1.5e-6 + 1.2e-7);
    REQUIRE(worst_qs <= 1e-6 + 1.2e-7);
    REQUIRE(worst_qt <= 1.5e-6);
    REQUIRE(worst_qnd <= 1.5e-6 + 1.2e-7);
}

// The GRU's fast step as one quotient, (1 - z) tanh(c + sigmoid(a) g) + z h, z = sigmoid(b):
// within the functions' bounds composed — per unit of (1 - z), tanh's 1.5e-6 plus the
// sigmoid's 1e-6 times |g| (tanh' <= 1) and the rounding of the argument; z's 1e-6 times
// |n - h| — and the rounding of the result; a over the same floats, b, g and c across the lanes
// from -9.5 to 9.5 (the gate sums of a trained GRU) and far out, h within [-1, 1] (where a
// GRU's state stays) and far out (a state the user set): finite, never beyond max(|h|, 1).
TEST_CASE("the fast GRU step is within the composed bounds", "[kernels][recurrent][fast]") {
    std::vector<float> as;
    for (std::uint32_t bits = 0; bits < 0x41800000u; bits += 1u << 10) {
        float x;
        std::memcpy(&x, &bits, 4);
        as.push_back(x), as.push_back(-x);
    }
    for (float x : {20.f, 1e30f, std::numeric_limits<float>::max()}) as.push_back(x), as.push_back(-x);
    const float far[] = {0.f, 1e-30f, 30.f, -30.f, 1e30f, -1e30f};
    const float far_h[] = {0.f, 1e-30f, -1e-30f, 3.f, -7.f, 1e30f, -1e30f, 3e37f, -3e37f};
    double worst = 0;
    alignas(64) float a[k::lanes], b[k::lanes], g[k::lanes], c[k::lanes], h[k::lanes], y[k::lanes];
    for (std::size_t i = 0; i < as.size(); i += k::lanes) {
        for (std::size_t j = 0; j < k::lanes; ++j) {
            const std::size_t n = i / k::lanes + j;
            a[j] = as[std::min(i + j, as.size() - 1)];
            b[j] = n % 83 == 0 ? far[n / 83 % 6] : -9.5f + 19.f * float(n * 29 % 107) / 106.f;
            g[j] = n % 97 == 0 ? far[n / 97 % 6] : -9.5f + 19.f * float(n * 37 % 101) / 100.f;
            c[j] = n % 89 == 0 ? far[n / 89 % 6] : -9.5f + 19.f * float(n * 53 % 103) / 102.f;
            h[j] = n % 79 == 0 ? far_h[n / 79 % 9] : -1.f + 2.f * float(n * 41 % 109) / 108.f;
        }
        k::detail::gru_step_fast_v(k::load(a), k::load(g), k::load(c), k::load(b), k::load(h)).store_aligned(y);
        for (std::size_t j = 0; j < k::lanes; ++j) {
            const double r = 1 / (1 + std::exp(-double(a[j]))), z = 1 / (1 + std::exp(-double(b[j])));
            const double arg = double(c[j]) + r * g[j], n = std::tanh(arg), hj = h[j];
            const double want = (1 - z) * n + z * hj;
            const double err = std::abs(double(y[j]) - want);
            const double cand = 1.5e-6 + 1e-6 * std::abs(g[j]) + 2.4e-7 * (1 + std::abs(arg));
            const double bound = (1 - z) * cand + 1e-6 * std::abs(n - hj) + 3.6e-7 * (1 + std::abs(hj));
            if (!(err <= bound && std::isfinite(y[j]) && std::abs(y[j]) <= std::max(std::abs(h[j]), 1.f) * (1 + 1e-6f))) {
                INFO("a = " << a[j] << ", b = " << b[j] << ", g = " << g[j] << ", c = " << c[j] << ", h = " << h[j] << ": " << y[j] << " against "
                            << want << ", bound " << bound);
                REQUIRE(false);
            }
            if (std::abs(g[j]) <= 9.5f && std::abs(c[j]) <= 9.5f && std::abs(h[j]) <= 1.f)
                worst = std::max(worst, err - (1 - z) * 1e-6 * std::abs(g[j]) - 1e-6 * std::abs(n - hj));
        }
    }
    WARN("GRU step's worst error, less the sigmoids' shares: " << worst);
}

// A bf16 hidden product's terms in registers (Bf16Terms): term J is units 2J and 2J + 1 of h
// rounded to bf16, to nearest, ties away from zero, as one word in every lane — the word
// kernels::bf16_pair_away makes, whichever way this build rounds (an integer addition and a
// word permute with AVX-512 BW, the vector or scalar rounding of to_bf16_pairs_away otherwise);
// ties, values that round up into the next binade, and the canonical NaN included.
TEST_CASE("a bf16 term in registers is the pair of units rounded to nearest, ties away", "[kernels][recurrent][bf16]") {
    std::vector<float> hs;
    for (std::uint32_t bits : {0x3f808000u, 0x3f818000u, 0xbf808000u, 0x3f7fffffu, 0x3f7f8000u, 0x00000000u, 0x80000000u, 0x3e000001u,
                               0x7fc00000u, 0x4effff80u, 0x3f800001u, 0xbf7fc000u}) {  // ties both ways, carries, +-0, NaN
        float v;
        std::memcpy(&v, &bits, 4);
        hs.push_back(v);
    }
    for (int i = 0; hs.size() % (2 * k::lanes) != 0 || i < 200; ++i) hs.push_back(std::sin(0.37f * float(i)) * std::pow(2.f, float(i % 11 - 5)));
    alignas(64) float h[k::lanes], got[k::lanes];
    for (std::size_t i = 0; i < hs.size(); i += k::lanes) {
        std::copy_n(hs.begin() + std::ptrdiff_t(i), k::lanes, h);
        const k::detail::Bf16Terms terms(k::load(h));
        [&]<std::size_t... J>(std::index_sequence<J...>) {
            const auto check = [&](std::size_t j, k::vfloat term) {
                term.store_aligned(got);
                const std::uint32_t want = k::bf16_pair_away(h[2 * j], h[2 * j + 1]);
                for (std::size_t l = 0; l < k::lanes; ++l) {
                    std::uint32_t word;
                    std::memcpy(&word, &got[l], 4);
                    if (word != want) {
                        INFO("term " << j << ", lane " << l << ": units " << h[2 * j] << ", " << h[2 * j + 1] << " give " << std::hex << word
                                     << " against " << want);
                        REQUIRE(word == want);
                    }
                }
            };
            (check(J, terms.template term<J>()), ...);
        }(std::make_index_sequence<k::lanes / 2>{});
    }
}

// Dense<1> on each step of a sequence (kernels::dense_rows, an amp model's last layer): a row
// alone (a stream's step) is bitwise that row in a block of any size (process in blocks,
// whole sequences), at every width the kernel specialises (2-16 values in one vector, 32-64
// in several, and one that is neither), and within a few roundings of the sum in double.
namespace {
template <std::size_t In>
void check_rows_alike() {
    const k::DensePacking d{In, 1};
    std::vector<float> w(In), b{0.25f};
    std::vector<float, xsimd::aligned_allocator<float>> packed(d.floats(true));  // the kernels load it aligned
    for (std::size_t i = 0; i < In; ++i) w[i] = 0.3f * std::sin(0.7f * float(i) + 0.2f) - 0.05f;
    k::dense_pack(d, w.data(), b.data(), packed.data());
    constexpr std::size_t rows = 37;
    std::vector<float> x(rows * In), all(rows), add(rows);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * float(i)) * (1.f + float(i % 7));
    for (std::size_t r = 0; r < rows; ++r) add[r] = 0.01f * float(r);
    for (std::size_t n : {std::size_t(1), std::size_t(2), std::size_t(15), std::size_t(16), std::size_t(17), rows}) {
        for (std::size_t r0 = 0; r0 < rows; r0 += n) {
            const std::size_t m = std::min(n, rows - r0);
            k::dense_rows<typenet::linear, In, 1>(packed.data(), x.data() + r0 * In, m, all.data() + r0, add.data() + r0);
        }
        for (std::size_t r = 0; r < rows; ++r) {
            float one;
            k::dense_rows<typenet::linear, In, 1>(packed.data(), x.data() + r * In, 1, &one, add.data() + r);
            INFO("In = " << In << ", blocks of " << n << ", row " << r);
            REQUIRE(std::bit_cast<std::uint32_t>(one) == std::bit_cast<std::uint32_t>(all[r]));
            double want = double(b[0]) + add[r], mag = std::abs(b[0]) + std::abs(add[r]);
            for (std::size_t i = 0; i < In; ++i) want += double(w[i]) * x[r * In + i], mag += std::abs(double(w[i]) * x[r * In + i]);
            REQUIRE(std::abs(double(one) - want) <= 8 * 0x1p-24 * mag);
        }
    }
}
}  // namespace

TEST_CASE("Dense<1> on each step: a row alone is that row in any block", "[kernels][recurrent][dense]") {
    check_rows_alike<2>();
    check_rows_alike<4>();
    check_rows_alike<8>();
    check_rows_alike<16>();
    check_rows_alike<32>();
    check_rows_alike<48>();
    check_rows_alike<64>();
    check_rows_alike<24>();
}
