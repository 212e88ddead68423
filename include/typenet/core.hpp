// The light base: shapes, the Layer role, activations and Sequential — enough to define a
// model type and query it at compile time. Running it (model/net.hpp) and loading weights
// (io/) are opt-in headers; typenet.hpp includes everything.
#pragma once
#include "activations.hpp"
#include "diagnostics.hpp"
#include "layer.hpp"
#include "layers/input.hpp"
#include "model/sequential.hpp"
#include "shape.hpp"
#include "tensor.hpp"
