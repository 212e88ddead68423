// The JSON of weight files' headers (safetensors' header, the one a .npz is given when it is
// read as safetensors): a strict reader of RFC 8259 — UTF-8 checked, surrogates paired,
// numbers by the grammar, nothing after the value but whitespace — bounded as it reads by
// the caller's depth, array-length and key-length limits and refusing a key given twice in
// one object; and the writer of the headers typenet saves.
//
// Plain functions, not templates: this is the code every translation unit that loads
// weights compiles. nlohmann-json's parser cost such a unit ~4 s of g++ -O2 (its header
// alone 2 s, the parser's instantiation 1.9 s, the writer 1.4 s: docs/zoo.md); RTNeural's
// JSON model files, whole documents of nested layers, are still read with it
// (io/rtneural.hpp), and the tests check this reader against it (tests/io/json.cpp).
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace typenet::inline TYPENET_ISA_NAMESPACE {

namespace detail {
// A name read from a file, as a message shows it: quoted, control and non-ASCII bytes
// escaped (\n, \x1b), and cut at 96 bytes with its full length said, so that no file can
// put a terminal escape or a megabyte into an error message.
inline std::string quoted(std::string_view name) {
    constexpr std::size_t shown = 96;
    std::string o = "'";
    const char* hex = "0123456789abcdef";
    for (std::size_t i = 0; i < name.size() && i < shown; ++i) {
        const unsigned char c = static_cast<unsigned char>(name[i]);
        if (c == '\\') o += "\\\\";
        else if (c == '\'') o += "\\'";
        else if (c == '\n') o += "\\n";
        else if (c >= 0x20 && c < 0x7F) o += char(c);
        else o += std::string("\\x") + hex[c >> 4] + hex[c & 15];
    }
    o += "'";
    if (name.size() > shown) o += " (cut; " + std::to_string(name.size()) + " bytes)";
    return o;
}
}  // namespace detail

namespace json {

struct Value {
    enum class Kind : std::uint8_t { null, boolean, number, string, array, object };
    Kind kind = Kind::null;
    bool boolean = false;
    bool is_unsigned = false;  // a number written as digits only that fits 64 bits (its value in `u`)
    std::uint64_t u = 0;
    double number = 0;         // a number's value (the nearest double; 0 for one that underflows)
    std::string text;                // a string's value
    std::vector<Value> items;        // an array's elements; an object's member values
    std::vector<std::string> keys;   // an object's member names, in file order, beside `items`

    bool is_object() const noexcept { return kind == Kind::object; }
    bool is_array() const noexcept { return kind == Kind::array; }
    bool is_string() const noexcept { return kind == Kind::string; }
    bool is_number() const noexcept { return kind == Kind::number; }
    const Value* find(std::string_view key) const noexcept {
        for (std::size_t i = 0; i < keys.size(); ++i)
            if (keys[i] == key) return &items[i];
        return nullptr;
    }
};

struct Limits {
    std::size_t max_depth;                // arrays and objects open at once
    std::size_t max_items;                // elements of one array
    std::size_t max_key_bytes;            // one object key
    std::string_view document = "the header";  // what messages call the text
};

// The kind's name in messages ("a tensor holds string where a number belongs").
inline std::string kind_name(const Value& v) {
    constexpr const char* names[] = {"null", "boolean", "number", "string", "array", "object"};
    return names[static_cast<int>(v.kind)];
}

// `syntax`: the text is not JSON (the message says what and at which byte); otherwise a
// limit was passed or a key repeated (the message says which).
class error : public std::runtime_error {
  public:
    error(const std::string& what, bool syntax) : std::runtime_error(what), syntax(syntax) {}
    bool syntax;
};

namespace detail {
// The short escapes: the letter after a backslash, and the character it stands for.
inline constexpr std::string_view escape_letters = "\"\\/bfnrt", escaped_chars = "\"\\/\b\f\n\r\t";

// The length of the UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF) that begins at s[i], a byte >= 0x80; 0 if there is none.
inline std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 1;
    else if (c == 0xE0) n = 2, lo = 0xA0;
    else if (c == 0xED) n = 2, hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF) n = 2;
    else if (c == 0xF0) n = 3, lo = 0x90;
    else if (c == 0xF4) n = 3, hi = 0x8F;
    else if (c >= 0xF1 && c <= 0xF3) n = 3;
    else return 0;
    for (std::size_t k = 1; k <= n; ++k) {
        const unsigned char t = i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0;
        if (t < (k == 1 ? lo : 0x80) || t > (k == 1 ? hi : 0xBF)) return 0;
    }
    return n + 1;
}

class Reader {
  public:
    Reader(std::string_view s, const Limits& limits) : s_(s), limits_(limits) {}

    Value document() {
        Value v;
        space();
        value(v, 0);
        // Then only whitespace, or NUL bytes: some writers pad a header with them, and
        // nlohmann-json, which typenet used to read headers with, stops at the first.
        while (i_ < s_.size() && (s_[i_] == '\0' || s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
        if (i_ != s_.size()) syntax("unexpected '" + shown(s_[i_]) + "' after the value");
        return v;
    }

  private:
    [[noreturn]] void syntax(const std::string& what) const {
        throw error(what + " at byte " + std::to_string(i_), true);
    }
    static std::string shown(char c) {
        const unsigned char u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7F) return std::string(1, c);
        const char* hex = "0123456789abcdef";
        return std::string("\\x") + hex[u >> 4] + hex[u & 15];
    }
    bool at_end() const noexcept { return i_ == s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[i_]; }
    void space() noexcept {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }
    void expect(char c) {
        if (at_end()) syntax(std::string("the text ends where '") + c + "' was expected");
        if (s_[i_] != c) syntax(std::string("expected '") + c + "', found '" + shown(s_[i_]) + "'");
        ++i_;
    }

    void value(Value& v, std::size_t depth) {
        if (at_end()) syntax("the text ends where a value was expected");
        switch (s_[i_]) {
            case '{': return object(v, depth);
            case '[': return array(v, depth);
            case '"': v.kind = Value::Kind::string; return string(v.text);
            case 't': return literal(v, "true");
            case 'f': return literal(v, "false");
            case 'n': return literal(v, "null");
            default:
                if (s_[i_] == '-' || (s_[i_] >= '0' && s_[i_] <= '9')) return number(v);
                syntax("'" + shown(s_[i_]) + "' cannot begin a value");
        }
    }

    // Opens an array or an object at s_[i_]: false if it closes at once ([] or {}).
    bool open(Value& v, Value::Kind kind, char close, std::size_t depth) {
        if (depth == limits_.max_depth)
            throw error(std::string(limits_.document) + " nests deeper than " + std::to_string(limits_.max_depth) + " levels (ReadLimits::max_depth)",
                        false);
        v.kind = kind;
        ++i_;
        space();
        if (peek() != close) return true;
        ++i_;
        return false;
    }

    void array(Value& v, std::size_t depth) {
        if (!open(v, Value::Kind::array, ']', depth)) return;
        for (;;) {
            if (v.items.size() == limits_.max_items)
                throw error("an array in " + std::string(limits_.document) + " has more than " + std::to_string(limits_.max_items) +
                                " elements (a shape's rank is at most ReadLimits::max_rank)",
                            false);
            value(v.items.emplace_back(), depth + 1);
            space();
            if (peek() == ']') return void(++i_);
            expect(',');
            space();
        }
    }

    void object(Value& v, std::size_t depth) {
        if (!open(v, Value::Kind::object, '}', depth)) return;
        for (;;) {
            if (peek() != '"') at_end() ? syntax("the text ends where a key was expected") : syntax("a key must be a string");
            std::string& key = v.keys.emplace_back();
            string(key);
            if (key.size() > limits_.max_key_bytes)
                throw error("a name in " + std::string(limits_.document) + " is " + std::to_string(key.size()) + " bytes, more than ReadLimits::max_name_bytes (" +
                                std::to_string(limits_.max_key_bytes) + "): " + typenet::detail::quoted(key),
                            false);
            space();
            expect(':');
            space();
            value(v.items.emplace_back(), depth + 1);
            space();
            if (peek() == '}') break;
            expect(',');
            space();
        }
        ++i_;
        // A key given twice: sorted once the object is read (a header of many tensors is one
        // object, so a search per key would be quadratic in them).
        std::vector<std::size_t> order(v.keys.size());
        for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return v.keys[a] < v.keys[b] || (v.keys[a] == v.keys[b] && a < b);
        });
        for (std::size_t k = 1; k < order.size(); ++k)
            if (v.keys[order[k]] == v.keys[order[k - 1]])
                throw error(std::string(limits_.document) + " gives the key " + typenet::detail::quoted(v.keys[order[k]]) + " twice" +
                                (depth == 0 ? " (two tensors of one name)" : ""),
                            false);
    }

    void literal(Value& v, std::string_view word) {
        if (s_.substr(i_, word.size()) != word) syntax("invalid literal (expected '" + std::string(word) + "')");
        i_ += word.size();
        v.kind = word == "null" ? Value::Kind::null : Value::Kind::boolean;
        v.boolean = word == "true";
    }

    static bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

    void number(Value& v) {
        const std::size_t start = i_;
        const bool minus = s_[i_] == '-';
        if (minus) ++i_;
        if (!digit(peek())) syntax("a number needs a digit after '-'");
        if (s_[i_] == '0') {
            ++i_;
            if (digit(peek())) syntax("a number cannot have a leading zero");
        } else {
            while (digit(peek())) ++i_;
        }
        bool integer = true;
        if (peek() == '.') {
            integer = false;
            ++i_;
            if (!digit(peek())) syntax("a number needs a digit after '.'");
            while (digit(peek())) ++i_;
        }
        if (peek() == 'e' || peek() == 'E') {
            integer = false;
            ++i_;
            if (peek() == '+' || peek() == '-') ++i_;
            if (!digit(peek())) syntax("a number needs a digit in its exponent");
            while (digit(peek())) ++i_;
        }
        v.kind = Value::Kind::number;
        const char* b = s_.data() + start;
        const char* e = s_.data() + i_;
        if (integer && !minus) {
            const auto r = std::from_chars(b, e, v.u);
            v.is_unsigned = r.ec == std::errc{} && r.ptr == e;
            v.number = double(v.u);
            if (v.is_unsigned) return;
        }
        if (integer) {
            std::int64_t x = 0;
            const auto r = std::from_chars(b, e, x);
            v.number = double(x);
            if (r.ec == std::errc{} && r.ptr == e) return;
        }
        // Any other number must not overflow a double (nlohmann-json and Python refuse or
        // lose such numbers; one that underflows is read as zero, as they do).
        const auto r = std::from_chars(b, e, v.number);
        if (r.ec == std::errc{} && std::isfinite(v.number)) return;
        if (r.ec == std::errc::result_out_of_range && decimal_exponent(b, e) < 0) return void(v.number = 0);
        i_ = start;
        syntax("the number " + std::string(s_.substr(start, std::min<std::size_t>(std::size_t(e - b), 40))) + " overflows a double");
    }

    // The power of ten of a number's leading nonzero digit (-1 for 0.5, 2 for 123), for a
    // number from_chars found out of range: negative means it underflows.
    static long long decimal_exponent(const char* b, const char* e) {
        const char* p = b + (*b == '-');
        long long lead = 0;  // digits before the point, or minus the zeros after it
        bool seen = false, point = false;
        for (; p != e && *p != 'e' && *p != 'E'; ++p) {
            if (*p == '.') point = true;
            else if (!seen && *p == '0') lead -= point;
            else if (!seen) seen = true, lead += point ? -1 : 0;
            else if (!point) ++lead;
        }
        long long x = 0;
        if (p != e) {
            ++p;
            const bool neg = *p == '-';
            if (*p == '+' || *p == '-') ++p;
            for (; p != e; ++p) x = std::min<long long>(x * 10 + (*p - '0'), 1LL << 40);
            if (neg) x = -x;
        }
        return lead + x;
    }

    unsigned hex4() {
        unsigned c = 0;
        for (int k = 0; k < 4; ++k, ++i_) {
            const char h = peek();
            c <<= 4;
            if (h >= '0' && h <= '9') c |= unsigned(h - '0');
            else if (h >= 'a' && h <= 'f') c |= unsigned(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') c |= unsigned(h - 'A' + 10);
            else syntax("\\u needs four hexadecimal digits");
        }
        return c;
    }

    static void put_utf8(std::string& out, unsigned c) {
        if (c < 0x80) {
            out += char(c);
        } else if (c < 0x800) {
            out += char(0xC0 | (c >> 6));
            out += char(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out += char(0xE0 | (c >> 12));
            out += char(0x80 | ((c >> 6) & 0x3F));
            out += char(0x80 | (c & 0x3F));
        } else {
            out += char(0xF0 | (c >> 18));
            out += char(0x80 | ((c >> 12) & 0x3F));
            out += char(0x80 | ((c >> 6) & 0x3F));
            out += char(0x80 | (c & 0x3F));
        }
    }

    void string(std::string& out) {
        ++i_;  // the opening quote
        for (;;) {
            if (at_end()) syntax("the text ends inside a string");
            const unsigned char c = static_cast<unsigned char>(s_[i_]);
            if (c == '"') return void(++i_);
            if (c < 0x20) syntax("a control character (" + shown(char(c)) + ") in a string must be escaped");
            if (c == '\\') {
                ++i_;
                const char e = peek();
                ++i_;
                if (const std::size_t k = escape_letters.find(e); e != '\0' && k != std::string_view::npos) {
                    out += escaped_chars[k];
                } else if (e == 'u') {
                    unsigned cp = hex4();
                    if (cp >= 0xDC00 && cp <= 0xDFFF) syntax("a low surrogate \\u escape without a high one before it");
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (s_.substr(i_, 2) != "\\u") syntax("a high surrogate \\u escape without a low one after it");
                        i_ += 2;
                        const unsigned lo = hex4();
                        if (lo < 0xDC00 || lo > 0xDFFF) syntax("a high surrogate \\u escape without a low one after it");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    put_utf8(out, cp);
                } else {
                    --i_;
                    syntax("invalid escape '\\" + shown(e) + "'");
                }
                continue;
            }
            if (c < 0x80) {
                out += char(c);
                ++i_;
                continue;
            }
            const std::size_t n = utf8_length(s_, i_);
            if (n == 0) syntax("a string is not valid UTF-8");
            out.append(s_.data() + i_, n);
            i_ += n;
        }
    }

    std::string_view s_;
    Limits limits_;
    std::size_t i_ = 0;
};
}  // namespace detail

// The document `s`, or json::error.
inline Value parse(std::string_view s, const Limits& limits) { return detail::Reader(s, limits).document(); }

// Appends `s` as a JSON string (escaped as nlohmann-json and Python's json write it, UTF-8
// as it is); false, appending nothing, if `s` is not valid UTF-8.
inline bool append_string(std::string& out, std::string_view s) {
    std::string q = "\"";
    const char* hex = "0123456789abcdef";
    for (std::size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            const std::size_t n = detail::utf8_length(s, i);
            if (n == 0) return false;
            q.append(s.data() + i, n);
            i += n;
            continue;
        }
        // The short escapes but "\/" (a slash needs none), and \u00XX for the other controls.
        if (const std::size_t k = detail::escaped_chars.find(char(c)); c != '/' && k != std::string_view::npos) {
            q += '\\';
            q += detail::escape_letters[k];
        } else if (c < 0x20) {
            q += std::string("\\u00") + hex[c >> 4] + hex[c & 15];
        } else {
            q += char(c);
        }
        ++i;
    }
    out += q;
    out += '"';
    return true;
}

}  // namespace json
}  // namespace typenet::inline TYPENET_ISA_NAMESPACE
