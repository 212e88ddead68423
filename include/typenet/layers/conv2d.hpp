// Conv2D<Filters, Options...> and DepthwiseConv2D<Options...>, channels-last (NHWC).
//   Options: kernel<KH, KW> (required for Conv2D), stride<SH, SW>, dilation<DH, DW>,
//   padding_valid (default) | padding_same | padding<PH, PW> | padding_tblr<T, B, L, R>,
//   groups<G>, no_bias, an activation; DepthwiseConv2D also depth_multiplier<M>.
// Weights in PyTorch's Conv2d layout: weight [Filters, C / groups, KH, KW], bias [Filters].
// The model runs it as an implicit GEMM (kernels/conv.hpp); a depthwise convolution with
// multiplier 1 has its own direct kernel. Conv2D (groups 1) takes tn::int8_weights (or gets it
// from the policy): kernels/conv_int8.hpp, int8 weights per output channel, the input map
// quantized per sample; or tn::bf16_weights: kernels/conv_bf16.hpp, weights and input map
// rounded to bf16, sums in fp32.
#pragma once
#include "../core/isa.hpp"
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "../kernels/activations.hpp"
#include "options.hpp"
#include "../core/diagnostics.hpp"
#include "../kernels/conv.hpp"
#include "../kernels/conv_bf16.hpp"
#include "../kernels/conv_int8.hpp"
#include "../kernels/winograd.hpp"
#include "../core/layer.hpp"
#include "conv_options.hpp"
#include "dense.hpp"

namespace typenet::inline TYPENET_ISA_NAMESPACE {

namespace detail {

template <class Spec, class... Options>
struct ConvLayer {
    using activation = typename activation_option<linear, Options...>::type;
    static constexpr bool bias = !has_option<no_bias, Options...>;
    static constexpr bool int8 = has_option<int8_weights, Options...>;
    static constexpr bool int8_by_policy = has_option<int8_policy, Options...>;
    static constexpr bool bf16 = has_option<bf16_weights, Options...>;
    static constexpr bool bf16_by_policy = has_option<bf16_policy, Options...>;
    static constexpr bool names_precision = int8 || int8_by_policy || bf16 || bf16_by_policy || has_option<fp32_weights, Options...>;
    static constexpr std::string_view keras_class = Spec::depthwise ? "depthwise_conv2d" : "conv2d";
    static constexpr bool spatial = true;  // PyTorch holds its output channels-first
    using stride_option = find_option_t<is_stride, stride<1>, Options...>;
    using dilation_option = find_option_t<is_dilation, dilation<1>, Options...>;
    // Checked where the model is composed, so that the error is reported once, in words.
    static constexpr bool grouped = Spec::depthwise || groups_of<find_option_t<is_groups, groups<1>, Options...>>::value > 1;
    // The algorithm, when the layer names one (conv_options.hpp: winograd, direct).
    static constexpr std::size_t winograd_options =
        std::size_t{has_option<winograd, Options...>} + has_option<winograd_4x4, Options...> + has_option<winograd_2x2, Options...>;
    static constexpr bool asks_winograd = winograd_options > 0;
    // The tile asked for: 4, 2, or 0 (the library's choice).
    static constexpr std::size_t asked_tile = has_option<winograd_4x4, Options...> ? 4 : has_option<winograd_2x2, Options...> ? 2 : 0;
    static constexpr bool asks_direct = has_option<direct, Options...>;
    static constexpr bool names_algorithm = asks_winograd || asks_direct;
    static constexpr bool winograd_shaped = [] {
        using K = find_option_t<is_kernel, kernel<0>, Options...>;
        return pair_of<K>::h == 3 && pair_of<K>::w == 3 && pair_of<stride_option>::h == 1 && pair_of<stride_option>::w == 1 &&
               pair_of<dilation_option>::h == 1 && pair_of<dilation_option>::w == 1 && !grouped;
    }();
    using invalid_options = std::conditional_t<
        asks_winograd && asks_direct, a_convolution_takes_winograd_or_direct_not_both,
        std::conditional_t<(winograd_options > 1), a_convolution_takes_one_winograd_option,
        std::conditional_t<asks_winograd && !winograd_shaped, winograd_is_for_3x3_convolutions_with_stride_1_dilation_1_groups_1,
        std::conditional_t<(int(int8) + int(bf16) + int(has_option<fp32_weights, Options...>) > 1), a_convolution_takes_one_precision,
        std::conditional_t<asks_winograd && int8, winograd_runs_in_fp32_not_int8,
        std::conditional_t<asks_winograd && bf16, winograd_runs_in_fp32_not_bf16,
        std::conditional_t<bf16 && grouped, bf16_weights_is_for_conv2d_with_groups_1,
        std::conditional_t<int8 && grouped, int8_weights_is_for_conv2d_with_groups_1,
        std::conditional_t<
        std::is_same_v<find_option_t<is_kernel, void, Options...>, void>, kernel_size_required,
        std::conditional_t<pair_of<stride_option>::h == 0 || pair_of<stride_option>::w == 0, stride_must_be_at_least_1,
                           std::conditional_t<pair_of<dilation_option>::h == 0 || pair_of<dilation_option>::w == 0,
                                              dilation_must_be_at_least_1, void>>>>>>>>>>>;

    template <class In>
    static consteval kernels::ConvGeometry geometry() {
        const Window2D g = window_of<In, kernel<1>, stride<1>, Options...>();
        const std::size_t c = In::dims[2];
        return {g.h, g.w, c, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pr.before, g.pc.before, g.out_h(), g.out_w(),
                Spec::filters(c), Spec::groups(c)};
    }
    template <class In>
    static consteval bool accepts_impl() {
        if constexpr (In::rank != 3) return false;
        else {
            const std::size_t c = In::dims[2], grp = Spec::groups(c);
            return grp > 0 && c % grp == 0 && Spec::filters(c) % grp == 0 &&
                   window_of<In, kernel<1>, stride<1>, Options...>().fits();
        }
    }
    template <class In> static constexpr bool accepts = accepts_impl<In>();
    template <class In>
    static consteval auto expected() {
        if constexpr (In::rank != 3) return std::type_identity<shape_of_rank<3>>{};
        else if constexpr (In::dims[2] % Spec::groups(In::dims[2]) != 0)
            return std::type_identity<channels_divisible_by<Spec::groups(In::dims[2])>>{};
        else {
            constexpr Window2D g = window_of<In, kernel<1>, stride<1>, Options...>();
            constexpr std::size_t ph = g.pr.before + g.pr.after, pw = g.pc.before + g.pc.after;
            return std::type_identity<spatial_size_at_least<(g.extent_h() > ph ? g.extent_h() - ph : 0),
                                                            (g.extent_w() > pw ? g.extent_w() - pw : 0)>>{};
        }
    }
    template <class In> using expected_input = typename decltype(expected<In>())::type;
    template <class In>
    using output_shape_for = Shape<geometry<In>().oh, geometry<In>().ow, geometry<In>().cout>;

    template <class In>
    static constexpr auto params_for = [] {
        constexpr auto g = geometry<In>();
        constexpr ParamSpec weight = [&] {
            if constexpr (Spec::depthwise) {
                ParamSpec w{"weight", {g.cout, g.cin_g(), g.kh, g.kw}, Init::glorot_uniform, "depthwise_kernel", KerasLayout::depthwise};
                w.depth_multiplier = g.cout / g.c;
                return w;
            } else {
                return ParamSpec{"weight", {g.cout, g.cin_g(), g.kh, g.kw}, Init::glorot_uniform, "kernel", KerasLayout::conv};
            }
        }();
        if constexpr (bias) return std::array{weight, ParamSpec{"bias", {g.cout}}};
        else return std::array{weight};
    }();
    template <class In>
    static constexpr std::size_t flops_for = 2 * geometry<In>().oh * geometry<In>().ow * geometry<In>().cout * geometry<In>().kh *
                                             geometry<In>().kw * geometry<In>().cin_g();

    // The direct depthwise kernel: one filter per channel.
    template <class In> static constexpr bool direct_depthwise = geometry<In>().groups == geometry<In>().c && geometry<In>().cout == geometry<In>().c;
    // int8 when asked for by the layer, or by the policy from 3 input channels: an RGB image's
    // first layer runs the implicit loop with each pixel padded to a quad (kernels/conv_int8.hpp,
    // conv_int8_pads_channels); 1 or 2 channels (a grayscale image's) stay fp32, whose FMAs run
    // their windows' few bytes faster than gathered byte rows.
    template <class In>
    static constexpr bool runs_int8 = geometry<In>().groups == 1 && (int8 || (int8_by_policy && geometry<In>().c >= 3));
    // bf16 when asked for by the layer, or by the policy, where the channels come in pairs (an
    // image's first layer, C = 3, stays fp32) and where the fp32 Winograd would not run faster:
    // from 32 input channels on, a 3x3 convolution keeps Winograd's 4x fewer products over
    // bf16's twice the products per instruction (one core of Zen 4, the layer alone: 16x16x32
    // Winograd 1.22x bf16, 56x56x64 1.43x, 14x14x256 1.45x; at 16 channels bf16 1.19x Winograd,
    // whose transforms weigh more there: bench_precision, docs/precision-and-threads.md).
    template <class In>
    static constexpr bool runs_bf16 =
        (bf16 || bf16_by_policy) && kernels::conv_bf16_applies(geometry<In>()) &&
        !(bf16_by_policy && !asks_direct && kernels::winograd_tile(geometry<In>()) != 0 && geometry<In>().c >= 32);
    template <class In> static constexpr bool reduced = runs_int8<In> || runs_bf16<In>;
    // Winograd F(m x m, 3x3) where the layer asks for it, or by default where it applies and
    // pays (kernels/winograd.hpp, winograd_tile): the tile m (4 or 2), or 0 for the direct sum;
    // int8 convolutions stay direct.
    template <class In>
    static constexpr std::size_t winograd_tile = [] {
        constexpr auto g = geometry<In>();
        if constexpr (reduced<In> || Spec::depthwise || asks_direct || !kernels::winograd_applies(g)) return std::size_t{0};
        else if constexpr (asked_tile != 0) return asked_tile;
        else if constexpr (kernels::winograd_tile(g) != 0) return kernels::winograd_tile(g);
        // Asked for where the default is the direct sum: F(2x2) where F(4x4)'s weights would
        // not stay in cache (7x7x512), else F(4x4).
        else if constexpr (asks_winograd) return kernels::winograd_weight_bytes(g, 4) > kernels::winograd_cached_weight_bytes ? std::size_t{2} : std::size_t{4};
        else return std::size_t{0};
    }();
    template <class In> static constexpr bool runs_winograd = winograd_tile<In> != 0;
    template <class In>
    static constexpr std::size_t packed_size_for = runs_int8<In>           ? kernels::conv_int8_packing(geometry<In>()).floats()
                                                   : runs_bf16<In>        ? kernels::conv_bf16_packing(geometry<In>()).floats()
                                                   : direct_depthwise<In> ? kernels::depthwise_floats(geometry<In>())
                                                   : runs_winograd<In>    ? kernels::winograd_floats(geometry<In>(), winograd_tile<In>)
                                                                          : geometry<In>().groups * geometry<In>().group_floats();
    // Scratch per sample: Winograd's blocks across the samples of a batch (kernels/winograd.hpp).
    template <class In>
    static constexpr std::size_t scratch_size_for = runs_winograd<In> ? kernels::winograd_scratch_per_sample(geometry<In>(), winograd_tile<In>) : 0;
    template <class In>
    static constexpr std::size_t scratch_most_for =
        runs_winograd<In> ? kernels::winograd_scratch_most(geometry<In>(), winograd_tile<In>) : std::size_t(-1);
    // Scratch, fixed whatever the batch: one padded image (implicit GEMM, groups == 1), an
    // im2col block (grouped), or Winograd's V and M of one sample's block.
    template <class In>
    static constexpr std::size_t scratch_fixed_for = [] {
        constexpr auto g = geometry<In>();
        if constexpr (runs_int8<In>) return kernels::conv_int8_scratch(g);
        else if constexpr (runs_bf16<In>) return kernels::conv_bf16_scratch(g);
        else if constexpr (runs_winograd<In>) return kernels::winograd_scratch(g, winograd_tile<In>);
        else if constexpr (direct_depthwise<In> || g.pointwise()) return std::size_t{0};
        else if constexpr (g.groups == 1 && g.kh * g.kw <= 64) return kernels::implicit_scratch(g);
        else return kernels::pixel_block * g.k();
    }();

    template <class In>
    static void pack(const float* canonical, float* packed) {
        pack_with_bias<In>(canonical, bias ? canonical + geometry<In>().cout * geometry<In>().k() : nullptr, packed);
    }
    // Folding hook: weight rows ([cout][...]) are output channels; b may be null (zeros).
    static constexpr bool absorbs_batchnorm = std::is_same_v<activation, linear>;
    template <class In> static constexpr std::size_t out_channels = geometry<In>().cout;
    template <class In>
    static void pack_with_bias(const float* canonical, const float* b, float* packed) {
        constexpr auto g = geometry<In>();
        if constexpr (runs_int8<In>) {
            kernels::conv_pack_int8(g, canonical, b, packed);
        } else if constexpr (runs_bf16<In>) {
            kernels::conv_pack_bf16(g, canonical, b, packed);
        } else if constexpr (direct_depthwise<In>) {
            kernels::depthwise_pack(g, canonical, b, packed);
        } else if constexpr (runs_winograd<In>) {
            std::vector<float> tmp(g.cout * g.c);
            kernels::winograd_pack(g, winograd_tile<In>, canonical, b, packed, tmp.data());
        } else {
            std::vector<float> tmp(g.cout_g() * g.k());
            kernels::conv_pack(g, canonical, b, packed, tmp.data());
        }
    }

    static constexpr bool absorbs_activation = std::is_same_v<activation, linear>;
    // Every forward hook: g is the layer's geometry or a crop of it; a share (of one sample's
    // work: forward_shared) only where `shares` says the kernel takes one.
    template <class In, class Act>
    static void compute(const kernels::ConvGeometry& g, const float* params, const float* in, float* out, std::size_t rows,
                        float* scratch, const float* add = nullptr, std::size_t ldo = 0, kernels::Share share = {}) {
        constexpr auto whole = geometry<In>();
        if constexpr (runs_int8<In>) kernels::conv2d_int8<Act, kernels::conv_int8_path(whole)>(g, params, in, out, rows, scratch, add, ldo, share);
        else if constexpr (runs_bf16<In>) kernels::conv2d_bf16<Act>(g, params, in, out, rows, scratch, add, ldo, share);
        else if constexpr (direct_depthwise<In>) kernels::depthwise_conv2d<Act, whole.kh, whole.kw, whole.c, kernels::depthwise_path(whole)>(g, params, in, out, rows, add, ldo, share);
        else if constexpr (runs_winograd<In>) kernels::conv2d_winograd<Act, winograd_tile<In>>(g, params, in, out, rows, scratch, add, ldo, share);
        else kernels::conv2d_gemm<Act, kernels::conv_plan(whole)>(g, params, in, out, rows, scratch, add, ldo, share);
    }
    template <class In, class Act>
    static void forward_with(const float* params, const float* in, float* out, std::size_t rows, float* scratch) {
        compute<In, Act>(geometry<In>(), params, in, out, rows, scratch);
    }
    template <class In>
    static void forward(const float* params, const float* in, float* out, std::size_t rows, float* scratch) {
        compute<In, activation>(geometry<In>(), params, in, out, rows, scratch);
    }
    // The residual hook: out = act(conv(in) + b + add), `add` laid out like out.
    static constexpr bool absorbs_add = std::is_same_v<activation, linear>;
    template <class In, class Act>
    static void forward_add(const float* params, const float* in, float* out, std::size_t rows, float* scratch, const float* add) {
        compute<In, Act>(geometry<In>(), params, in, out, rows, scratch, add);
    }

    // The slice hook: out's pixels are ldo floats apart (the layer writes its channels into a
    // slice of a Concat's output, which then copies nothing).
    static constexpr bool writes_strided = true;
    template <class In, class Act>
    static void forward_strided(const float* params, const float* in, float* out, std::size_t rows, float* scratch, std::size_t ldo) {
        compute<In, Act>(geometry<In>(), params, in, out, rows, scratch, nullptr, ldo);
    }

    // The crop hook (passes/crop_to_readers.hpp): only the first oh x ow pixels of each
    // output map, stored oh x ow, for a reader (a floor pooling) that reads no more. Every
    // kernel computes an output pixel from its own window, so those pixels are bitwise the
    // full map's; the scratch needed is at most the full map's.
    static constexpr bool crops_output = true;
    template <class In>
    static constexpr kernels::ConvGeometry cropped(std::size_t oh, std::size_t ow) noexcept {
        kernels::ConvGeometry g = geometry<In>();
        g.oh = oh, g.ow = ow;
        return g;
    }
    template <class In, class Act>
    static void forward_cropped(const float* params, const float* in, float* out, std::size_t rows, float* scratch, std::size_t oh,
                                std::size_t ow) {
        compute<In, Act>(cropped<In>(oh, ow), params, in, out, rows, scratch);
    }

    // Bands (passes/bands.hpp): a 1x1 convolution computes any n rows of its map (a GEMM over
    // their pixels, with a residual `add` laid out like them, or none), and a depthwise one
    // output rows [oy0, oy1) from its input rows [first, first + n) held in a buffer of their
    // own, written from `out` on: the band as a map of its own, whose top padding is what is left
    // of the map's above row `first`. The same bits as the whole map: every pixel is its own
    // window, with the same taps in the same order.
    // (int8: a 1x1 at stride 1 quantizes each row of its map with its own scale, on the stack
    // where rows are computed alone: kernels/conv_int8.hpp.)
    template <class In>
    static constexpr bool computes_rows = geometry<In>().pointwise() && (runs_int8<In>   ? kernels::conv_int8_rows_alone(geometry<In>())
                                                                         : runs_bf16<In> ? kernels::conv_bf16_by_tiles(geometry<In>())
                                                                                         : true);
    // (Its scratch only speeds the whole map: rows alone are quantized on the stack.)
    template <class In> static constexpr bool scratch_optional = runs_int8<In> && geometry<In>().pointwise();
    template <class In, class Act>
    static void forward_rows(const float* params, const float* in, float* out, std::size_t n, float* scratch, const float* add = nullptr) {
        kernels::ConvGeometry g = geometry<In>();
        g.h = g.oh = n;
        compute<In, Act>(g, params, in, out, 1, scratch, add);
    }
    template <class In, class Act>
    static void forward_rows_gated(const float* params, const float* gate, const float* in, float* out, std::size_t n,
                                   const float* add = nullptr, float* scratch = nullptr) {
        static_assert(runs_int8<In> && computes_rows<In>);
        kernels::ConvGeometry g = geometry<In>();
        g.h = g.oh = n;
        kernels::conv2d_int8<Act, kernels::Int8ConvPath::pixels>(g, params, in, out, 1, scratch, add, 0, {}, gate);
    }
    template <class In>
    static constexpr RowWindow reads_rows = [] {
        constexpr auto g = geometry<In>();
        if constexpr (direct_depthwise<In> && kernels::depthwise_shares(g) && g.dh == 1 && g.sh == g.sw)
            return RowWindow{g.kh, g.sh, g.pad_top, kernels::depthwise_row_unit(g), g.oh};
        else return RowWindow{};
    }();
    template <class In, class Act>
    static void forward_band(const float* params, const float* rows, std::size_t first, std::size_t n, std::size_t oy0, std::size_t oy1,
                             float* out) {
        kernels::ConvGeometry g = geometry<In>();
        g.h = n, g.oh = oy1 - oy0;
        g.pad_top = g.pad_top + first - oy0 * g.sh;  // (first is the band's first row's top tap, or 0)
        compute<In, Act>(g, params, rows, out, 1, nullptr);
    }

    // A gate per input channel taken into the weights (passes/gates.hpp: squeeze-and-excitation
    // that only this 1x1 convolution reads): the packed weights with input channel k's times
    // g[k], the bias as it is. out: packed_size_for<In> floats. share: one thread's panels.
    // (bf16: each weight times its gate rounded to bf16 again, the 1x1's tiles taking any rows.)
    // (int8: the input times the gate as the kernel quantizes each row, forward_rows_gated.)
    template <class In>
    static constexpr bool takes_input_gate = computes_rows<In> && (!runs_int8<In> || geometry<In>().c <= kernels::int8_gated_channels);
    template <class In> static constexpr bool gates_inputs = runs_int8<In>;
    template <class In>
    static void gate_weights(const float* packed, const float* g, float* out, kernels::Share share = {}) noexcept {
        static_assert(!runs_int8<In>, "typenet: an int8 1x1 convolution takes its gate into its inputs (forward_rows_gated)");
        if constexpr (runs_bf16<In>) kernels::scale_packed_pairs(kernels::conv_bf16_packing(geometry<In>()), packed, g, out, share);
        else kernels::scale_packed_inputs(geometry<In>().packing(), packed, g, out, share);
    }

    // Several threads on one sample (runtime/program.hpp, run_shared): the kernel takes a
    // share of its output pixels, in phases (0: the padded copy, 1: the products) with a
    // barrier between them. oh and ow: a cropped output (0: the whole map).
    template <class In>
    static constexpr bool shares = runs_int8<In>          ? geometry<In>().pointwise() && kernels::conv_int8_rows_alone(geometry<In>())
                                   : runs_bf16<In>        ? true
                                   : direct_depthwise<In> ? kernels::depthwise_shares(geometry<In>())
                                   : runs_winograd<In>    ? kernels::winograd_shares(geometry<In>(), winograd_tile<In>)
                                                          : kernels::conv2d_shares(geometry<In>());
    template <class In>
    static constexpr int share_phases =
        runs_bf16<In> ? (kernels::conv_bf16_by_tiles(geometry<In>()) ? 1 : 2)
        : !runs_winograd<In> && !direct_depthwise<In> && kernels::implicit_scratch(geometry<In>()) > 0 && !geometry<In>().pointwise() ? 2
                                                                                                                                  : 1;
    template <class In, class Act>
    static void forward_shared(const float* params, const float* in, float* out, float* scratch, const float* add, std::size_t ldo,
                               kernels::Share share, std::size_t oh = 0, std::size_t ow = 0) {
        compute<In, Act>(oh ? cropped<In>(oh, ow) : geometry<In>(), params, in, out, 1, scratch, add, ldo, share);
    }

    static std::string options_str() {
        using K = find_option_t<is_kernel, kernel<1>, Options...>;
        using D = find_option_t<is_dilation, dilation<1>, Options...>;
        using P = padding_rule<find_option_t<is_padding, padding_valid, Options...>>;
        std::string s = std::to_string(pair_of<K>::h) + "x" + std::to_string(pair_of<K>::w);
        if (pair_of<stride_option>::h != 1 || pair_of<stride_option>::w != 1) {
            s += ", ";
            s += pair_str("stride", pair_of<stride_option>::h, pair_of<stride_option>::w);
        }
        if (pair_of<D>::h != 1 || pair_of<D>::w != 1) {
            s += ", ";
            s += pair_str("dilation", pair_of<D>::h, pair_of<D>::w);
        }
        if (!P::name().empty()) {
            s += ", ";
            s += P::name();
        }
        if constexpr (!std::is_same_v<activation, linear>) {
            s += ", ";
            s += activation::name();
        }
        if constexpr (!bias) s += ", no_bias";
        if constexpr (int8 || int8_by_policy) s += ", int8_weights";
        if constexpr (bf16 || bf16_by_policy) s += ", bf16_weights";
        if constexpr (has_option<fp32_weights, Options...>) s += ", fp32_weights";
        if constexpr (has_option<winograd, Options...>) s += ", winograd";
        if constexpr (asked_tile != 0) s += asked_tile == 4 ? ", winograd_4x4" : ", winograd_2x2";
        if constexpr (asks_direct) s += ", direct";
        return s;
    }
    template <class Act = activation>
    static std::string kernel_name() { return kernel_name_on<Act, void>(); }
    // The kernel on input In (the int8 and bf16 policies leave a convolution over few or an odd
    // number of channels in fp32; the bf16 policy a Winograd one).
    template <class Act = activation, class In = void>
    static std::string kernel_name_on() {
        bool i8 = int8, b16 = bf16;
        if constexpr (!std::is_void_v<In>) i8 = runs_int8<In>, b16 = runs_bf16<In>;
        std::size_t tile = asks_winograd ? (asked_tile ? asked_tile : 4) : 0;
        if constexpr (!std::is_void_v<In>) tile = winograd_tile<In>;
        std::string s = Spec::depthwise ? "depthwise"
                        : i8            ? "conv_int8"
                        : b16           ? "conv_bf16"
                        : tile == 4     ? "conv_winograd"
                        : tile == 2     ? "conv_winograd2x2"
                                        : "conv";
        if constexpr ((int8_by_policy || bf16 || bf16_by_policy) && !std::is_void_v<In>)
            if (!i8 && !b16 && tile == 0) s = "conv (fp32: " + std::to_string(geometry<In>().c) + " input channels)";
        if constexpr (bf16_by_policy && !std::is_void_v<In>)
            if (tile != 0) s += " (fp32)";
        s += "+bias";
        if constexpr (!std::is_same_v<Act, linear>) {
            s += "+";
            s += Act::name();
        }
        return s;
    }
};
}  // namespace detail

template <std::size_t Filters, class... Options>
struct Conv2D : detail::ConvLayer<detail::conv_spec<Filters, detail::groups_of<detail::find_option_t<detail::is_groups, groups<1>, Options...>>::value>,
                                  Options...> {
    static_assert(Filters > 0, "typenet: Conv2D<0> has no filters");
    static std::string name() {
        constexpr std::size_t g = detail::groups_of<detail::find_option_t<detail::is_groups, groups<1>, Options...>>::value;
        return "Conv2D<" + std::to_string(Filters) + ", " + Conv2D::options_str() + (g > 1 ? ", groups<" + std::to_string(g) + ">" : "") + ">";
    }
};

template <class... Options>
struct DepthwiseConv2D
    : detail::ConvLayer<detail::depthwise_spec<detail::multiplier_of<detail::find_option_t<detail::is_depth_multiplier, depth_multiplier<1>, Options...>>::value>,
                        Options...> {
    static std::string name() { return "DepthwiseConv2D<" + DepthwiseConv2D::options_str() + ">"; }
};

}  // namespace typenet
