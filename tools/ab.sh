#!/usr/bin/env bash
# Whether the work tree is faster or slower than revision REV, to within a percent on a noisy
# machine: bench/ab_side.cpp's models built against each tree into a shared object of its own,
# both loaded into one program (bench/ab_main.cpp) that alternates them call for call on one
# core. The program runs PAIRS times in each loading order (the first object loaded runs a few
# percent slower or faster on a VM for reasons of placement alone); the effect is the geometric
# mean of the two orders' medians, work tree / REV (below 1: the work tree is faster).
#   tools/ab.sh REV [SET] [PAIRS] [ROUNDS]
#   SET: small (MLP, Keras CNN, ResNet-20; the default), zoo (EfficientNet-B0, MobileNetV2,
#        MobileNetV3-Large, ShuffleNetV2, SqueezeNet at 224x224), big (ResNet-18, MobileNetV2,
#        MobileNetV3-Large, EfficientNet-B0 at batch 8, Dense layers at a few rows) or threads
#        (EfficientNet-B0, MobileNetV2, MobileNetV3-Large, ResNet-18, ResNet-20: one sample on two threads,
#        cores 0 and 1)
# e.g. tools/ab.sh HEAD zoo       (the uncommitted change against the last commit)
# A null check: tools/ab.sh HEAD on a clean tree reads 1.000 within its spread.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=$1 set=${2:-small} pairs=${3:-2} rounds=${4:-31}
cores=1
case $set in small) n=1 ;; zoo) n=2 ;; big) n=3 ;; threads) n=4 cores=0,1 ;; *) echo "ab.sh: SET is small, zoo, big or threads" >&2; exit 2 ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git worktree add -q --detach "$tmp/rev" "$rev"
trap 'git worktree remove --force "$tmp/rev"; rm -rf "$tmp"' EXIT
flags=(-std=c++20 -O3 -DNDEBUG -march=native -fPIC -shared -fvisibility=hidden -fvisibility-inlines-hidden -Wl,-Bsymbolic -DAB_SET=$n)
g++ "${flags[@]}" -I"$tmp/rev/include" -I"$tmp/rev/examples" bench/ab_side.cpp -o "$tmp/rev.so" &
g++ "${flags[@]}" -Iinclude -Iexamples bench/ab_side.cpp -o "$tmp/work.so"
wait
g++ -std=c++20 -O2 bench/ab_main.cpp -o "$tmp/ab_main" -ldl
for ((p = 0; p < pairs; ++p)); do
  taskset -c "$cores" "$tmp/ab_main" "$tmp/work.so" "$tmp/rev.so" "$rounds" > "$tmp/wr$p"
  taskset -c "$cores" "$tmp/ab_main" "$tmp/rev.so" "$tmp/work.so" "$rounds" > "$tmp/rw$p"
done
python3 - "$tmp" "$pairs" <<'PY'
import math, sys
tmp, pairs = sys.argv[1], int(sys.argv[2])
def ratios(name):  # model -> (a/b medians, a times, b times)
    d = {}
    for line in open(name):
        f = line.split()
        d[f[0]] = (float(f[8]), float(f[2]), float(f[5]))
    return d
for p in range(pairs):
    wr, rw = ratios(f"{tmp}/wr{p}"), ratios(f"{tmp}/rw{p}")
    for m in wr:
        first, second = wr[m][0], 1 / rw[m][0]  # both as work / REV
        print(f"{m:20s} work {wr[m][1]:10.2f} us  REV {wr[m][2]:10.2f} us   work/REV: work loaded first {first:.3f},"
              f" REV first {second:.3f}, both {math.sqrt(first * second):.3f}")
PY
