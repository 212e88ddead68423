// typenet: a neural network as a C++ type. The whole public surface.
#pragma once
#include "core.hpp"
#include "io/safetensors.hpp"
#include "layers/activation.hpp"
#include "layers/dense.hpp"
#include "layers/dropout.hpp"
#include "layers/flatten.hpp"
#include "layers/reshape.hpp"
#include "model/net.hpp"
#include "model/summary.hpp"
#include "io/weights.hpp"
