// Weights compiled into the binary (tools/embed_weights.cpp) load through the same checks.
#include "../golden.hpp"

#include "odd_weights.hpp"  // generated at build time from tests/fixtures/odd.weights.safetensors

namespace tn = typenet;
using Odd = tn::Sequential<tn::Input<37>, tn::Dense<53, tn::tanh>, tn::Dense<29, tn::gelu>, tn::Dense<11, tn::log_softmax>>;

TEST_CASE("compiled-in weights load like the file and give PyTorch's numbers", "[io][embedded]") {
    auto embedded = tn::make<Odd>(), from_file = tn::make<Odd>();
    tn::load_weights(embedded, tn::SafetensorsFile::view(odd_weights, "odd_weights"), tn::from_pytorch);
    tn::load_weights(from_file, golden::path("odd.weights.safetensors"), tn::from_pytorch);
    CHECK(embedded.get_weights() == from_file.get_weights());
    const auto d = golden::io("odd");
    std::vector<float> y(d.rows * d.out_size);
    embedded.predict(d.input.data(), y.data(), d.rows);
    golden::require_close(y.data(), d.output.data(), d.rows, d.out_size);
}
