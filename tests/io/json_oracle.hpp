// io/json.hpp's reader against nlohmann-json, the oracle: used by tests/io/json.cpp and by the
// differential fuzz target tests/fuzz/json_fuzz.cpp.
#pragma once
#include <typenet/io/json.hpp>
#include <typenet/io/safetensors.hpp>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace json_oracle {
namespace json = typenet::json;

inline constexpr json::Limits loose{1000, std::size_t(-1), std::size_t(-1)};

// Where the two readers' values differ ("" if nowhere): kinds, strings, keys in order,
// integers exactly, other numbers as doubles.
inline std::string difference(const json::Value& a, const nlohmann::json& b, const std::string& where) {
    const auto differs = [&](const char* what) { return where + ": " + what + " differs"; };
    switch (a.kind) {
        case json::Value::Kind::null: return b.is_null() ? "" : differs("null");
        case json::Value::Kind::boolean: return b.is_boolean() && a.boolean == b.get<bool>() ? "" : differs("boolean");
        case json::Value::Kind::string: return b.is_string() && a.text == b.get<std::string>() ? "" : differs("string");
        case json::Value::Kind::number:
            if (!b.is_number() || a.is_unsigned != b.is_number_unsigned()) return differs("number kind");
            if (a.is_unsigned) return a.u == b.get<std::uint64_t>() ? "" : differs("integer");
            if (b.is_number_integer()) return a.number == double(b.get<std::int64_t>()) ? "" : differs("integer");
            return a.number == b.get<double>() ? "" : differs("number");
        case json::Value::Kind::array:
            if (!b.is_array() || a.items.size() != b.size()) return differs("array");
            for (std::size_t i = 0; i < a.items.size(); ++i)
                if (auto d = difference(a.items[i], b[i], where + "[" + std::to_string(i) + "]"); !d.empty()) return d;
            return "";
        case json::Value::Kind::object:
            if (!b.is_object() || a.keys.size() != b.size()) return differs("object");  // keys distinct: nlohmann's map has them all
            for (std::size_t i = 0; i < a.keys.size(); ++i) {
                if (!b.contains(a.keys[i])) return differs("key set");
                if (auto d = difference(a.items[i], b[a.keys[i]], where + "." + a.keys[i]); !d.empty()) return d;
            }
            return "";
    }
    return "";
}

// "" if the verdicts agree on `text`: both read it and the same values, or both refuse it as
// JSON, or typenet refuses a key given twice (nlohmann-json keeps the last one) or bytes
// other than padding after a NUL (nlohmann-json stops reading at the NUL); else what differs.
inline std::string disagreement(std::string_view text) {
    std::optional<nlohmann::json> theirs;
    try {
        theirs = nlohmann::json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception&) {
    }
    try {
        const json::Value ours = json::parse(text, loose);
        if (!theirs) return "typenet reads what nlohmann-json refuses";
        return difference(ours, *theirs, "$");
    } catch (const json::error& e) {
        const std::string what = e.what();
        const bool after_nul = what.find("after the value") != std::string::npos && text.find('\0') != text.npos;
        if (after_nul) return "";
        if (e.syntax) return theirs ? "typenet refuses what nlohmann-json reads: " + what : "";
        return what.find("twice") != std::string::npos ? "" : "typenet refuses with a limit: " + what;
    }
}
}  // namespace json_oracle
