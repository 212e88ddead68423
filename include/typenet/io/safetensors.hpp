// safetensors: an 8-byte little-endian header length, a JSON header
//   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}
// and the data. The whole file is validated when it is opened (sizes, offsets in range and
// not overlapping, byte counts matching shape x dtype), so later reads cannot go wrong.
#pragma once
#include "../core/isa.hpp"
#include "json.hpp"
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define TYPENET_HAS_MMAP 1
#endif

namespace typenet::inline TYPENET_ISA_NAMESPACE {

// Every failure to read or load weights. The message names the file and, where there is
// one, the tensor, and says what was expected and what was found.
class load_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Bounds on what a reader accepts from a file, so that a hostile file is rejected in
// milliseconds with bounded memory. The defaults fit every real checkpoint by a wide margin
// (the header of a 70B-parameter model's shard is a few hundred KB); pass larger ones to
// read, view or read_npz when a file needs them.
struct ReadLimits {
    std::size_t max_header_bytes = std::size_t{16} << 20;  // a safetensors file's JSON header
    std::size_t max_depth = 8;                              // JSON nesting (a valid header needs 3; one stack frame a level)
    std::size_t max_rank = 64;                              // dimensions of one shape (NumPy's limit)
    std::size_t max_name_bytes = 1024;                      // one tensor's name
    std::size_t max_archive_bytes = std::size_t{16} << 30;  // .npz: all entries' declared sizes together
    // Not a limit: SafetensorsFile::read reads files smaller than this into memory, so that a
    // file another process truncates during the load is an error, never SIGBUS; it maps
    // larger ones (no copy; such a truncation would then raise SIGBUS).
    std::size_t map_at_least_bytes = std::size_t{64} << 20;
};

struct TensorEntry {
    std::string dtype;
    std::vector<std::size_t> shape;
    std::size_t begin = 0, end = 0;  // byte offsets into the data section
    std::size_t elements() const {
        std::size_t n = 1;
        for (std::size_t d : shape) n *= d;
        return n;
    }
    std::string shape_str() const {
        std::string s = "[";
        for (std::size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
        return s + "]";
    }
};

namespace detail {
inline std::size_t dtype_bytes(const std::string& d) {
    if (d == "F64" || d == "I64" || d == "U64") return 8;
    if (d == "F32" || d == "I32" || d == "U32") return 4;
    if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
    if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
    return 0;
}
}  // namespace detail

namespace detail {
// IEEE half and bfloat16 to float.
inline float half_to_float(std::uint16_t h) noexcept {
    const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16, exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu;
    std::uint32_t bits;
    if (exp == 0x1F) bits = sign | 0x7F800000u | (man << 13);            // inf, nan
    else if (exp != 0) bits = sign | ((exp + 112) << 23) | (man << 13);  // normal
    else if (man == 0) bits = sign;                                      // zero
    else {                                                               // subnormal: normalise
        std::uint32_t e = 113, m = man;
        while (!(m & 0x400u)) m <<= 1, --e;
        bits = sign | (e << 23) | ((m & 0x3FFu) << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}
inline float bfloat16_to_float(std::uint16_t b) noexcept {
    const std::uint32_t bits = std::uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}
}  // namespace detail

// A safetensors file, validated as a whole when it is opened. The bytes are a memory map of
// the file (read()), a copy (from a vector), or the caller's (view(), e.g. weights compiled
// into the binary): the same parser and checks serve all three.
class SafetensorsFile {
  public:
    // `source` names the bytes in messages (a path, or "<memory>").
    SafetensorsFile(std::vector<std::uint8_t> bytes, std::string source, const ReadLimits& limits = {}) : source_(std::move(source)) {
        auto owned = std::make_shared<std::vector<std::uint8_t>>(std::move(bytes));
        data_begin_ = owned->data(), size_ = owned->size(), keepalive_ = owned;
        parse(limits);
    }

    // Borrows the bytes: they must outlive this object.
    static SafetensorsFile view(std::span<const std::uint8_t> bytes, std::string source = "<memory>", const ReadLimits& limits = {}) {
        return SafetensorsFile(bytes.data(), bytes.size(), nullptr, std::move(source), limits);
    }

    static SafetensorsFile read(const std::filesystem::path& path, const ReadLimits& limits = {}) {
#ifdef TYPENET_HAS_MMAP
        // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below; for
        // a regular file the flag changes nothing).
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) throw load_error("typenet: cannot open '" + path.string() + "': " + std::strerror(errno));
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            ::close(fd);
            throw load_error("typenet: '" + path.string() + "' is not a regular file");
        }
        const std::size_t size = std::size_t(st.st_size);
        if (size < limits.map_at_least_bytes) {
            std::vector<std::uint8_t> bytes(size);
            std::size_t got = 0;
            while (got < size) {
                const ssize_t r = ::pread(fd, bytes.data() + got, size - got, off_t(got));
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0) {
                    const std::string why = r < 0 ? std::strerror(errno) : "the file became shorter while it was read";
                    ::close(fd);
                    throw load_error("typenet: cannot read '" + path.string() + "': " + why);
                }
                got += std::size_t(r);
            }
            ::close(fd);
            return SafetensorsFile(std::move(bytes), path.string(), limits);
        }
        if (size > 0) {
#ifdef MAP_POPULATE
            constexpr int populate = MAP_POPULATE;  // fault the pages in bulk: they are all read
#else
            constexpr int populate = 0;
#endif
            void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | populate, fd, 0);
            ::close(fd);
            if (map == MAP_FAILED) throw load_error("typenet: cannot map '" + path.string() + "'");
            std::shared_ptr<const void> keep(map, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
            return SafetensorsFile(static_cast<const std::uint8_t*>(map), size, std::move(keep), path.string(), limits);
        }
        ::close(fd);
        return SafetensorsFile(std::vector<std::uint8_t>{}, path.string(), limits);
#else
        std::ifstream f(path, std::ios::binary);
        if (!f) throw load_error("typenet: cannot open '" + path.string() + "'");
        std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        return SafetensorsFile(std::move(bytes), path.string(), limits);
#endif
    }

    const std::string& source() const noexcept { return source_; }
    const std::map<std::string, TensorEntry>& tensors() const noexcept { return tensors_; }
    const TensorEntry* find(const std::string& name) const {
        auto it = tensors_.find(name);
        return it == tensors_.end() ? nullptr : &it->second;
    }

    static bool is_float_dtype(const std::string& d) { return d == "F32" || d == "F64" || d == "F16" || d == "BF16"; }

    // The tensor's values as floats: F32 as stored, F64, F16 and BF16 converted.
    std::vector<float> floats(const std::string& name) const {
        const TensorEntry* t = find(name);
        if (!t) throw load_error("typenet: '" + source_ + "': no tensor " + detail::quoted(name));
        std::vector<float> v(t->elements());
        read_floats(name, *t, v);
        return v;
    }

    // The same, into the caller's buffer of exactly t.elements() floats.
    // The tensor's bytes in the file (little-endian, unaligned), for checks that need no copy.
    const std::uint8_t* bytes(const TensorEntry& t) const noexcept { return data_ + t.begin; }

    void read_floats(const std::string& name, const TensorEntry& t, std::span<float> v) const {
        if (!is_float_dtype(t.dtype))
            throw load_error("typenet: '" + source_ + "': tensor " + detail::quoted(name) + " has dtype " + t.dtype +
                             "; weights must be F32, F64, F16 or BF16");
        if (v.size() != t.elements()) throw std::invalid_argument("typenet: read_floats: buffer size does not match the tensor");
        const std::uint8_t* p = data_ + t.begin;  // little-endian, as safetensors specifies
        if (v.empty()) return;  // a zero-sized tensor: nothing to copy (and data() may be null)
        if (t.dtype == "F32") {
            std::memcpy(v.data(), p, v.size() * sizeof(float));
        } else if (t.dtype == "F64") {
            for (std::size_t i = 0; i < v.size(); ++i) {
                double d;
                std::memcpy(&d, p + 8 * i, 8);
                v[i] = float(d);
            }
        } else {
            const bool half = t.dtype == "F16";
            for (std::size_t i = 0; i < v.size(); ++i) {
                std::uint16_t h;
                std::memcpy(&h, p + 2 * i, 2);
                v[i] = half ? detail::half_to_float(h) : detail::bfloat16_to_float(h);
            }
        }
    }

  private:
    SafetensorsFile(const std::uint8_t* data, std::size_t size, std::shared_ptr<const void> keep, std::string source,
                    const ReadLimits& limits)
        : keepalive_(std::move(keep)), data_begin_(data), size_(size), source_(std::move(source)) {
        parse(limits);
    }

    [[noreturn]] void fail(const std::string& what) const { throw load_error("typenet: '" + source_ + "': " + what); }

    // The JSON header, parsed under the limits: its length is checked before a byte of it is
    // read, and the reader refuses nesting past max_depth, an array longer than max_rank, a
    // name longer than max_name_bytes and a key given twice in one object as it meets them.
    json::Value parse_header(const char* h, std::size_t n, const ReadLimits& limits) const {
        try {
            return json::parse(std::string_view(h, n), {limits.max_depth, limits.max_rank, limits.max_name_bytes});
        } catch (const json::error& e) {
            fail(e.syntax ? std::string("header is not valid JSON: ") + e.what() : std::string(e.what()));
        }
    }

    void parse(const ReadLimits& limits) {
        if (size_ < 8) fail("not a safetensors file: " + std::to_string(size_) + " bytes, shorter than the 8-byte header length");
        std::uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | data_begin_[std::size_t(i)];
        if (n > size_ - 8)
            fail("header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size_) + " bytes)");
        if (n > limits.max_header_bytes)
            fail("header of " + std::to_string(n) + " bytes is larger than ReadLimits::max_header_bytes (" +
                 std::to_string(limits.max_header_bytes) + ")");
        const char* h = reinterpret_cast<const char*>(data_begin_ + 8);
        const json::Value header = parse_header(h, std::size_t(n), limits);
        if (!header.is_object()) fail("header is not a JSON object");
        data_ = data_begin_ + 8 + n;
        const std::size_t data_size = size_ - 8 - std::size_t(n);
        struct Range {
            std::size_t begin, end;
            const std::string* name;
        };
        std::vector<Range> ranges;
        for (std::size_t m = 0; m < header.keys.size(); ++m) {
            const std::string& name = header.keys[m];
            const json::Value& v = header.items[m];
            if (name == "__metadata__") continue;
            const std::string where = "tensor " + detail::quoted(name) + ": ";
            const json::Value* dtype = v.find("dtype");
            const json::Value* shape = v.find("shape");
            const json::Value* off = v.find("data_offsets");
            if (!v.is_object() || !dtype || !shape || !off) fail(where + "needs dtype, shape and data_offsets");
            TensorEntry t;
            if (!dtype->is_string()) fail(where + "dtype is not a string");
            t.dtype = dtype->text;
            const std::size_t esize = detail::dtype_bytes(t.dtype);
            if (esize == 0) fail(where + "unknown dtype " + detail::quoted(t.dtype));
            if (!shape->is_array()) fail(where + "shape is not an array");
            std::size_t elements = 1;
            for (const json::Value& d : shape->items) {
                if (!d.is_unsigned) fail(where + "shape has a dimension that is not a non-negative integer");
                const std::uint64_t dim = d.u;
                if (dim > std::numeric_limits<std::size_t>::max() || __builtin_mul_overflow(elements, std::size_t(dim), &elements))
                    fail(where + "shape's element count overflows");
                t.shape.push_back(std::size_t(dim));
            }
            std::size_t bytes = 0;
            if (__builtin_mul_overflow(elements, esize, &bytes))
                fail(where + "shape " + t.shape_str() + " of " + t.dtype + " needs more bytes than memory can hold");
            if (!off->is_array() || off->items.size() != 2 || !off->items[0].is_unsigned || !off->items[1].is_unsigned)
                fail(where + "data_offsets must be two non-negative integers");
            const std::uint64_t b = off->items[0].u, e = off->items[1].u;
            if (b > e || e > data_size)
                fail(where + "data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + "] out of range (data is " +
                     std::to_string(data_size) + " bytes)");
            if (e - b != bytes)
                fail(where + "shape " + t.shape_str() + " of " + t.dtype + " needs " + std::to_string(bytes) +
                     " bytes but data_offsets span " + std::to_string(e - b));
            t.begin = std::size_t(b);
            t.end = std::size_t(e);
            const auto it = tensors_.emplace(name, std::move(t)).first;
            ranges.push_back({it->second.begin, it->second.end, &it->first});
        }
        std::sort(ranges.begin(), ranges.end(), [](const Range& x, const Range& y) { return x.begin < y.begin; });
        for (std::size_t i = 1; i < ranges.size(); ++i)
            if (ranges[i].begin < ranges[i - 1].end)
                fail("the data of tensors " + detail::quoted(*ranges[i - 1].name) + " [" + std::to_string(ranges[i - 1].begin) + ", " +
                     std::to_string(ranges[i - 1].end) + ") and " + detail::quoted(*ranges[i].name) + " [" +
                     std::to_string(ranges[i].begin) + ", " + std::to_string(ranges[i].end) + ") overlap");
    }

    std::shared_ptr<const void> keepalive_;  // owns the bytes (vector or mapping), or null
    const std::uint8_t* data_begin_ = nullptr;
    std::size_t size_ = 0;
    std::string source_;
    const std::uint8_t* data_ = nullptr;
    std::map<std::string, TensorEntry> tensors_;
};

namespace detail {
struct HeaderEntry {
    std::string_view name, dtype;
    std::span<const std::size_t> shape;
    std::size_t begin, end;
};
// A safetensors header of `entries` as nlohmann-json and PyTorch's safetensors write it:
// tensors in name order, each one's keys in theirs, no spaces, padded with spaces to a
// multiple of 8 bytes. std::invalid_argument for a name that is not UTF-8 or is given twice.
inline std::string safetensors_header(std::vector<HeaderEntry> entries) {
    std::sort(entries.begin(), entries.end(), [](const HeaderEntry& a, const HeaderEntry& b) { return a.name < b.name; });
    std::string h = "{";
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const HeaderEntry& t = entries[i];
        if (i > 0 && t.name == entries[i - 1].name) throw std::invalid_argument("two tensors are named " + quoted(t.name));
        if (i > 0) h += ',';
        if (!json::append_string(h, t.name)) throw std::invalid_argument("the tensor name " + quoted(t.name) + " is not valid UTF-8");
        h += ":{\"data_offsets\":[" + std::to_string(t.begin) + ',' + std::to_string(t.end) + "],\"dtype\":";
        json::append_string(h, t.dtype);
        h += ",\"shape\":[";
        for (std::size_t k = 0; k < t.shape.size(); ++k) {
            if (k > 0) h += ',';
            h += std::to_string(t.shape[k]);
        }
        h += "]}";
    }
    h += '}';
    h.append((8 - h.size() % 8) % 8, ' ');
    return h;
}
}  // namespace detail

struct NamedTensor {
    std::string name;
    std::vector<std::size_t> shape;
    std::span<const float> values;
};

// Writes F32 tensors; the header is padded with spaces to a multiple of 8 bytes.
inline void write_safetensors(const std::filesystem::path& path, std::span<const NamedTensor> tensors) {
    std::vector<detail::HeaderEntry> entries;
    std::size_t offset = 0;
    for (const NamedTensor& t : tensors) {
        std::size_t n = 1;
        for (std::size_t d : t.shape) n *= d;
        if (n != t.values.size())
            throw std::invalid_argument("typenet: write_safetensors: tensor '" + t.name + "' has " +
                                        std::to_string(t.values.size()) + " values for its shape");
        entries.push_back({t.name, "F32", t.shape, offset, offset + n * sizeof(float)});
        offset += n * sizeof(float);
    }
    std::string h;
    try {
        h = detail::safetensors_header(std::move(entries));
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string("typenet: write_safetensors: ") + e.what());
    }
    std::uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = std::uint8_t(std::uint64_t(h.size()) >> (8 * i));
#ifdef TYPENET_HAS_MMAP
    // A unique temporary beside the target, created with O_EXCL (so a planted file or symlink
    // of that name is never followed or overwritten), written, fsynced, renamed over the
    // target, and the directory fsynced: a reader sees the old file or the whole new one, and
    // after a crash the rename has either happened or not.
    std::string tmp = path.string() + ".XXXXXX";
    const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("typenet: cannot create a temporary beside '" + path.string() + "': " + std::strerror(errno));
    auto fail = [&](const std::string& what) {
        const std::string why = std::strerror(errno);
        ::close(fd);
        ::unlink(tmp.c_str());
        throw std::runtime_error("typenet: " + what + " '" + tmp + "': " + why);
    };
    auto put = [&](const void* p, std::size_t n) {
        const auto* c = static_cast<const char*>(p);
        while (n > 0) {
            const ssize_t w = ::write(fd, c, n);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) fail("failed writing");
            c += w, n -= std::size_t(w);
        }
    };
    // mkostemp creates the file 0600: give it the mode of the file it replaces, or rw-r--r--.
    struct stat old {};
    const mode_t mode = ::stat(path.c_str(), &old) == 0 ? (old.st_mode & 07777) : 0644;
    if (::fchmod(fd, mode) != 0) fail("cannot set the mode of");
    put(len, 8);
    put(h.data(), h.size());
    for (const NamedTensor& t : tensors) put(t.values.data(), t.values.size() * sizeof(float));
    if (::fsync(fd) != 0) fail("cannot fsync");
    if (::close(fd) != 0) {
        ::unlink(tmp.c_str());
        throw std::runtime_error("typenet: failed writing '" + tmp + "'");
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        throw std::runtime_error("typenet: cannot rename '" + tmp + "' to '" + path.string() + "': " + why);
    }
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);  // the rename itself durable; a file system that cannot is no error
        ::close(dfd);
    }
#else
    const std::filesystem::path tmp = path.string() + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) throw std::runtime_error("typenet: cannot write '" + tmp.string() + "'");
        f.write(reinterpret_cast<const char*>(len), 8);
        f.write(h.data(), std::streamsize(h.size()));
        for (const NamedTensor& t : tensors)
            f.write(reinterpret_cast<const char*>(t.values.data()), std::streamsize(t.values.size() * sizeof(float)));
        if (!f) throw std::runtime_error("typenet: failed writing '" + tmp.string() + "'");
    }
    std::filesystem::rename(tmp, path);  // a reader never sees a half-written file
#endif
}

}  // namespace typenet
