// One program, several compiled models: the weights file decides which runs.
//
//   any_model model.json     (an RTNeural JSON model: the GRU, the LSTM or the TCN-like conv)
//
// tn::AnyModel holds one of the three types below; load_rtneural tries each against the file
// (its layers, activations and tensor shapes) and keeps the first that fits, or says for each
// why not. process then runs the chosen model's own compiled code, block by block.
#include <cmath>
#include <cstdio>
#include <vector>

#include <typenet/typenet.hpp>

#include "rtneural_models.hpp"

namespace tn = typenet;

using Gru = rtneural_models::Gru1d<1>;
using Lstm = rtneural_models::Lstm1d<1>;
using Conv = rtneural_models::Conv<1>;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s model.json\n", argv[0]);
        return 2;
    }
    tn::AnyModel<Gru, Lstm, Conv> model;
    try {
        tn::load_rtneural(model, argv[1]);
    } catch (const tn::load_error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    std::printf("model %zu of 3: %s\n", model.index(), model.model_name().c_str());
    std::vector<float> x(4096), y(4096);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(std::sin(0.05 * double(i)));
    for (std::size_t i = 0; i < x.size(); i += 512) model.process(x.data() + i, y.data() + i, 512);
    double energy = 0;
    for (float v : y) energy += double(v) * v;
    std::printf("4096 samples in blocks of 512: output RMS %.6f\n", std::sqrt(energy / double(y.size())));
    return 0;
}
