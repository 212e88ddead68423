// NumPy files: .npy (one array) and .npz (a zip of .npy, as np.savez writes it). Each array
// becomes a tensor of an in-memory safetensors file, so loading from NumPy goes through
// exactly the checks of any other load:
//   tn::load_weights(net, tn::read_npz("model.npz"), tn::from_pytorch);
// Supported: little-endian float32/float64/float16 ('<f4', '<f8', '<f2'), C or Fortran order,
// npy format versions 1-3; zip entries stored (np.savez) or deflated (np.savez_compressed,
// io/zip.hpp, through zlib), each checked against its CRC-32.
#pragma once
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "zip.hpp"
#include "safetensors.hpp"

namespace typenet {

namespace detail {

struct NpyArray {
    std::string dtype;  // safetensors' name: F32, F64, F16
    std::vector<std::size_t> shape;
    std::vector<std::uint8_t> data;  // C order, little-endian
};

// The value of `key` in a NumPy header dict ("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }").
inline std::string npy_field(const std::string& header, const std::string& key, const std::string& where) {
    const std::size_t k = header.find("'" + key + "'");
    if (k == std::string::npos) throw load_error("typenet: " + where + ": the .npy header has no '" + key + "'");
    std::size_t v = header.find(':', k);
    if (v == std::string::npos) throw load_error("typenet: " + where + ": malformed .npy header");
    ++v;
    while (v < header.size() && header[v] == ' ') ++v;
    std::size_t end = v;
    if (v < header.size() && (header[v] == '\'' || header[v] == '(')) {
        const char close = header[v] == '\'' ? '\'' : ')';
        end = header.find(close, v + 1);
        if (end == std::string::npos) throw load_error("typenet: " + where + ": malformed .npy header");
        return header.substr(v, end - v + 1);
    }
    while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
    return header.substr(v, end - v);
}

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
    const std::string descr = npy_field(header, "descr", where);
    std::size_t es = 0;
    if (descr == "'<f4'") a.dtype = "F32", es = 4;
    else if (descr == "'<f8'") a.dtype = "F64", es = 8;
    else if (descr == "'<f2'") a.dtype = "F16", es = 2;
    else fail("dtype " + descr + " is not a little-endian float (<f4, <f8, <f2)");
    const std::string order = npy_field(header, "fortran_order", where);
    if (order != "False" && order != "True") fail("malformed fortran_order");
    const std::string shape = npy_field(header, "shape", where);
    std::size_t count = 1;
    for (std::size_t i = 1; i + 1 < shape.size();) {
        while (i + 1 < shape.size() && (shape[i] == ' ' || shape[i] == ',')) ++i;
        if (i + 1 >= shape.size()) break;
        std::size_t d = 0, digits = 0;
        for (; i + 1 < shape.size() && shape[i] >= '0' && shape[i] <= '9'; ++i, ++digits) {
            if (d > (std::size_t(1) << 40)) fail("a dimension is too large");
            d = d * 10 + std::size_t(shape[i] - '0');
        }
        if (digits == 0) fail("malformed shape " + shape);
        if (d != 0 && count > (std::size_t(1) << 40) / d) fail("shape too large");
        count *= d;
        a.shape.push_back(d);
    }
    const std::size_t bytes = count * es, data_at = start + len;
    if (b.size() - data_at != bytes)
        fail("shape " + shape + " of " + descr + " needs " + std::to_string(bytes) + " bytes, the file holds " +
             std::to_string(b.size() - data_at));
    a.data.assign(b.begin() + std::ptrdiff_t(data_at), b.end());
    if (order == "True" && a.shape.size() > 1) {  // Fortran (column-major) to C order
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
    nlohmann::json header = nlohmann::json::object();
    std::size_t offset = 0;
    for (const auto& [name, a] : arrays) {
        header[name] = {{"dtype", a.dtype}, {"shape", a.shape}, {"data_offsets", {offset, offset + a.data.size()}}};
        offset += a.data.size();
    }
    std::string h;
    try {
        h = header.dump();
    } catch (const nlohmann::json::exception&) {  // a zip entry name that is not UTF-8
        throw load_error("typenet: '" + source + "': an array name is not valid UTF-8");
    }
    std::vector<std::uint8_t> bytes(8 + h.size());
    for (std::size_t i = 0; i < 8; ++i) bytes[i] = std::uint8_t(std::uint64_t(h.size()) >> (8 * i));
    std::memcpy(bytes.data() + 8, h.data(), h.size());
    for (const auto& [name, a] : arrays) bytes.insert(bytes.end(), a.data.begin(), a.data.end());
    return SafetensorsFile(std::move(bytes), source);
}

inline std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw load_error("typenet: cannot open '" + path.string() + "'");
    return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
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

// A .npz archive: each "<name>.npy" entry becomes tensor "<name>".
inline SafetensorsFile read_npz(std::span<const std::uint8_t> b, const std::string& source = "<memory>") {
    const std::string where = "'" + source + "'";
    auto fail = [&](const std::string& what) -> void { throw load_error("typenet: " + where + ": " + what); };
    if (b.size() < 22) fail("not a .npz archive (too short for a zip directory)");
    std::size_t eocd = b.size() - 22;  // end of central directory, before a comment of up to 64 KiB
    const std::size_t lowest = b.size() > 22 + 65535 ? b.size() - 22 - 65535 : 0;
    while (detail::le32(b.data() + eocd) != 0x06054b50u) {
        if (eocd == lowest) fail("not a .npz archive (no zip end-of-directory record)");
        --eocd;
    }
    const std::size_t entries = detail::le16(b.data() + eocd + 10);
    std::size_t cd = detail::le32(b.data() + eocd + 16);
    if (detail::le32(b.data() + eocd + 16) == 0xFFFFFFFFu) fail("zip64 archives are not supported");
    std::vector<std::pair<std::string, detail::NpyArray>> arrays;
    for (std::size_t e = 0; e < entries; ++e) {
        if (cd > b.size() || b.size() - cd < 46 || detail::le32(b.data() + cd) != 0x02014b50u) fail("corrupt zip directory");
        const std::uint16_t method = detail::le16(b.data() + cd + 10);
        const std::uint32_t crc = detail::le32(b.data() + cd + 16);
        const std::size_t csize = detail::le32(b.data() + cd + 20), usize = detail::le32(b.data() + cd + 24);
        const std::size_t nlen = detail::le16(b.data() + cd + 28), xlen = detail::le16(b.data() + cd + 30),
                          clen = detail::le16(b.data() + cd + 32);
        const std::size_t local = detail::le32(b.data() + cd + 42);
        if (b.size() - cd - 46 < nlen) fail("corrupt zip directory");
        std::string name(reinterpret_cast<const char*>(b.data() + cd + 46), nlen);
        if (method != 0 && method != 8)
            fail("entry '" + name + "' uses zip compression method " + std::to_string(method) + " (only stored and deflate are read)");
        if (method == 0 && csize != usize) fail("entry '" + name + "' has inconsistent sizes");
        if (local > b.size() || b.size() - local < 30 || detail::le32(b.data() + local) != 0x04034b50u)
            fail("entry '" + name + "' has no local header");
        const std::size_t data_at = local + 30 + detail::le16(b.data() + local + 26) + detail::le16(b.data() + local + 28);
        if (data_at > b.size() || b.size() - data_at < csize) fail("entry '" + name + "' runs past the end");
        if (name.size() > 4 && name.ends_with(".npy")) name.resize(name.size() - 4);
        const std::string entry = where + " entry '" + name + "'";
        std::vector<std::uint8_t> inflated;
        std::span<const std::uint8_t> bytes = b.subspan(data_at, csize);
        if (method == 8) {
            // DEFLATE expands at most 1032:1 (a 258-byte match per 2 bits): a larger declared
            // size is a corrupt directory, not a reason to reserve memory.
            if (usize > 1032 * csize + 64)
                fail("entry '" + name + "' declares " + std::to_string(usize) + " bytes, more than " + std::to_string(csize) +
                     " compressed bytes can hold");
            inflated = detail::inflate_raw(bytes, usize, entry);
            bytes = inflated;
        }
        if (detail::crc32(bytes) != crc) fail("entry '" + name + "' fails its CRC-32 check (the archive is corrupt)");
        arrays.emplace_back(name, detail::parse_npy(bytes, entry));
        cd += 46 + nlen + xlen + clen;
    }
    return detail::as_safetensors(arrays, source);
}
inline SafetensorsFile read_npz(const std::filesystem::path& path) { return read_npz(detail::read_bytes(path), path.string()); }

}  // namespace typenet
