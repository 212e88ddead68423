// Shared forward of the layers that only reinterpret their input (Flatten, Reshape, Dropout):
// nothing to do when the memory plan lets output alias input, one copy otherwise.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>

namespace typenet::inline TYPENET_ISA_NAMESPACE::detail {

template <std::size_t Size>
inline void view_forward(const float* in, float* out, std::size_t rows) noexcept {
    if (in != out) std::copy_n(in, rows * Size, out);
}

}  // namespace typenet::detail
