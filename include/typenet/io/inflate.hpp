// DEFLATE decompression (RFC 1951) and CRC-32, for the zip entries np.savez_compressed
// writes. No zlib: the dependency set is xtensor, xsimd, Boost.Hana and nlohmann-json.
//
// The input is untrusted (a weights file), so every read is bounds-checked, the output may
// not grow past the size the zip directory declares, and every malformed stream — a bad block
// type, an over-subscribed or empty code, a distance before the start, a length past the
// declared size, a stored block whose length check fails, input that ends early — is a
// load_error naming what was wrong. The decoder is canonical-Huffman, bit by bit (zlib's
// "puff" way of reading codes): a few tens of MB/s, ample for weight files.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "safetensors.hpp"

namespace typenet::detail {

inline std::uint32_t crc32(std::span<const std::uint8_t> bytes) noexcept {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t n = 0; n < 256; ++n) {
            std::uint32_t c = n;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }();
    std::uint32_t c = 0xFFFFFFFFu;
    for (std::uint8_t b : bytes) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

class Inflater {
  public:
    // Decompresses `in` into exactly `size` bytes; `where` names the stream in errors.
    static std::vector<std::uint8_t> run(std::span<const std::uint8_t> in, std::size_t size, const std::string& where) {
        Inflater z(in, size, where);
        z.decode();
        return std::move(z.out_);
    }

  private:
    static constexpr int max_bits = 15;
    struct Huffman {
        std::array<std::uint16_t, max_bits + 1> count{};  // codes of each length
        std::array<std::uint16_t, 288> symbol{};          // symbols in canonical order
    };

    Inflater(std::span<const std::uint8_t> in, std::size_t size, const std::string& where) : in_(in), size_(size), where_(where) {
        out_.reserve(size);
    }

    [[noreturn]] void fail(const std::string& what) const {
        throw load_error("typenet: " + where_ + ": corrupt deflate stream: " + what);
    }

    unsigned bits(int n) {  // n <= 16 bits, least significant first
        while (have_ < n) {
            if (pos_ == in_.size()) fail("the compressed data ends early");
            buffer_ |= std::uint32_t(in_[pos_++]) << have_;
            have_ += 8;
        }
        const unsigned v = buffer_ & ((1u << n) - 1);
        buffer_ >>= n;
        have_ -= n;
        return v;
    }

    // lengths[0, n) -> a canonical code. An incomplete code is allowed (a stream with a single
    // distance code has one); over-subscribed is not.
    Huffman build(const std::uint16_t* lengths, std::size_t n, const char* what) const {
        Huffman h;
        for (std::size_t s = 0; s < n; ++s) ++h.count[lengths[s]];
        int left = 1;
        for (int len = 1; len <= max_bits; ++len) {
            left = left * 2 - h.count[std::size_t(len)];
            if (left < 0) fail(std::string("over-subscribed ") + what + " code");
        }
        std::array<std::uint16_t, max_bits + 2> offset{};
        for (int len = 1; len <= max_bits; ++len) offset[std::size_t(len) + 1] = std::uint16_t(offset[std::size_t(len)] + h.count[std::size_t(len)]);
        for (std::size_t s = 0; s < n; ++s)
            if (lengths[s]) h.symbol[offset[lengths[s]]++] = std::uint16_t(s);
        h.count[0] = 0;
        return h;
    }

    int decode_symbol(const Huffman& h) {
        int code = 0, first = 0, index = 0;
        for (int len = 1; len <= max_bits; ++len) {
            code |= int(bits(1));
            const int count = h.count[std::size_t(len)];
            if (code - first < count) return h.symbol[std::size_t(index + code - first)];
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        fail("a code that is not in the block's table");
    }

    void put(std::uint8_t byte) {
        if (out_.size() == size_) fail("more output than the " + std::to_string(size_) + " bytes declared");
        out_.push_back(byte);
    }

    void stored() {
        buffer_ = 0;  // to the byte boundary
        have_ = 0;
        if (in_.size() - pos_ < 4) fail("a stored block's header ends early");
        const unsigned len = unsigned(in_[pos_]) | unsigned(in_[pos_ + 1]) << 8;
        const unsigned nlen = unsigned(in_[pos_ + 2]) | unsigned(in_[pos_ + 3]) << 8;
        pos_ += 4;
        if ((len ^ 0xFFFFu) != nlen) fail("a stored block's length check fails");
        if (in_.size() - pos_ < len) fail("a stored block runs past the end");
        if (size_ - out_.size() < len) fail("more output than the " + std::to_string(size_) + " bytes declared");
        out_.insert(out_.end(), in_.begin() + std::ptrdiff_t(pos_), in_.begin() + std::ptrdiff_t(pos_ + len));
        pos_ += len;
    }

    void codes(const Huffman& lit, const Huffman& dist) {
        static constexpr std::array<std::uint16_t, 29> len_base{3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                                                31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
        static constexpr std::array<std::uint8_t, 29> len_extra{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                                2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
        static constexpr std::array<std::uint16_t, 30> dist_base{1,   2,   3,   4,   5,   7,    9,    13,   17,   25,
                                                                 33,  49,  65,  97,  129, 193,  257,  385,  513,  769,
                                                                 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
        static constexpr std::array<std::uint8_t, 30> dist_extra{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                                                 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
        for (;;) {
            const int s = decode_symbol(lit);
            if (s < 256) {
                put(std::uint8_t(s));
            } else if (s == 256) {
                return;
            } else {
                const std::size_t l = std::size_t(s - 257);
                if (l >= len_base.size()) fail("length symbol " + std::to_string(s));
                const std::size_t length = len_base[l] + bits(len_extra[l]);
                const std::size_t d = std::size_t(decode_symbol(dist));
                if (d >= dist_base.size()) fail("distance symbol " + std::to_string(d));
                const std::size_t distance = dist_base[d] + bits(dist_extra[d]);
                if (distance > out_.size()) fail("a distance of " + std::to_string(distance) + " before the start of the data");
                if (size_ - out_.size() < length) fail("more output than the " + std::to_string(size_) + " bytes declared");
                const std::size_t from = out_.size() - distance;
                for (std::size_t i = 0; i < length; ++i) out_.push_back(out_[from + i]);  // may overlap itself
            }
        }
    }

    void fixed() {
        static const auto tables = [] {
            std::array<std::uint16_t, 288 + 30> l{};
            for (std::size_t s = 0; s < 288; ++s) l[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
            for (std::size_t s = 288; s < l.size(); ++s) l[s] = 5;
            return l;
        }();
        codes(build(tables.data(), 288, "literal/length"), build(tables.data() + 288, 30, "distance"));
    }

    void dynamic() {
        const std::size_t nlit = bits(5) + 257, ndist = bits(5) + 1, ncode = bits(4) + 4;
        if (nlit > 286 || ndist > 30) fail("too many literal/length or distance codes");
        static constexpr std::array<std::uint8_t, 19> order{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
        std::array<std::uint16_t, 19> clen{};
        for (std::size_t i = 0; i < ncode; ++i) clen[order[i]] = std::uint16_t(bits(3));
        const Huffman lencode = build(clen.data(), 19, "code-length");
        std::array<std::uint16_t, 286 + 30> lengths{};
        for (std::size_t i = 0; i < nlit + ndist;) {
            const int s = decode_symbol(lencode);
            if (s < 16) {
                lengths[i++] = std::uint16_t(s);
                continue;
            }
            std::uint16_t value = 0;
            std::size_t repeat = 0;
            if (s == 16) {
                if (i == 0) fail("a repeat with no length before it");
                value = lengths[i - 1];
                repeat = 3 + bits(2);
            } else if (s == 17) {
                repeat = 3 + bits(3);
            } else {
                repeat = 11 + bits(7);
            }
            if (i + repeat > nlit + ndist) fail("code lengths run past their count");
            while (repeat--) lengths[i++] = value;
        }
        if (lengths[256] == 0) fail("no end-of-block code");
        codes(build(lengths.data(), nlit, "literal/length"), build(lengths.data() + nlit, ndist, "distance"));
    }

    void decode() {
        for (bool last = false; !last;) {
            last = bits(1) == 1;
            switch (bits(2)) {
                case 0: stored(); break;
                case 1: fixed(); break;
                case 2: dynamic(); break;
                default: fail("block type 3");
            }
        }
        if (out_.size() != size_)
            fail(std::to_string(out_.size()) + " bytes of output, " + std::to_string(size_) + " declared");
    }

    std::span<const std::uint8_t> in_;
    std::size_t size_, pos_ = 0;
    const std::string& where_;
    std::uint32_t buffer_ = 0;
    int have_ = 0;
    std::vector<std::uint8_t> out_;
};

}  // namespace typenet::detail
