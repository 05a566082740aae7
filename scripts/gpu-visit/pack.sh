#!/usr/bin/env bash
# Packs what one visit to the GPU test machine needs into .gpu-visit/ (git-ignored), for the device tool to
# carry (carry: [".gpu-visit"]); that machine has an NVIDIA GPU and its Vulkan driver, but no Node, no npm
# and no network. Contents (about 35 MiB, the two binaries xz-compressed: the carried tree must stay under 64 MiB):
#   node.xz              this machine's Node binary, xz-compressed
#   bundle/scripts/bench-webgpu.mjs
#                        scripts/bench-webgpu.ts and all it imports, bundled by esbuild (tsx's own); two
#                        folders deep, as src/config/ is, so that it finds schemas/ as the sources do
#   node_modules/        webgpu (Dawn's index.js and its linux-x64 dawn.node.xz), and a two-line package that
#                        hands the bundled tfjs-backend-webgpu to src/backend/webgpu.ts (see entry.ts)
#   lib/                 the Vulkan loader and GL dispatch libraries, from Debian's packages
#   configs/, schemas/   the experiment whose model is timed, and the schema that validates it
#   run.sh               what runs there: scripts/gpu-visit/run.sh
#
#   bash scripts/gpu-visit/pack.sh        (after npm install; needs apt-get download and xz)
# Then, in one device call: bash .gpu-visit/run.sh --batches 64,256   with carry [".gpu-visit"]
set -euo pipefail
cd "$(dirname "$0")/../.."
KIT=.gpu-visit
# The GPU machine's userland has no Vulkan loader; these are the libraries it needs.
DEBS=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)

say() { printf 'gpu-visit pack: %s\n' "$*"; }
fail() { printf 'gpu-visit pack: error: %s\n' "$*" >&2; exit 1; }

[[ -f node_modules/webgpu/dist/linux-x64/dawn.node ]] || fail "node_modules/webgpu has no linux-x64 dawn.node: run npm install first"
command -v xz >/dev/null || fail "xz not found (apt-get install xz-utils)"
command -v apt-get >/dev/null || fail "apt-get not found: the Vulkan loader comes from Debian's packages"

rm -rf "$KIT"
mkdir -p "$KIT/lib" "$KIT/configs" "$KIT/schemas" "$KIT/node_modules/webgpu/dist/linux-x64" "$KIT/node_modules/@tensorflow/tfjs-backend-webgpu"

say "bundling scripts/bench-webgpu.ts"
node_modules/.bin/esbuild scripts/gpu-visit/entry.ts --bundle --platform=node --format=esm --target=node20 \
  --outfile="$KIT/bundle/scripts/bench-webgpu.mjs" --log-level=warning \
  --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --external:sharp \
  --banner:js="import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"

say "Dawn's Node module"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$KIT/node_modules/webgpu/"
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$KIT/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
version=$(node -p "require('./node_modules/@tensorflow/tfjs-backend-webgpu/package.json').version")
cat > "$KIT/node_modules/@tensorflow/tfjs-backend-webgpu/package.json" <<JSON
{ "name": "@tensorflow/tfjs-backend-webgpu", "version": "$version", "type": "module", "main": "index.js" }
JSON
cat > "$KIT/node_modules/@tensorflow/tfjs-backend-webgpu/index.js" <<'JS'
// The package as bundled into bench-webgpu.mjs (scripts/gpu-visit/entry.ts), with the bundle's tfjs-core.
export const { WebGPUBackend, webgpu_util } = globalThis.__dcganTfjsBackendWebgpu;
JS

say "Vulkan loader and GL dispatch libraries (${DEBS[*]})"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download "${DEBS[@]}" >/dev/null 2>&1) || { apt-get update -qq && (cd "$work" && apt-get download "${DEBS[@]}" >/dev/null); } || fail "apt-get download ${DEBS[*]} failed"
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
cp -a "$work"/root/usr/lib/x86_64-linux-gnu/*.so* "$KIT/lib/"

say "Node $(node -v) binary, xz-compressed"
xz -T0 -6 -c "$(command -v node)" > "$KIT/node.xz"

cp configs/pokemon.yaml "$KIT/configs/"
cp schemas/experiment.schema.json "$KIT/schemas/"
cp scripts/gpu-visit/run.sh "$KIT/run.sh"
say "done: $(du -sh "$KIT" | cut -f1) in $KIT"
