#!/usr/bin/env bash
# The exporter, run on examples/pytorch/model.py, must print exactly the type that
# examples/pytorch_import.cpp declares, and write the same weights. Skipped (77) without torch.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "no torch for /usr/bin/python3: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$root/tools/export_pytorch.py" "$root/examples/pytorch/model.py:build" --input 1,28,28 \
    --out "$tmp/model.safetensors" --name Classifier > "$tmp/type.txt"
sed -n '/^using Classifier = /,/>;$/p' "$root/examples/pytorch_import.cpp" > "$tmp/expected.txt"
diff -u "$tmp/expected.txt" "$tmp/type.txt"
cmp "$tmp/model.safetensors" "$root/examples/pytorch/model.safetensors"
echo "exporter output matches the example"
