// Hostile files: each defect an attacker's file once exposed (sizes that overflow, archives
// that overlap, headers without end, duplicate names, a .npy header that lies, special files,
// names that are terminal escapes) is a load_error in words here, decided in bounded work.
#include "../golden.hpp"

#include <typenet/io/npy.hpp>
#include <typenet/io/weights.hpp>
#include <typenet/model/sequential.hpp>
#include <typenet/layers/dense.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <string>
#include <vector>

namespace tn = typenet;

// Bytes allocated on this thread while a probe is active: how "bounded memory" is asserted
// without timing anything. (This test is an executable of its own: counting_new.hpp
// replaces every allocation function.)
#include "../counting_new.hpp"
namespace {
thread_local bool counting = false;
thread_local std::size_t allocated = 0;
struct AllocationProbe {
    AllocationProbe() { allocated = 0, counting = true; }
    ~AllocationProbe() { counting = false; }
    std::size_t bytes() const { return allocated; }
};
}  // namespace
void on_allocation(std::size_t n) noexcept {
    if (counting) allocated += n;
}

namespace {
// A safetensors file: the header as given, then `data` zero bytes.
std::vector<std::uint8_t> safetensors(const std::string& header, std::size_t data = 0) {
    std::vector<std::uint8_t> b(8 + header.size() + data, 0);
    for (int i = 0; i < 8; ++i) b[std::size_t(i)] = std::uint8_t(std::uint64_t(header.size()) >> (8 * i));
    std::memcpy(b.data() + 8, header.data(), header.size());
    return b;
}
std::string message_of(auto&& f) {
    try {
        f();
    } catch (const tn::load_error& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("NOT A load_error: ") + e.what();
    }
    return "no error";
}

// A .npy file of float32 values with the given header dict text.
std::vector<std::uint8_t> npy(const std::string& dict, std::size_t floats) {
    std::string h = dict;
    while ((10 + h.size() + 1) % 64) h += ' ';
    h += '\n';
    std::vector<std::uint8_t> b(10 + h.size() + 4 * floats, 0);
    const std::uint8_t magic[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, std::uint8_t(h.size()), std::uint8_t(h.size() >> 8)};
    std::memcpy(b.data(), magic, 10);
    std::memcpy(b.data() + 10, h.data(), h.size());
    return b;
}

// A stored (uncompressed) zip: one local header per distinct entry, and directory records
// that may point several names at one local header (`local_of[i]` is the entry record i uses).
void put16(std::vector<std::uint8_t>& b, std::size_t v) {
    b.push_back(std::uint8_t(v)), b.push_back(std::uint8_t(v >> 8));
}
void put32(std::vector<std::uint8_t>& b, std::size_t v) { put16(b, v & 0xFFFF), put16(b, v >> 16); }
std::vector<std::uint8_t> zip(const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& entries,
                              const std::vector<std::pair<std::string, std::size_t>>& records) {
    std::vector<std::uint8_t> b;
    std::vector<std::size_t> at;
    for (const auto& [name, data] : entries) {
        at.push_back(b.size());
        put32(b, 0x04034b50), put16(b, 20), put16(b, 0), put16(b, 0), put32(b, 0);
        put32(b, tn::detail::crc32(data)), put32(b, data.size()), put32(b, data.size());
        put16(b, name.size()), put16(b, 0);
        b.insert(b.end(), name.begin(), name.end());
        b.insert(b.end(), data.begin(), data.end());
    }
    const std::size_t cd = b.size();
    for (const auto& [name, e] : records) {
        const auto& data = entries[e].second;
        put32(b, 0x02014b50), put16(b, 20), put16(b, 20), put16(b, 0), put16(b, 0), put32(b, 0);
        put32(b, tn::detail::crc32(data)), put32(b, data.size()), put32(b, data.size());
        put16(b, name.size()), put16(b, 0), put16(b, 0), put16(b, 0), put16(b, 0), put32(b, 0), put32(b, at[e]);
        b.insert(b.end(), name.begin(), name.end());
    }
    const std::size_t cd_size = b.size() - cd;
    put32(b, 0x06054b50), put16(b, 0), put16(b, 0), put16(b, records.size()), put16(b, records.size());
    put32(b, cd_size), put32(b, cd), put16(b, 0);
    return b;
}
const std::string f32_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }";
}  // namespace

TEST_CASE("sizes that overflow are errors, not a length_error later", "[io][hostile]") {
    // 2^62 F32 elements: the byte count wraps to 0 and once matched data_offsets [0, 0].
    const auto wraps = safetensors(R"({"x":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})");
    CHECK_THAT(message_of([&] { tn::SafetensorsFile(wraps, "wraps.safetensors"); }), Catch::Contains("needs more bytes than memory can hold"));
    const auto product = safetensors(R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})");
    CHECK_THAT(message_of([&] { tn::SafetensorsFile(product, "p.safetensors"); }), Catch::Contains("element count overflows"));
    const auto npy_wraps = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }", 0);
    CHECK_THAT(message_of([&] { tn::read_npy(npy_wraps, "w"); }), Catch::Contains("more bytes than memory can hold"));
}

TEST_CASE("a header past the limits is refused at once, in bounded memory", "[io][hostile][limits]") {
    SECTION("header length") {
        const auto big = safetensors(R"({"__metadata__":{"a":")" + std::string(40'000, 'x') + R"("}})");
        tn::ReadLimits small;
        small.max_header_bytes = 16'384;
        CHECK_THAT(message_of([&] { tn::SafetensorsFile(big, "big", small); }), Catch::Contains("larger than ReadLimits::max_header_bytes"));
        CHECK_NOTHROW(tn::SafetensorsFile(big, "big"));  // within the default 16 MiB
    }
    SECTION("nesting: 4 MB of '[' is refused after a few levels") {
        const auto deep = safetensors(std::string(4 << 20, '['));
        AllocationProbe probe;
        CHECK_THAT(message_of([&] { tn::SafetensorsFile::view(deep, "deep"); }), Catch::Contains("nests deeper than 8 levels"));
        CHECK(probe.bytes() < 64 * 1024);
    }
    SECTION("rank: a shape of a million dimensions is refused at the 65th") {
        std::string shape = "[1";
        for (int i = 0; i < 1'000'000; ++i) shape += ",1";
        const auto wide = safetensors(R"({"x":{"dtype":"F32","shape":)" + shape + R"(],"data_offsets":[0,4]}})", 4);
        AllocationProbe probe;
        CHECK_THAT(message_of([&] { tn::SafetensorsFile::view(wide, "wide"); }), Catch::Contains("more than 64 elements"));
        CHECK(probe.bytes() < 64 * 1024);
    }
    SECTION("a name of a megabyte") {
        const auto named = safetensors(R"({")" + std::string(1 << 20, 'n') + R"(":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4);
        const std::string m = message_of([&] { tn::SafetensorsFile::view(named, "named"); });
        CHECK_THAT(m, Catch::Contains("more than ReadLimits::max_name_bytes"));
        CHECK_THAT(m, Catch::Contains("(cut; 1048576 bytes)"));
        CHECK(m.size() < 400);  // the message does not carry the name
    }
    SECTION("the limits are settable") {
        std::string shape = "[1";
        for (int i = 0; i < 69; ++i) shape += ",1";
        const auto rank70 = safetensors(R"({"x":{"dtype":"F32","shape":)" + shape + R"(],"data_offsets":[0,4]}})", 4);
        CHECK_THROWS_AS(tn::SafetensorsFile::view(rank70, "r"), tn::load_error);
        tn::ReadLimits wide;
        wide.max_rank = 128;
        CHECK(tn::SafetensorsFile::view(rank70, "r", wide).find("x")->shape.size() == 70);
    }
}

TEST_CASE("a name given twice is an error, never last-one-wins", "[io][hostile][duplicates]") {
    const auto twice = safetensors(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8);
    CHECK_THAT(message_of([&] { tn::SafetensorsFile(twice, "t"); }), Catch::Contains("gives the key 'w' twice (two tensors of one name)"));
    const auto field_twice = safetensors(R"({"w":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}})", 4);
    CHECK_THAT(message_of([&] { tn::SafetensorsFile(field_twice, "t"); }), Catch::Contains("gives the key 'dtype' twice"));

    const auto a = npy(f32_dict, 4);
    const auto two_entries = zip({{"0.weight.npy", a}, {"0.weight.npy", a}}, {{"0.weight.npy", 0}, {"0.weight.npy", 1}});
    CHECK_THAT(message_of([&] { tn::read_npz(two_entries, "two.npz"); }), Catch::Contains("both give the tensor '0.weight'"));
    const auto with_and_without = zip({{"0.weight.npy", a}, {"0.weight", a}}, {{"0.weight.npy", 0}, {"0.weight", 1}});
    CHECK_THAT(message_of([&] { tn::read_npz(with_and_without, "two.npz"); }),
               Catch::Contains("entries '0.weight.npy' and '0.weight' both give the tensor '0.weight'"));
    const auto fine = zip({{"0.weight.npy", a}, {"0.bias.npy", a}}, {{"0.weight.npy", 0}, {"0.bias.npy", 1}});
    CHECK(tn::read_npz(fine, "fine.npz").tensors().size() == 2);
}

TEST_CASE("overlapping zip entries and archives that declare too much are refused before inflating", "[io][hostile][npz]") {
    const auto a = npy(f32_dict, 4);
    std::vector<std::pair<std::string, std::size_t>> records;
    for (int i = 0; i < 256; ++i) {
        std::string name = std::to_string(i);  // (not "w" + to_string: g++ 12's false -Wrestrict)
        name.insert(0, 1, 'w');
        records.emplace_back(name + ".npy", 0);
    }
    const auto overlapping = zip({{"w0.npy", a}}, records);
    AllocationProbe probe;
    CHECK_THAT(message_of([&] { tn::read_npz(overlapping, "bomb.npz"); }), Catch::Contains("entries 'w0.npy' and 'w1.npy' overlap in the file"));
    CHECK(probe.bytes() < 256 * 1024);

    tn::ReadLimits small;
    small.max_archive_bytes = 100;
    const auto two = zip({{"a.npy", a}, {"b.npy", a}}, {{"a.npy", 0}, {"b.npy", 1}});
    CHECK_THAT(message_of([&] { tn::read_npz(two, "two.npz", small); }), Catch::Contains("more than ReadLimits::max_archive_bytes (100)"));
    CHECK(tn::read_npz(two, "two.npz").tensors().size() == 2);
}

TEST_CASE("the .npy header is parsed as a Python dict, not searched", "[io][hostile][npy]") {
    auto msg = [](const std::string& dict) { return message_of([&] { tn::read_npy(npy(dict, 4), "x", "h.npy"); }); };
    // The descr hidden inside another key's string once made int32 data load as float32.
    CHECK_THAT(msg(R"({'x': "'descr': '<f4', ", 'descr': '<i4', 'fortran_order': False, 'shape': (4,), })"), Catch::Contains("has a key 'x'"));
    CHECK_THAT(msg("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 2], }"), Catch::Contains("shape must be a tuple"));
    CHECK_THAT(msg("{'descr': '<f4', 'fortran_order': False, 'shape': 4, }"), Catch::Contains("shape must be a tuple"));
    CHECK_THAT(msg("{'descr': '<f4', 'fortran_order': False, 'shape': (4), }"), Catch::Contains("a 1-d shape is written (n,)"));
    CHECK_THAT(msg("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"), Catch::Contains("the key 'descr' twice"));
    CHECK_THAT(msg("{'descr': '<f4', 'shape': (4,), }"), Catch::Contains("no 'fortran_order'"));
    CHECK_THAT(msg("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }"), Catch::Contains("dtype '<i4' is not a little-endian float"));
    CHECK_THAT(msg("{'descr': '<f4', 'fortran_order': 0, 'shape': (4,), }"), Catch::Contains("True or False"));
    CHECK_THAT(msg("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), } x"), Catch::Contains("text after its dict"));
    // What NumPy writes, in every spelling it has used, loads.
    CHECK(tn::read_npy(npy(f32_dict, 4), "x").find("x")->shape == std::vector<std::size_t>{4});
    CHECK(tn::read_npy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)}", 4), "x").find("x")->shape.size() == 2);
    CHECK(tn::read_npy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 2L), }", 4), "x").find("x")->shape.size() == 2);
    CHECK(tn::read_npy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 1), "x").find("x")->shape.empty());
}

TEST_CASE("special files are load_errors naming the file, and nothing blocks", "[io][hostile][files]") {
    const auto dir = std::filesystem::temp_directory_path() / ("typenet_hostile_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto fifo = dir / "weights.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THAT(message_of([&] { tn::SafetensorsFile::read(fifo); }), Catch::Contains("weights.fifo' is not a regular file"));
    CHECK_THAT(message_of([&] { tn::read_npz(fifo); }), Catch::Contains("weights.fifo' is not a regular file"));
    CHECK_THAT(message_of([&] { tn::read_npz("/dev/zero"); }), Catch::Contains("'/dev/zero' is not a regular file"));
    CHECK_THAT(message_of([&] { tn::read_npz(dir); }), Catch::Contains("is not a regular file"));
    CHECK_THAT(message_of([&] { tn::read_npy(dir / "absent.npy", "x"); }), Catch::Contains("cannot open"));
    // The non-throwing readers.
    const tn::ReadResult r = tn::try_read_npz(fifo);
    CHECK_FALSE(r);
    REQUIRE(r.error);
    CHECK_THAT(std::string(r.error->what()), Catch::Contains("not a regular file"));
    CHECK_FALSE(tn::try_read_safetensors("/dev/zero"));
    CHECK(tn::try_read_npz(golden::path("odd.npz")));
    std::filesystem::remove_all(dir);
}

TEST_CASE("names in messages are escaped and cut; an overlap names both tensors", "[io][hostile][messages]") {
    const auto evil = safetensors(R"({"a\n\u001b[31mred":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I99","shape":[1],"data_offsets":[0,4]}})", 4);
    const std::string m = message_of([&] { tn::SafetensorsFile(evil, "e"); });
    CHECK_THAT(m, Catch::Contains("unknown dtype 'I99'"));
    const auto escaped = safetensors(
        R"({"0.weight":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"0.bias":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
        R"("a\n\u001b[31mred":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
        12);
    using Tiny = tn::Sequential<tn::Input<1>, tn::Dense<1>>;
    auto net = tn::make<Tiny>();
    const std::string u = message_of([&] { tn::load_weights(net, tn::SafetensorsFile(escaped, "e"), tn::from_pytorch); });
    CHECK_THAT(u, Catch::Contains(R"(unexpected tensor 'a\n\x1b[31mred')"));
    CHECK(u.find('\x1b') == std::string::npos);
    CHECK(u.find('\n') == std::string::npos);
    CHECK(tn::detail::quoted("a\n\x1b[31mred") == R"('a\n\x1b[31mred')");

    const auto overlap = safetensors(R"({"first":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"second":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8);
    CHECK_THAT(message_of([&] { tn::SafetensorsFile(overlap, "o"); }),
               Catch::Contains("the data of tensors 'first' [0, 8) and 'second' [4, 8) overlap"));
}

TEST_CASE("save_weights writes through a fresh temporary: a planted symlink is not followed", "[io][hostile][save]") {
    const auto dir = std::filesystem::temp_directory_path() / ("typenet_save_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto target = dir / "model.safetensors", victim = dir / "victim.txt";
    { std::ofstream(victim) << "precious"; }
    std::filesystem::create_symlink(victim, target.string() + ".tmp");  // the name the old writer used
    using Tiny = tn::Sequential<tn::Input<3>, tn::Dense<2>>;
    auto net = tn::make<Tiny>(tn::seed{7});
    tn::save_weights(net, target);
    std::ifstream v(victim);
    std::string content((std::istreambuf_iterator<char>(v)), std::istreambuf_iterator<char>());
    CHECK(content == "precious");
    auto back = tn::make<Tiny>();
    tn::load_weights(back, target);
    CHECK(back.get_weights() == net.get_weights());
    struct stat st {};
    REQUIRE(::stat(target.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
    // A file read below ReadLimits::map_at_least_bytes is a copy: truncating it on disk
    // during the load changes nothing (a mapped file would raise SIGBUS here).
    const auto opened = tn::SafetensorsFile::read(target);
    std::filesystem::resize_file(target, 0);
    auto again = tn::make<Tiny>();
    tn::load_weights(again, opened);
    CHECK(again.get_weights() == net.get_weights());
    std::size_t files = 0;  // no temporary left behind
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
    CHECK(files == 3);  // victim, the planted link, the model
    std::filesystem::remove_all(dir);
}
