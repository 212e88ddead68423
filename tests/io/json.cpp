// io/json.hpp, the reader of weight files' JSON headers, against nlohmann-json (which it
// replaced in the library to take ~4 s of g++ off every translation unit that loads weights):
// on hand-written edge cases, the fuzz corpus' headers and 60,000 random mutations of real
// headers, both accept the same texts and read the same values; the writer's headers are the
// bytes nlohmann-json's dump() writes.
#include <typenet/typenet.hpp>
#if defined(NLOHMANN_JSON_VERSION_MAJOR)
#error "typenet/typenet.hpp includes nlohmann-json: every translation unit that includes it would parse it (~2 s)"
#endif
#include "json_oracle.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

namespace tn = typenet;
namespace json = tn::json;

namespace {
using json_oracle::loose;

void agree(std::string_view text) {
    INFO("text: " << tn::detail::quoted(text));
    CHECK(json_oracle::disagreement(text) == "");
}

const std::string real_header =
    R"({"__metadata__":{"format":"pt","note":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/"},)"
    R"("conv.weight":{"dtype":"F32","shape":[16,3,3,3],"data_offsets":[0,1728]},)"
    R"( "bn.running_var" : { "shape" : [ 16 ] , "dtype" : "BF16", "data_offsets" : [1728, 1760] } ,)"
    "\"h\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[1760,1768]},"
    R"("x":[0,-0,1.5,-2.25e-3,1E+2,18446744073709551615,18446744073709551616,-9223372036854775808,1e-400,true,false,null]}   )";
}  // namespace

TEST_CASE("the header reader accepts what nlohmann-json accepts, and reads the same values", "[io][json]") {
    agree(real_header);
    for (const char* t : {"{}", "[]", "0", "-0", "\"\"", " {\"a\" : [ ] } ", "[[[]]]", "1e308", "-1e308", "1e-400", "0.0000001e-330",
                          "123456789012345678901234567890", "2.5E-3", "\"\\u0000\"", "\"\\uD834\\uDD1E\"", "\"\xF4\x8F\xBF\xBF\"",
                          "\"\xE0\xA0\x80\"", "\"\xED\x9F\xBF\"", "\"\x7F\""})
        agree(t);
    for (const char* t : {"", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\"}", "{\"a\":}", "{a:1}", "[01]", "[1.]", "[.5]", "[-]",
                          "[1e]", "[1e+]", "[+1]", "[0x10]", "[NaN]", "[Infinity]", "1e309", "-1e400",
                          "tru", "nul", "[true false]", "\"\\x\"",
                          "\"\\u12\"", "\"\\uDC00\"", "\"\\uD800\"", "\"\\uD800\\u0041\"", "\"a\nb\"", "\"a\tb\"", "\"\xC0\x80\"",
                          "\"\xC1\xBF\"", "\"\xE0\x9F\xBF\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"", "\"\xF5\x80\x80\x80\"",
                          "\"\x80\"", "\"\xC3\"", "\"abc", "{} {}", "{}x", "[1]\0"})
        agree(t);
    agree("1" + std::string(400, '0') + ".5");  // overflows a double
    agree("[1e-310, 4.9e-324, 2.2250738585072014e-308, 0." + std::string(400, '0') + "1]");  // subnormal, underflowing
    agree(std::string_view("[1]\0", 4));
    agree(std::string_view("[1] \0\0 \0", 7));
    agree(std::string_view("[1]\0x", 5));
    agree(std::string_view("\"a\0b\"", 5));
}

TEST_CASE("the header reader agrees with nlohmann-json on the fuzz corpus and on mutated headers", "[io][json][fuzz]") {
    std::vector<std::string> seeds = {real_header};
    std::size_t corpus = 0;
    for (const auto& e : std::filesystem::directory_iterator(TYPENET_FIXTURES "/../fuzz/corpus/safetensors")) {
        std::ifstream f(e.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (bytes.size() < 8) continue;
        std::uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[std::size_t(i)]);
        const std::string header = bytes.substr(8, std::size_t(std::min<std::uint64_t>(n, bytes.size() - 8)));
        agree(header);
        if (header.size() < 4096) seeds.push_back(header);
        ++corpus;
    }
    CHECK(corpus > 800);
    // Mutations toward the grammar's corners: JSON punctuation, escapes, number parts and
    // the first bytes of multi-byte UTF-8 (valid and not).
    const std::string alphabet = "{}[]:,\"\\/u0123456789-+.eEtfnrlsa \t\n\x01\x7F\xC2\xC3\xE0\xED\xEF\xF0\xF4\xF5\x80\x9F\xA0\xBF";
    std::mt19937_64 rng(20261204);
    for (int i = 0; i < 60000; ++i) {
        std::string t = seeds[rng() % seeds.size()];
        const int edits = 1 + int(rng() % 3);
        for (int k = 0; k < edits && !t.empty(); ++k) {
            const std::size_t at = rng() % t.size();
            switch (rng() % 4) {
                case 0: t[at] = alphabet[rng() % alphabet.size()]; break;
                case 1: t.insert(t.begin() + std::ptrdiff_t(at), alphabet[rng() % alphabet.size()]); break;
                case 2: t.erase(at, 1 + rng() % 4); break;
                default: t.insert(at, t.substr(rng() % t.size(), 1 + rng() % 8));
            }
        }
        agree(t);
    }
}

TEST_CASE("written headers are the bytes nlohmann-json writes, and read back to the same names", "[io][json]") {
    const std::vector<std::size_t> s1{2, 3}, s0{};
    const std::vector<std::string> names = {"b.weight", "a\"quote", "back\\slash", "tab\tnew\nline\x01\x1f\x7f", "caf\xC3\xA9 \xF0\x9F\x98\x80",
                                            "", "/slash"};
    std::vector<tn::detail::HeaderEntry> entries;
    nlohmann::json theirs = nlohmann::json::object();
    std::size_t offset = 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
        const auto& shape = i % 2 ? s1 : s0;
        entries.push_back({names[i], "F32", shape, offset, offset + 4 * (i % 2 ? 6 : 1)});
        theirs[names[i]] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {offset, offset + 4 * (i % 2 ? 6 : 1)}}};
        offset += 4 * (i % 2 ? 6 : 1);
    }
    const std::string ours = tn::detail::safetensors_header(entries);
    std::string dumped = theirs.dump();
    dumped.append((8 - dumped.size() % 8) % 8, ' ');
    CHECK(ours == dumped);
    const json::Value back = json::parse(ours, loose);
    REQUIRE(back.keys.size() == names.size());
    for (const std::string& n : names) CHECK(back.find(n) != nullptr);

    SECTION("a name that is not UTF-8, or given twice, is refused in words") {
        entries.push_back({"bad\xC3(", "F32", s0, offset, offset + 4});
        REQUIRE_THROWS_WITH(tn::detail::safetensors_header(entries), Catch::Contains("is not valid UTF-8"));
        entries.back() = {"b.weight", "F32", s0, offset, offset + 4};
        REQUIRE_THROWS_WITH(tn::detail::safetensors_header(entries), Catch::Contains("two tensors are named 'b.weight'"));
    }
}

TEST_CASE("limits and repeated keys are refused as the reader meets them, in words", "[io][json][errors]") {
    auto message = [](std::string_view text, json::Limits limits) -> std::string {
        try {
            json::parse(text, limits);
        } catch (const json::error& e) {
            CHECK_FALSE(e.syntax);
            return e.what();
        }
        return "";
    };
    CHECK_THAT(message("[[[1]]]", {2, 64, 64}), Catch::Contains("the header nests deeper than 2 levels"));
    CHECK_THAT(message("[[1,2,3]]", {8, 2, 64}), Catch::Contains("an array in the header has more than 2 elements"));
    CHECK_THAT(message(R"({"abcdef":1})", {8, 64, 5, "the JSON"}), Catch::Contains("a name in the JSON is 6 bytes"));
    CHECK_THAT(message(R"({"a":{"k":1,"j":2,"k":3}})", {8, 64, 64}), Catch::Contains("the header gives the key 'k' twice") &&
                                                                          !Catch::Contains("two tensors"));
    CHECK(json::parse("[[1,2]]", {2, 2, 64}).items[0].items[1].u == 2);  // at the limits: read
    // A header of 200,000 tensors is read in time linear-logarithmic in them (not one search
    // of the keys per key).
    std::string big = "{";
    for (int i = 0; i < 200000; ++i) big += (i ? ",\"t" : "\"t") + std::to_string(i) + "\":[]";
    big += "}";
    CHECK(json::parse(big, loose).keys.size() == 200000);
}
