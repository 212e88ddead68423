// What every model type offers, whatever its spelling: the constants of its lowered IR and
// the program Net runs. A front end (Sequential, Graph) lowers itself to an ir::Module (or
// ir::Failed after a reported error) and derives from ModelBase<that>.
#pragma once
#include "../core/isa.hpp"
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../ir/ir.hpp"
#include "../passes/check_names.hpp"
#include "../runtime/program.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE::detail {

struct invalid_shape {
    static std::string str() { return "<invalid>"; }
    static constexpr std::size_t size = 0;
    static constexpr std::size_t rank = 0;
};

// Lowered without error, and its names check out (reported once if not).
template <class Lowered>
consteval bool lowered_valid() {
    if constexpr (std::is_same<Lowered, ir::Failed>::value) return false;
    else return decltype(passes::check_names<Lowered>())::value;
}

template <class Lowered>
struct ModelBase {
    static constexpr bool is_model = true;
    static constexpr bool valid = lowered_valid<Lowered>();
    using module_type = Lowered;
    using model_base = ModelBase;
    // void when invalid: the error has been reported, and nothing else is instantiated.
    using program = typename std::conditional_t<valid, std::type_identity<runtime::Program<Lowered>>, std::type_identity<void>>::type;

  private:
    template <class F>
    static constexpr std::size_t if_valid(F f) {
        if constexpr (valid) return f(std::type_identity<program>{});
        else return 0;
    }

  public:
    static constexpr std::size_t param_count = if_valid([](auto p) { return decltype(p)::type::canonical_floats; });
    static constexpr std::size_t flops = if_valid([](auto p) { return decltype(p)::type::flops; });
    static constexpr std::size_t weight_bytes = param_count * sizeof(float);
    // Activation workspace of one sample: the arena the memory plan needs.
    static constexpr std::size_t workspace_bytes = if_valid([](auto p) { return decltype(p)::type::arena_floats(1) * sizeof(float); });
    // What it would take with every intermediate value in a buffer of its own.
    static constexpr std::size_t naive_workspace_bytes = if_valid([](auto p) { return decltype(p)::type::naive_floats * sizeof(float); });

    // The shape of output o (invalid_shape for an invalid model).
    template <std::size_t o>
    static consteval auto output_shape_probe() {
        if constexpr (valid) return std::type_identity<typename Lowered::template node<Lowered::outputs[o]>::shape>{};
        else return std::type_identity<invalid_shape>{};
    }
    template <std::size_t o> using output_shape_of = typename decltype(output_shape_probe<o>())::type;
    template <class Seq> struct output_tuple;
    template <std::size_t... o> struct output_tuple<std::index_sequence<o...>> {
        using type = std::tuple<output_shape_of<o>...>;
    };
};

}  // namespace typenet::detail
