// The compile-time vocabulary, and nothing that runs: shapes, fixed strings, type names,
// type lists, the shape diagnostics, and the Layer role with its capability concepts. Enough
// to write a layer's shape rule and check it; it includes neither xsimd nor xtensor (a test
// checks that). Models, kernels and loading are the other folders; typenet.hpp is all of it.
#pragma once
#include "core/diagnostics.hpp"
#include "core/fixed_string.hpp"
#include "core/layer.hpp"
#include "core/shape.hpp"
#include "core/type_list.hpp"
#include "core/type_name.hpp"
