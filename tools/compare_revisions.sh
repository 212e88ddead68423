#!/usr/bin/env bash
# Whether a change made anything slower: bench/engine_compare.cpp (MLP at batch 1 and 256,
# the Keras tutorial CNN at 1 and 64, ResNet-20 at 1) built against REV's headers and against
# the work tree's, run alternately ROUNDS times on one core; prints medians and their ratio.
#   tools/compare_revisions.sh REV [ROUNDS]     e.g. tools/compare_revisions.sh b0463b0 6
set -euo pipefail
cd "$(dirname "$0")/.."
rev=$1 rounds=${2:-6}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git worktree add -q --detach "$tmp/before" "$rev"
trap 'git worktree remove --force "$tmp/before"; rm -rf "$tmp"' EXIT
flags=(-std=c++20 -O3 -DNDEBUG -march=native)
g++ "${flags[@]}" -I"$tmp/before/include" -I"$tmp/before/examples" bench/engine_compare.cpp -o "$tmp/before.bin" &
g++ "${flags[@]}" -Iinclude -Iexamples bench/engine_compare.cpp -o "$tmp/after.bin"
wait
for ((r = 0; r < rounds; ++r)); do
  taskset -c 1 "$tmp/after.bin" > "$tmp/a$r"
  taskset -c 1 "$tmp/before.bin" > "$tmp/b$r"
done
python3 - "$tmp" "$rounds" <<'PY'
import statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
def load(prefix):
    d = {}
    for r in range(rounds):
        for line in open(f"{tmp}/{prefix}{r}"):
            k, v = line.split()
            d.setdefault(k, []).append(float(v))
    return d
b, a = load("b"), load("a")
for k in b:
    mb, ma = statistics.median(b[k]), statistics.median(a[k])
    print(f"{k:12s} before {mb:12.1f} ns   after {ma:12.1f} ns   after/before {ma / mb:.3f}")
PY
