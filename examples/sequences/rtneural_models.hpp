// RTNeural's own test models (its models/gru_1d.json, lstm_1d.json and conv.json) as typenet
// types, over a sequence of T steps (T = 1 for a model only ever streamed). Shared by
// examples/sequences/any_model.cpp and the tests that load those files.
#pragma once
#include <cstddef>

#include <typenet/typenet.hpp>

namespace rtneural_models {
namespace tn = typenet;

template <std::size_t T>
using Gru1d = tn::Sequential<tn::Input<T, 1>, tn::GRU<8, tn::return_sequences>, tn::Dense<8, tn::sigmoid>, tn::Dense<1>>;
template <std::size_t T>
using Lstm1d = tn::Sequential<tn::Input<T, 1>, tn::LSTM<8, tn::return_sequences>, tn::Dense<1>>;
// RTNeural streams its Conv1D: causal here.
template <std::size_t T>
using Conv = tn::Sequential<tn::Input<T, 1>, tn::Dense<8, tn::tanh>, tn::Conv1D<4, tn::kernel<3>, tn::padding_causal, tn::tanh>,
                            tn::BatchNorm<1, 100>, tn::PReLU<>, tn::Conv1D<4, tn::kernel<1>, tn::padding_causal, tn::tanh>,
                            tn::Conv1D<6, tn::kernel<3>, tn::dilation<2>, tn::groups<2>, tn::padding_causal, tn::tanh>,
                            tn::BatchNorm<5, 1>, tn::PReLU<1>, tn::Dense<1, tn::sigmoid>>;
}  // namespace rtneural_models
