// The driver of tools/ab.sh: two revisions' models (bench/ab_side.cpp, each its own shared
// object) in one process, timed call for call on one core — a, b, b, a in every round, so both
// see the same phase of a noisy machine — and each model's median ratio a / b over the rounds
// with its quartiles. Which object is loaded first (its memory placed first) biases the ratio
// by up to a few percent on a VM, so tools/ab.sh runs both orders and combines them.
//   ab_main A.so B.so [rounds]
#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

struct Side {
    int (*count)();
    const char* (*name)(int);
    void (*setup)();
    double (*run)(int, int);
};

Side open_side(const char* path) {
    void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        std::fprintf(stderr, "ab_main: %s\n", dlerror());
        std::exit(2);
    }
    auto sym = [&](const char* s) {
        void* p = dlsym(h, s);
        if (!p) {
            std::fprintf(stderr, "ab_main: %s has no %s\n", path, s);
            std::exit(2);
        }
        return p;
    };
    return {reinterpret_cast<int (*)()>(sym("ab_count")), reinterpret_cast<const char* (*)(int)>(sym("ab_name")),
            reinterpret_cast<void (*)()>(sym("ab_setup")), reinterpret_cast<double (*)(int, int)>(sym("ab_run"))};
}

double at(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v[std::size_t(q * double(v.size() - 1) + 0.5)];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: ab_main A.so B.so [rounds]\n");
        return 2;
    }
    const Side a = open_side(argv[1]), b = open_side(argv[2]);
    const int rounds = argc > 3 ? std::atoi(argv[3]) : 31;
    a.setup();
    b.setup();
    for (int m = 0; m < a.count(); ++m) {
        a.run(m, 1), b.run(m, 1);  // first touches
        const int calls = std::max(1, int(4000.0 / std::min(a.run(m, 1), b.run(m, 1))));  // ~4 ms a turn
        std::vector<double> ratio, ta, tb;
        for (int r = 0; r < rounds; ++r) {
            const double a1 = a.run(m, calls), b1 = b.run(m, calls), b2 = b.run(m, calls), a2 = a.run(m, calls);
            ratio.push_back((a1 + a2) / (b1 + b2));
            ta.push_back((a1 + a2) / 2);
            tb.push_back((b1 + b2) / 2);
        }
        std::printf("%-20s a %10.2f us  b %10.2f us  a/b %.4f (quartiles %.4f-%.4f)\n", a.name(m), at(ta, 0.5), at(tb, 0.5),
                    at(ratio, 0.5), at(ratio, 0.25), at(ratio, 0.75));
    }
}
