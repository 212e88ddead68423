// NumPy files: .npy (one array) and .npz (a zip of .npy, as np.savez writes it). Each array
// becomes a tensor of an in-memory safetensors file, so loading from NumPy goes through
// exactly the checks of any other load:
//   tn::load_weights(net, tn::read_npz("model.npz"), tn::from_pytorch);
// Supported: little-endian float32/float64/float16 ('<f4', '<f8', '<f2'), C or Fortran order,
// npy format versions 1-3; zip entries stored (np.savez) or deflated (np.savez_compressed,
// io/zip.hpp, through zlib), each checked against its CRC-32.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "zip.hpp"
#include "safetensors.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

namespace detail {

struct NpyArray {
    std::string dtype;  // safetensors' name: F32, F64, F16
    std::vector<std::size_t> shape;
    std::vector<std::uint8_t> data;  // C order, little-endian
};

// The header of a .npy file is a Python literal dict, exactly
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// padded with spaces and ended by a newline. It is parsed, not searched: each of the three
// keys exactly once and no other, a string for descr, True or False for fortran_order, and a
// tuple of non-negative integers for shape (`(12,)`; `(12)` or `12` is not a tuple). NumPy's
// own reader asks the same.
struct NpyHeader {
    std::string descr;
    bool fortran_order = false;
    std::vector<std::size_t> shape;
};

class NpyHeaderParser {
  public:
    NpyHeaderParser(const std::string& text, const std::string& where) : t_(text), where_(where) {}

    NpyHeader parse() {
        NpyHeader h;
        bool seen[3] = {false, false, false};
        ws();
        expect('{', "a dict");
        ws();
        while (!at('}')) {
            const std::string key = string_literal("a quoted key");
            ws();
            expect(':', "':' after the key");
            ws();
            int k = key == "descr" ? 0 : key == "fortran_order" ? 1 : key == "shape" ? 2 : -1;
            if (k < 0) fail("the header has a key '" + printable(key) + "'; a .npy header has only descr, fortran_order and shape");
            if (seen[k]) fail("the header has the key '" + key + "' twice");
            seen[k] = true;
            if (k == 0) h.descr = string_literal("a string for descr");
            else if (k == 1) h.fortran_order = boolean();
            else h.shape = tuple();
            ws();
            if (at(',')) {
                ++i_;
                ws();
            } else if (!at('}')) {
                fail("expected ',' or '}' after the value of '" + key + "'");
            }
        }
        ++i_;
        while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\0')) ++i_;
        if (i_ != t_.size()) fail("the header has text after its dict");
        for (int k = 0; k < 3; ++k)
            if (!seen[k]) fail(std::string("the header has no '") + (k == 0 ? "descr" : k == 1 ? "fortran_order" : "shape") + "'");
        return h;
    }

  private:
    [[noreturn]] void fail(const std::string& what) const {
        throw load_error("typenet: " + where_ + ": malformed .npy header: " + what);
    }
    bool at(char c) const { return i_ < t_.size() && t_[i_] == c; }
    void ws() {
        while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n')) ++i_;
    }
    void expect(char c, const char* what) {
        if (!at(c)) fail(std::string("expected ") + what);
        ++i_;
    }
    static std::string printable(const std::string& s) {
        std::string o;
        for (char c : s.substr(0, 64)) o += (c >= 0x20 && c < 0x7F) ? c : '?';
        return s.size() > 64 ? o + "..." : o;
    }
    std::string string_literal(const char* what) {
        if (!at('\'') && !at('"')) fail(std::string("expected ") + what);
        const char q = t_[i_++];
        std::string v;
        while (i_ < t_.size() && t_[i_] != q) {
            if (t_[i_] == '\\') fail("escapes in header strings are not supported");
            v += t_[i_++];
        }
        if (i_ == t_.size()) fail("an unterminated string");
        ++i_;
        return v;
    }
    bool boolean() {
        if (t_.compare(i_, 4, "True") == 0) return i_ += 4, true;
        if (t_.compare(i_, 5, "False") == 0) return i_ += 5, false;
        fail("fortran_order must be True or False");
    }
    std::vector<std::size_t> tuple() {
        if (!at('(')) fail("shape must be a tuple, e.g. (3, 4) or (12,)");
        ++i_;
        std::vector<std::size_t> dims;
        bool comma_after_last = false;
        ws();
        while (!at(')')) {
            if (i_ >= t_.size() || t_[i_] < '0' || t_[i_] > '9') fail("shape must be a tuple of non-negative integers");
            std::size_t d = 0;
            while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9') {
                if (d > (std::numeric_limits<std::size_t>::max() - 9) / 10) fail("a dimension of the shape is too large");
                d = d * 10 + std::size_t(t_[i_++] - '0');
            }
            if (at('L')) ++i_;  // Python 2's long literals, as old NumPy wrote them
            if (dims.size() == max_rank) fail("the shape has more than " + std::to_string(max_rank) + " dimensions");
            dims.push_back(d);
            ws();
            comma_after_last = at(',');
            if (comma_after_last) {
                ++i_;
                ws();
            } else if (!at(')')) {
                fail("expected ',' or ')' in the shape");
            }
        }
        ++i_;
        if (dims.size() == 1 && !comma_after_last) fail("shape (n) is not a tuple; a 1-d shape is written (n,)");
        return dims;
    }

    static constexpr std::size_t max_rank = 64;  // NumPy's NPY_MAXDIMS
    const std::string& t_;
    const std::string& where_;
    std::size_t i_ = 0;
};

inline NpyArray parse_npy(std::span<const std::uint8_t> b, const std::string& where) {
    auto fail = [&](const std::string& what) -> void { throw load_error("typenet: " + where + ": " + what); };
    if (b.size() < 10 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0) fail("not a .npy array (no \\x93NUMPY magic)");
    const unsigned major = b[6];
    std::size_t len = 0, start = 0;
    if (major == 1) len = std::size_t(b[8]) | std::size_t(b[9]) << 8, start = 10;
    else if (major == 2 || major == 3) {
        if (b.size() < 12) fail("truncated .npy header");
        len = std::size_t(b[8]) | std::size_t(b[9]) << 8 | std::size_t(b[10]) << 16 | std::size_t(b[11]) << 24, start = 12;
    } else fail("unknown .npy format version " + std::to_string(major));
    if (len > b.size() - start) fail("the .npy header runs past the end");
    const std::string header(reinterpret_cast<const char*>(b.data() + start), len);
    NpyArray a;
    const NpyHeader h = NpyHeaderParser(header, where).parse();
    std::size_t es = 0;
    if (h.descr == "<f4") a.dtype = "F32", es = 4;
    else if (h.descr == "<f8") a.dtype = "F64", es = 8;
    else if (h.descr == "<f2") a.dtype = "F16", es = 2;
    else fail("dtype '" + h.descr.substr(0, 16) + "' is not a little-endian float (<f4, <f8, <f2)");
    a.shape = h.shape;
    std::size_t count = 1;
    for (std::size_t d : a.shape)
        if (__builtin_mul_overflow(count, d, &count)) fail("the shape's element count overflows");
    std::string shape = "(";
    for (std::size_t k = 0; k < a.shape.size(); ++k) shape += (k ? ", " : "") + std::to_string(a.shape[k]);
    shape += a.shape.size() == 1 ? ",)" : ")";
    const std::string descr = "'" + h.descr + "'";
    std::size_t bytes_needed = 0;
    if (__builtin_mul_overflow(count, es, &bytes_needed)) fail("shape " + shape + " needs more bytes than memory can hold");
    const std::size_t bytes = bytes_needed, data_at = start + len;
    if (b.size() - data_at != bytes)
        fail("shape " + shape + " of " + descr + " needs " + std::to_string(bytes) + " bytes, the file holds " +
             std::to_string(b.size() - data_at));
    a.data.assign(b.begin() + std::ptrdiff_t(data_at), b.end());
    if (h.fortran_order && a.shape.size() > 1) {  // Fortran (column-major) to C order
        std::vector<std::uint8_t> c(bytes);
        const std::size_t r = a.shape.size();
        std::vector<std::size_t> idx(r, 0);
        for (std::size_t n = 0; n < count; ++n) {
            std::size_t f = 0, stride = 1;  // Fortran offset of idx
            for (std::size_t k = 0; k < r; ++k) f += idx[k] * stride, stride *= a.shape[k];
            std::memcpy(c.data() + n * es, a.data.data() + f * es, es);
            for (std::size_t k = r; k-- > 0;) {  // next C-order index
                if (++idx[k] < a.shape[k]) break;
                idx[k] = 0;
            }
        }
        a.data = std::move(c);
    }
    return a;
}

// In-memory safetensors file of named arrays.
inline SafetensorsFile as_safetensors(const std::vector<std::pair<std::string, NpyArray>>& arrays, const std::string& source) {
    std::vector<detail::HeaderEntry> entries;
    std::size_t offset = 0;
    for (const auto& [name, a] : arrays) {
        entries.push_back({name, a.dtype, a.shape, offset, offset + a.data.size()});
        offset += a.data.size();
    }
    std::string h;
    try {
        h = detail::safetensors_header(std::move(entries));
    } catch (const std::invalid_argument& e) {  // a zip entry name that is not UTF-8
        throw load_error("typenet: '" + source + "': " + e.what());
    }
    std::vector<std::uint8_t> bytes(8 + h.size());
    for (std::size_t i = 0; i < 8; ++i) bytes[i] = std::uint8_t(std::uint64_t(h.size()) >> (8 * i));
    std::memcpy(bytes.data() + 8, h.data(), h.size());
    for (const auto& [name, a] : arrays) bytes.insert(bytes.end(), a.data.begin(), a.data.end());
    return SafetensorsFile(std::move(bytes), source);
}

// A whole regular file. A FIFO, a device (/dev/zero), a directory or a file that changes size
// while it is read is a load_error naming it, never a hang, bad_alloc or ios_base::failure.
inline std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
    const std::string where = "'" + path.string() + "'";
#ifdef TYPENET_HAS_MMAP
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block the open
    if (fd < 0) throw load_error("typenet: cannot open " + where + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw load_error("typenet: " + where + " is not a regular file");
    }
    std::vector<std::uint8_t> bytes;
    try {
        bytes.resize(std::size_t(st.st_size));
    } catch (const std::bad_alloc&) {
        ::close(fd);
        throw load_error("typenet: " + where + ": " + std::to_string(st.st_size) + " bytes do not fit in memory");
    }
    std::size_t got = 0;
    while (got < bytes.size()) {
        const ssize_t r = ::read(fd, bytes.data() + got, bytes.size() - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            const std::string why = r < 0 ? std::strerror(errno) : "the file became shorter while it was read";
            ::close(fd);
            throw load_error("typenet: cannot read " + where + ": " + why);
        }
        got += std::size_t(r);
    }
    ::close(fd);
    return bytes;
#else
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw load_error("typenet: " + where + " is not a regular file");
    std::ifstream f(path, std::ios::binary);
    if (!f) throw load_error("typenet: cannot open " + where);
    return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
#endif
}

inline std::uint32_t le32(const std::uint8_t* p) { return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24; }
inline std::uint16_t le16(const std::uint8_t* p) { return std::uint16_t(p[0] | p[1] << 8); }

}  // namespace detail

// One .npy array as a one-tensor file named `name`.
inline SafetensorsFile read_npy(std::span<const std::uint8_t> bytes, const std::string& name, const std::string& source = "<memory>") {
    return detail::as_safetensors({{name, detail::parse_npy(bytes, "'" + source + "'")}}, source);
}
inline SafetensorsFile read_npy(const std::filesystem::path& path, const std::string& name) {
    return read_npy(detail::read_bytes(path), name, path.string());
}

// A .npz archive: each "<name>.npy" entry becomes tensor "<name>". The zip directory is read
// and checked as a whole before anything is decompressed: every entry within the file, no
// two entries sharing bytes (overlapping entries are how a small file declares gigabytes),
// no two giving one tensor name, and the declared sizes together within
// ReadLimits::max_archive_bytes.
inline SafetensorsFile read_npz(std::span<const std::uint8_t> b, const std::string& source = "<memory>",
                                const ReadLimits& limits = {}) {
    const std::string where = "'" + source + "'";
    auto fail = [&](const std::string& what) -> void { throw load_error("typenet: " + where + ": " + what); };
    if (b.size() < 22) fail("not a .npz archive (too short for a zip directory)");
    std::size_t eocd = b.size() - 22;  // end of central directory, before a comment of up to 64 KiB
    const std::size_t lowest = b.size() > 22 + 65535 ? b.size() - 22 - 65535 : 0;
    while (detail::le32(b.data() + eocd) != 0x06054b50u) {
        if (eocd == lowest) fail("not a .npz archive (no zip end-of-directory record)");
        --eocd;
    }
    const std::size_t count = detail::le16(b.data() + eocd + 10);
    std::size_t cd = detail::le32(b.data() + eocd + 16);
    if (detail::le32(b.data() + eocd + 16) == 0xFFFFFFFFu) fail("zip64 archives are not supported");
    struct Entry {
        std::string file_name, name;  // as in the archive, and the tensor it gives
        std::uint16_t method;
        std::uint32_t crc;
        std::size_t csize, usize, local, data_at;
    };
    std::vector<Entry> entries;
    std::size_t declared = 0;
    for (std::size_t e = 0; e < count; ++e) {
        if (cd > b.size() || b.size() - cd < 46 || detail::le32(b.data() + cd) != 0x02014b50u) fail("corrupt zip directory");
        Entry en;
        en.method = detail::le16(b.data() + cd + 10);
        en.crc = detail::le32(b.data() + cd + 16);
        en.csize = detail::le32(b.data() + cd + 20), en.usize = detail::le32(b.data() + cd + 24);
        const std::size_t nlen = detail::le16(b.data() + cd + 28), xlen = detail::le16(b.data() + cd + 30),
                          clen = detail::le16(b.data() + cd + 32);
        en.local = detail::le32(b.data() + cd + 42);
        if (b.size() - cd - 46 < nlen) fail("corrupt zip directory");
        en.file_name.assign(reinterpret_cast<const char*>(b.data() + cd + 46), nlen);
        const std::string q = detail::quoted(en.file_name);
        if (nlen > limits.max_name_bytes)
            fail("entry " + q + " has a name of " + std::to_string(nlen) + " bytes, more than ReadLimits::max_name_bytes");
        if (en.method != 0 && en.method != 8)
            fail("entry " + q + " uses zip compression method " + std::to_string(en.method) + " (only stored and deflate are read)");
        if (en.method == 0 && en.csize != en.usize) fail("entry " + q + " has inconsistent sizes");
        // DEFLATE expands at most 1032:1 (a 258-byte match per 2 bits): a larger declared size
        // is a corrupt directory, not a reason to reserve memory.
        if (en.method == 8 && en.usize > 1032 * en.csize + 64)
            fail("entry " + q + " declares " + std::to_string(en.usize) + " bytes, more than " + std::to_string(en.csize) +
                 " compressed bytes can hold");
        if (en.local > b.size() || b.size() - en.local < 30 || detail::le32(b.data() + en.local) != 0x04034b50u)
            fail("entry " + q + " has no local header");
        en.data_at = en.local + 30 + detail::le16(b.data() + en.local + 26) + detail::le16(b.data() + en.local + 28);
        if (en.data_at > b.size() || b.size() - en.data_at < en.csize) fail("entry " + q + " runs past the end");
        declared += en.usize;  // at most 65535 entries of < 4 GiB: no overflow
        if (declared > limits.max_archive_bytes)
            fail("the entries declare " + std::to_string(declared) + "+ bytes, more than ReadLimits::max_archive_bytes (" +
                 std::to_string(limits.max_archive_bytes) + ")");
        en.name = en.file_name;
        if (en.name.size() > 4 && en.name.ends_with(".npy")) en.name.resize(en.name.size() - 4);
        entries.push_back(std::move(en));
        cd += 46 + nlen + xlen + clen;
    }
    {  // no two entries share bytes, none gives a tensor name another gives
        std::vector<const Entry*> by_offset;
        for (const Entry& en : entries) by_offset.push_back(&en);
        std::stable_sort(by_offset.begin(), by_offset.end(), [](const Entry* x, const Entry* y) { return x->local < y->local; });
        for (std::size_t i = 1; i < by_offset.size(); ++i)
            if (by_offset[i]->local < by_offset[i - 1]->data_at + by_offset[i - 1]->csize)
                fail("entries " + detail::quoted(by_offset[i - 1]->file_name) + " and " + detail::quoted(by_offset[i]->file_name) +
                     " overlap in the file (the archive is corrupt or crafted)");
        std::map<std::string_view, const Entry*> names;
        for (const Entry& en : entries) {
            const auto [it, fresh] = names.emplace(en.name, &en);
            if (!fresh)
                fail("entries " + detail::quoted(it->second->file_name) + " and " + detail::quoted(en.file_name) +
                     " both give the tensor " + detail::quoted(en.name));
        }
    }
    std::vector<std::pair<std::string, detail::NpyArray>> arrays;
    for (const Entry& en : entries) {
        const std::string entry = where + " entry " + detail::quoted(en.name);
        std::vector<std::uint8_t> inflated;
        std::span<const std::uint8_t> bytes = b.subspan(en.data_at, en.csize);
        if (en.method == 8) {
            inflated = detail::inflate_raw(bytes, en.usize, entry);
            bytes = inflated;
        }
        if (detail::crc32(bytes) != en.crc) fail("entry " + detail::quoted(en.name) + " fails its CRC-32 check (the archive is corrupt)");
        arrays.emplace_back(en.name, detail::parse_npy(bytes, entry));
    }
    return detail::as_safetensors(arrays, source);
}
inline SafetensorsFile read_npz(const std::filesystem::path& path, const ReadLimits& limits = {}) {
    return read_npz(detail::read_bytes(path), path.string(), limits);
}

// The readers without exceptions: the file, or the load_error that says why not.
struct ReadResult {
    std::optional<SafetensorsFile> file;
    std::optional<load_error> error;
    explicit operator bool() const noexcept { return file.has_value(); }
};
namespace detail {
template <class F>
ReadResult try_read(F&& read) noexcept {
    try {
        return {read(), std::nullopt};
    } catch (const load_error& e) {
        return {std::nullopt, e};
    } catch (const std::exception& e) {
        return {std::nullopt, load_error(std::string("typenet: ") + e.what())};
    }
}
}  // namespace detail
inline ReadResult try_read_npz(const std::filesystem::path& path, const ReadLimits& limits = {}) noexcept {
    return detail::try_read([&] { return read_npz(path, limits); });
}
inline ReadResult try_read_npy(const std::filesystem::path& path, const std::string& name) noexcept {
    return detail::try_read([&] { return read_npy(path, name); });
}
inline ReadResult try_read_safetensors(const std::filesystem::path& path, const ReadLimits& limits = {}) noexcept {
    return detail::try_read([&] { return SafetensorsFile::read(path, limits); });
}

}  // namespace typenet
