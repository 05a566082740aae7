#!/usr/bin/env bash
# Runs on the GPU test machine from the kit that scripts/gpu-visit/pack.sh made (.gpu-visit/): unpacks Node and Dawn,
# points the Vulkan loader at the NVIDIA driver, and runs the webgpu benchmark on the lesson's model. Its JSON
# lines (adapter; per batch a step line and a per-kernel line) go to stdout and to $OUT/bench-webgpu.jsonl.
#   bash .gpu-visit/run.sh [--batches 64,256] [--steps 10] [--warmup 3] [--backends webgpu]
set -euo pipefail
cd "$(dirname "$0")"
# The two binaries travel xz-compressed; Python's lzma stands in where xz is missing.
unpack() {
  [[ -f $1 ]] && return
  if command -v xz >/dev/null; then xz -dc "$1.xz" > "$1"; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1] + ".xz"), open(sys.argv[1], "wb"))' "$1"; fi
}
unpack node && chmod +x node
unpack node_modules/webgpu/dist/linux-x64/dawn.node
export LD_LIBRARY_PATH="$PWD/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The driver's ICD file on that machine; elsewhere keep what the loader finds by itself.
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [[ -z "${VK_DRIVER_FILES:-}" && -f $nvidia_icd ]]; then export VK_DRIVER_FILES=$nvidia_icd; fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
./node --version
./node bundle/scripts/bench-webgpu.mjs --config configs/pokemon.yaml "$@" | tee "${OUT:-.}/bench-webgpu.jsonl"
