#!/usr/bin/env bash
# The header folders form a DAG, checked: a header may include headers of its own folder and
# of the folders below it, never of one above. The order, lowest first:
#   core     shapes, fixed strings, type lists, diagnostics, the Layer concepts (no xsimd/xtensor)
#   kernels  SIMD kernels and activation functions (no layer, model or I/O code)
#   ir       the model IR and the lowering of layers and blocks onto it
#   layers   one header per layer or block: its shape rule, options and kernel calls
#   passes   the compile-time passes over the IR
#   runtime  the program the passes produce, Tensor, HotSwap
#   model    the front ends (Sequential models, Graph), Net, fusion policies
#   report   summary, fusion plan, DOT: formatting of the passes' records
#   io       weight files, and loading them into a Net
# Top-level headers (core.hpp, typenet.hpp) are umbrellas and may include anything.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)/include/typenet"
order=(core kernels ir layers passes runtime model report io)
rank() { local i; for i in "${!order[@]}"; do [[ ${order[$i]} == "$1" ]] && { echo "$i"; return; }; done; echo -1; }
bad=0
for dir in "$root"/*/; do
  folder=$(basename "$dir")
  r=$(rank "$folder")
  if ((r < 0)); then echo "include/typenet/$folder/: a folder not in the layering order"; bad=1; continue; fi
  for h in "$dir"*.hpp; do
    while IFS= read -r inc; do
      target=$(realpath -m "$dir/$inc")
      [[ $target == "$root"/* ]] || { echo "${h#"$root"/}: includes $inc outside include/typenet"; bad=1; continue; }
      rel=${target#"$root"/}
      [[ $rel == */* ]] || { echo "${h#"$root"/}: includes the umbrella $rel"; bad=1; continue; }
      tr=$(rank "${rel%%/*}")
      if ((tr > r)); then
        echo "typenet/${h#"$root"/} includes typenet/$rel: $folder/ may not include from ${rel%%/*}/, which is above it"
        bad=1
      fi
    done < <(sed -n 's/^#include "\(.*\)"/\1/p' "$h")
  done
done
((bad == 0)) && echo "header layering: ${order[*]} (each folder includes only itself and those before it)"
exit "$bad"
