// Names follow structure: torchvision's resnet18, written as a type with torchvision's module
// names (examples/zoo/resnet18.hpp), loads torchvision's state_dict with no renaming and
// computes what torchvision computes.
//
// The weights (45 MB) are not committed: tools/ir_fixtures.py draws them from a seeded
// generator that seeded_weights below implements too, and commits only the state_dict's
// names and shapes, one input and torchvision's output for it.
#include "../golden.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "../../examples/zoo/resnet18.hpp"

namespace tn = typenet;

namespace {

struct Entry {
    std::string name;
    std::vector<std::size_t> shape;
};

std::vector<Entry> torchvision_names() {
    std::ifstream f(golden::path("resnet18.names.txt"));
    std::vector<Entry> v;
    for (std::string line; std::getline(f, line);) {  // "name 64,3,7,7" (a scalar has no dims)
        std::stringstream s(line);
        Entry e;
        std::string dims;
        s >> e.name >> dims;
        std::stringstream d(dims);
        for (std::string k; std::getline(d, k, ',');) e.shape.push_back(std::stoul(k));
        v.push_back(std::move(e));
    }
    return v;
}

// tools/ir_fixtures.py's uniform(): splitmix64 of (seed << 32) + (t << 24) + j, top 24 bits.
double uniform(std::uint64_t seed, std::uint64_t t, std::uint64_t j) {
    std::uint64_t z = (seed << 32) + (t << 24) + j + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return double(z >> 40) / double(1u << 24);
}

// tools/ir_fixtures.py's seeded_value().
std::vector<float> seeded_tensor(const Entry& e, std::uint64_t seed, std::uint64_t t) {
    std::size_t n = 1, fan_in = 1;
    for (std::size_t d : e.shape) n *= d;
    for (std::size_t k = 1; k < e.shape.size(); ++k) fan_in *= e.shape[k];
    const bool vector = e.shape.size() == 1;
    std::vector<float> v(n);
    for (std::size_t j = 0; j < n; ++j) {
        const double u = uniform(seed, t, j);
        if (e.name.ends_with("running_var") || (vector && e.name.ends_with("weight"))) v[j] = float(0.5 + u);
        else if (vector) v[j] = float(0.2 * u - 0.1);
        else v[j] = float((2 * u - 1) / std::sqrt(double(fan_in)));
    }
    return v;
}

}  // namespace

TEST_CASE("torchvision's resnet18 as a type loads torchvision's state_dict with zero renames", "[names][golden][torchvision]") {
    using Model = zoo::ResNet18<64, 64>;
    STATIC_REQUIRE(Model::param_count == 11'699'112);  // torchvision's state_dict, BatchNorm statistics included
    const auto names = torchvision_names();
    std::vector<Entry> params;
    for (const Entry& e : names)
        if (!e.name.ends_with("num_batches_tracked")) params.push_back(e);
    // The type's parameter names and shapes are torchvision's (the order differs: typenet
    // lists a block's shortcut before its body, the order they run in).
    const auto& infos = tn::Net<Model>::param_infos();
    std::map<std::string, std::vector<std::size_t>> ours, theirs;
    for (const auto& p : infos) ours[p.name] = std::vector<std::size_t>(p.spec.dims.begin(), p.spec.dims.begin() + p.spec.rank);
    for (const Entry& e : params) theirs[e.name] = e.shape;
    REQUIRE(infos.size() == params.size());
    CHECK(ours == theirs);

    // torchvision's weights, drawn by the seeded generator, through the ordinary load path:
    // no renames, nothing missing, nothing unexpected.
    std::vector<std::vector<float>> values;
    std::vector<tn::NamedTensor> tensors;
    for (std::size_t t = 0; t < params.size(); ++t) values.push_back(seeded_tensor(params[t], 18, t));
    for (std::size_t t = 0; t < params.size(); ++t) tensors.push_back({params[t].name, params[t].shape, values[t]});
    const auto file = std::filesystem::temp_directory_path() / "typenet_resnet18_seeded.safetensors";
    tn::write_safetensors(file, tensors);
    auto net = tn::make<Model>();
    tn::load_weights(net, file, tn::from_pytorch);
    std::filesystem::remove(file);

    const auto io = tn::SafetensorsFile::read(golden::path("resnet18.io.safetensors"));
    const auto x = io.floats("input");
    const auto expected = io.floats("output");
    REQUIRE(x.size() == 64 * 64 * 3);
    std::vector<float> y(1000);
    net.forward(x.data(), y.data());
    golden::require_close(y.data(), expected.data(), 1, 1000, 1e-4);
}
