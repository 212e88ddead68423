// AnyModel<A, B, ...>: one of several compiled models, chosen at run time by the weights file.
//
//   using Amp = tn::AnyModel<Gru8, Lstm16, Lstm32>;   // each a streaming Sequential
//   Amp amp;
//   tn::load_rtneural(amp, path);     // or tn::load_weights(amp, file, convention)
//   amp.process(in, out, n);          // the chosen model, its own state
//
// An audio plugin that ships GRU and LSTM models of several sizes runs whichever the user's
// file holds (AIDA-X gets this from a generated std::variant of about 100 RTNeural models).
// Loading (io/: load_weights, load_rtneural) tries the alternatives in order on a fresh Net
// each and keeps the first that the file fits — every tensor present with its shape, none
// left over, and for RTNeural files the layers and activations too; a file that fits none is
// one load_error saying why each refused it, and the AnyModel keeps what it had.
//
// step and process choose the alternative once per call (a switch over the variant's index,
// no virtual call) and then run that Net's own step or process with the State the AnyModel
// holds for it: the inner loop is exactly the compiled model's. They never allocate, lock or
// throw; with no model loaded they write zeros. Streaming needs every alternative to stream
// with the same features per step in and out, checked at compile time.
#pragma once
#include "../core/isa.hpp"
#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "net.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

template <class... Models>
class AnyModel {
    static_assert(sizeof...(Models) >= 1, "typenet: AnyModel<Models...> needs at least one model");
    template <class M> using state_of = std::conditional_t<Net<M>::streamable(), typename Net<M>::State, std::monostate>;

  public:
    static constexpr std::size_t size = sizeof...(Models);
    template <class M>
    struct Slot {
        Net<M> net;
        state_of<M> state;
    };
    static constexpr bool streams = (Net<Models>::streamable() && ...);
    static constexpr std::size_t step_input_floats = std::max({Net<Models>::step_input_floats...});
    static constexpr std::size_t step_output_floats = std::max({Net<Models>::step_output_floats...});

    // Which alternative holds the model (size when none does).
    std::size_t index() const noexcept { return slot_.index() == 0 ? size : slot_.index() - 1; }
    bool has_model() const noexcept { return slot_.index() != 0; }
    // The chosen model's type, as summaries print it.
    std::string model_name() const {
        return std::visit([]<class S>(const S&) -> std::string {
            if constexpr (std::is_same_v<S, std::monostate>) return "no model";
            else return name_of<decltype(S::net)>();
        }, slot_);
    }
    static std::string name_of_alternative(std::size_t i) {
        std::string s;
        std::size_t k = 0;
        ((k++ == i ? (s = name_of<Net<Models>>(), 0) : 0), ...);
        return s;
    }

    // f(Net<M>& net, State& state) on the chosen model (State is std::monostate for a model
    // that does not stream); nothing when there is none.
    template <class F>
    void visit(F&& f) {
        std::visit([&]<class S>(S& s) {
            if constexpr (!std::is_same_v<S, std::monostate>) f(s.net, s.state);
        }, slot_);
    }
    template <class F>
    void visit(F&& f) const {
        std::visit([&]<class S>(const S& s) {
            if constexpr (!std::is_same_v<S, std::monostate>) f(s.net, s.state);
        }, slot_);
    }

    // Streaming: n steps of step_input_floats each into n steps of step_output_floats.
    void process(const float* in, float* out, std::size_t n) noexcept {
        static_assert(streams && ((Net<Models>::step_input_floats == step_input_floats) && ...) &&
                          ((Net<Models>::step_output_floats == step_output_floats) && ...),
                      "typenet: AnyModel::process needs every model to stream, with the same features per step in and out");
        dispatch([&](auto& s) { s.net.process(in, out, n, s.state); }, [&] { std::fill_n(out, n * step_output_floats, 0.f); });
    }
    void step(const float* in, float* out) noexcept { process(in, out, 1); }
    void reset() noexcept {
        if constexpr (streams) dispatch([](auto& s) { s.state.reset(); }, [] {});
    }

    // Tries try_load(Net<M>&) -> std::optional<load_error-like> on a fresh Net of each model
    // in order and keeps the first that returns none; otherwise returns every refusal, and
    // what was loaded before stays. (io/ builds load_weights and load_rtneural on this.)
    template <class TryLoad>
    std::optional<std::string> load_first(TryLoad&& try_load) {
        std::string why;
        bool done = false;
        std::size_t i = 0;
        ((done || ([&] {
             Net<Models> net = make<Models>();
             if (auto error = try_load(net)) {
                 why += "\n  model " + std::to_string(i) + ", " + name_of<Net<Models>>() + ": " + error->what();
             } else {
                 state_of<Models> state{};
                 if constexpr (Net<Models>::streamable()) state = net.make_state();
                 slot_.template emplace<Slot<Models>>(Slot<Models>{std::move(net), std::move(state)});
                 done = true;
             }
             ++i;
         }(), done)), ...);
        if (done) return std::nullopt;
        return why;
    }

  private:
    template <class N>
    static std::string name_of() {
        std::string s = layer_name<typename N::model_type>();
        for (std::size_t p; (p = s.find("isa_")) != std::string::npos;) {  // the instruction set's inline namespace
            const std::size_t e = s.find("::", p);
            s.erase(p, e == std::string::npos ? std::string::npos : e + 2 - p);
        }
        return s;
    }
    // One switch over the alternative, then the model's own code.
    template <class F, class Empty>
    void dispatch(F&& f, Empty&& empty) noexcept {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            const std::size_t at = slot_.index();
            if (at == 0) empty();
            else ((at == I + 1 ? (f(*std::get_if<I + 1>(&slot_)), 0) : 0), ...);
        }(std::make_index_sequence<size>{});
    }
    std::variant<std::monostate, Slot<Models>...> slot_;
};

}  // namespace typenet
