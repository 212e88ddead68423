// A guitar-amp model in an audio host's loop: reads a WAV file (libsndfile), runs an LSTM on
// it block by block as a plugin's process callback would — one State, no allocation per
// block — writes the result and prints the real-time factor.
//
//   streaming_amp in.wav out.wav model.json      (an RTNeural / AIDA-X style JSON model)
//   streaming_amp sine:110:2 out.wav model.json  (no WAV at hand: 2 s of a 110 Hz sine)
//
// The model is a type: an LSTM of 8 units then Dense 1, the shape of RTNeural's lstm_1d.json
// (GuitarML's and AIDA-X's models are the same with 16, 20 or 40 units: change the number).
// A file of another shape is refused in words, before anything runs.
#include <sndfile.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <typenet/typenet.hpp>

namespace tn = typenet;

using Amp = tn::Sequential<tn::Input<1, 1>, tn::LSTM<8, tn::return_sequences>, tn::Dense<1>>;

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s in.wav|sine:HZ:SECONDS out.wav model.json\n", argv[0]);
        return 2;
    }
    const std::string in_path = argv[1], out_path = argv[2];
    auto net = tn::make<Amp>();
    try {
        tn::load_rtneural(net, argv[3]);
    } catch (const tn::load_error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }

    // The input, mono (the first channel of a multi-channel file).
    std::vector<float> signal;
    int rate = 48000;
    if (in_path.rfind("sine:", 0) == 0) {
        double hz = 0, seconds = 0;
        if (std::sscanf(in_path.c_str(), "sine:%lf:%lf", &hz, &seconds) != 2 || hz <= 0 || seconds <= 0) {
            std::fprintf(stderr, "sine:HZ:SECONDS, e.g. sine:110:2\n");
            return 2;
        }
        signal.resize(std::size_t(seconds * rate));
        for (std::size_t i = 0; i < signal.size(); ++i) signal[i] = float(0.5 * std::sin(2 * M_PI * hz * double(i) / rate));
    } else {
        SF_INFO info{};
        SNDFILE* f = sf_open(in_path.c_str(), SFM_READ, &info);
        if (!f) {
            std::fprintf(stderr, "cannot read '%s': %s\n", in_path.c_str(), sf_strerror(nullptr));
            return 1;
        }
        std::vector<float> frames(std::size_t(info.frames) * std::size_t(info.channels));
        sf_readf_float(f, frames.data(), info.frames);
        sf_close(f);
        rate = info.samplerate;
        signal.resize(std::size_t(info.frames));
        for (std::size_t i = 0; i < signal.size(); ++i) signal[i] = frames[i * std::size_t(info.channels)];
    }

    // The host's loop: blocks of 256 samples through one State.
    constexpr std::size_t block = 256;
    std::vector<float> out(signal.size());
    auto state = net.make_state();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < signal.size(); i += block) {
        const std::size_t n = std::min(block, signal.size() - i);
        net.process(signal.data() + i, out.data() + i, n, state);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    SF_INFO info{};
    info.samplerate = rate;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE* f = sf_open(out_path.c_str(), SFM_WRITE, &info);
    if (!f) {
        std::fprintf(stderr, "cannot write '%s': %s\n", out_path.c_str(), sf_strerror(nullptr));
        return 1;
    }
    const sf_count_t written = sf_writef_float(f, out.data(), sf_count_t(out.size()));
    sf_close(f);
    const double audio = double(signal.size()) / rate;
    std::printf("%s: %zu samples at %d Hz in blocks of %zu: %.2f ms for %.2f s of audio, real-time factor %.0f\n", out_path.c_str(),
                signal.size(), rate, block, seconds * 1e3, audio, audio / seconds);
    std::printf("wrote %lld frames\n", static_cast<long long>(written));
    return written == sf_count_t(out.size()) ? 0 : 1;
}
