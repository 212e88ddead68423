// The two pieces of zlib a .npz archive needs: raw DEFLATE (RFC 1951) for the entries
// np.savez_compressed writes, and CRC-32 for every entry. A reader of untrusted input is
// better written once, by the library everyone fuzzes; what typenet adds is the bounds.
//
// The output may not grow past the size the zip directory declares (zlib writes into a
// buffer of exactly that size and stops there), the stream must end exactly at that size and
// within the compressed bytes the directory gives, and every failure — a corrupt stream,
// a stream that ends early or runs long, a size larger than zlib's 32-bit counters — is a
// load_error naming the entry and what zlib said.
#pragma once
#include "../core/isa.hpp"
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "safetensors.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::detail {

inline std::uint32_t crc32(std::span<const std::uint8_t> bytes) noexcept {
    uLong c = ::crc32(0L, Z_NULL, 0);
    // zlib counts in uInt: feed a large span in pieces.
    constexpr std::size_t piece = std::size_t{1} << 30;
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
        const std::size_t n = bytes.size() - at < piece ? bytes.size() - at : piece;
        c = ::crc32(c, bytes.data() + at, static_cast<uInt>(n));
    }
    return static_cast<std::uint32_t>(c);
}

// Decompresses the raw DEFLATE stream `in` into exactly `size` bytes; `where` names the
// stream in errors.
inline std::vector<std::uint8_t> inflate_raw(std::span<const std::uint8_t> in, std::size_t size, const std::string& where) {
    auto fail = [&](const std::string& what) { throw load_error("typenet: " + where + ": corrupt deflate stream: " + what); };
    if (in.size() > std::numeric_limits<uInt>::max() || size > std::numeric_limits<uInt>::max())
        fail("an entry of 4 GiB or more (zip64) is not supported");
    std::vector<std::uint8_t> out(size);
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) throw load_error("typenet: " + where + ": zlib could not start inflating");
    z.next_in = const_cast<Bytef*>(in.data());  // zlib's API is not const-correct; it does not write
    z.avail_in = static_cast<uInt>(in.size());
    Bytef none = 0;  // zlib refuses a null output pointer, even for an empty entry
    z.next_out = size ? out.data() : &none;
    z.avail_out = static_cast<uInt>(size);
    const int rc = inflate(&z, Z_FINISH);
    const std::string msg = z.msg ? z.msg : "";
    const std::size_t produced = size - z.avail_out;
    inflateEnd(&z);
    if (rc == Z_STREAM_END) {
        if (produced != size)
            fail("it ends after " + std::to_string(produced) + " bytes, the directory declares " + std::to_string(size));
        return out;
    }
    if (rc == Z_DATA_ERROR) fail(msg.empty() ? "invalid data" : msg);
    // Z_OK or Z_BUF_ERROR: the stream did not end, for want of output room or of input.
    const bool unfinished = rc == Z_OK || rc == Z_BUF_ERROR;
    if (unfinished && produced == size) fail("it holds more than the " + std::to_string(size) + " bytes declared in the zip directory");
    if (unfinished) fail("the input ends before the stream does");
    if (rc == Z_MEM_ERROR) throw load_error("typenet: " + where + ": zlib ran out of memory");
    fail(msg.empty() ? "zlib error " + std::to_string(rc) : msg);
    return out;  // not reached
}

}  // namespace typenet::detail
