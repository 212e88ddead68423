#!/usr/bin/env bash
# Compile time and compiler peak memory, g++ -O2, of one translation unit that makes a model,
# loads its weights, runs it and prints its summary.
#   tools/compile_time.sh [MODEL...]     (default: seq:200 graph:200 resnet18 resnet50)
# MODEL is seq:N (a Sequential of N Dense layers), graph:N (the same chain as a functional
# graph), or a model of examples/zoo/ at 224x224: resnet18, resnet50, mobilenet_v2,
# mobilenet_v3_small, mobilenet_v3_large, efficientnet_b0, squeezenet1_1, shufflenet_v2_x1_0, vgg11.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
body='int main(int argc, char** argv) {
    auto net = tn::make<M>();
    if (argc > 1) tn::load_weights(net, argv[1], tn::from_pytorch);
    typename tn::Net<M>::input_type x{};
    auto y = net(x);
    std::cout << tn::summary<M>() << y(0) << "\n";
}'
for model in "${@:-seq:200 graph:200 resnet18 resnet50}"; do
  for m in $model; do
    src="$tmp/${m/:/_}.cpp"
    {
      echo '#include <typenet/typenet.hpp>'
      echo '#include <iostream>'
      case "$m" in
        seq:*|graph:*)
          n=${m#*:}
          echo 'namespace tn = typenet;'
          if [[ $m == seq:* ]]; then
            layers=""
            for ((i = 0; i < n; ++i)); do layers+=", tn::Named<\"d$i\", tn::Dense<$((32 + (i % 5) * 8)), tn::relu>>"; done
            echo "using M = tn::Sequential<tn::Input<64>$layers>;"
          else
            echo 'constexpr auto chain = [] {'
            echo '    auto x0 = tn::input<"x", 64>;'
            for ((i = 0; i < n; ++i)); do echo "    auto x$((i + 1)) = tn::dense<\"d$i\", $((32 + (i % 5) * 8)), tn::relu>(x$i);"; done
            echo "    return tn::model(tn::inputs(x0), tn::outputs(x$n));"
            echo '};'
            echo 'using M = decltype(chain());'
          fi ;;
        resnet18) echo '#include <zoo/resnet18.hpp>'; echo 'namespace tn = typenet;'; echo 'using M = zoo::ResNet18<224, 224>;' ;;
        resnet50) echo '#include <zoo/resnet50.hpp>'; echo 'namespace tn = typenet;'; echo 'using M = zoo::ResNet50<224, 224>;' ;;
        mobilenet_v2) echo '#include <zoo/mobilenet_v2.hpp>'; echo 'namespace tn = typenet;'; echo 'using M = zoo::MobileNetV2<224, 224>;' ;;
        mobilenet_v3_small) echo '#include <zoo/mobilenet_v3.hpp>'; echo 'namespace tn = typenet;'; echo 'using M = zoo::MobileNetV3Small<224, 224>;' ;;
        mobilenet_v3_large) echo '#include <zoo/mobilenet_v3.hpp>'; echo 'namespace tn = typenet;'; echo 'using M = zoo::MobileNetV3Large<224, 224>;' ;;
        efficientnet_b0) echo '#include <zoo/efficientnet_b0.hpp>'; echo 'namespace tn = typenet;'; echo 'using M = zoo::EfficientNetB0<224, 224>;' ;;
        squeezenet1_1) echo '#include <zoo/squeezenet1_1.hpp>'; echo 'namespace tn = typenet;'; echo 'using M = zoo::SqueezeNet1_1<224, 224>;' ;;
        shufflenet_v2_x1_0) echo '#include <zoo/shufflenet_v2.hpp>'; echo 'namespace tn = typenet;'; echo 'using M = zoo::ShuffleNetV2x1_0<224, 224>;' ;;
        vgg11) echo '#include <zoo/vgg11.hpp>'; echo 'namespace tn = typenet;'; echo 'using M = zoo::VGG11<224, 224>;' ;;
        *) echo "unknown model $m" >&2; exit 2 ;;
      esac
      echo "$body"
    } > "$src"
    /usr/bin/time -f "$m: %e s, %M KB peak" g++ -std=c++20 -O2 -march=native -Iinclude -I"$PWD/examples" -c "$src" -o "$tmp/m.o"
  done
done
