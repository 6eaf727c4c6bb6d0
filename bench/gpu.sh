#!/usr/bin/env bash
# bench/gpu.sh: the `npm run bench` table (bench/suite.ts) for BERT-base sizes (hidden 768, 12 layers,
# 12 heads, intermediate 3072, from scratch: no pretrained download), token classification, seq 128,
# batch 32, on ONNX Runtime CUDA beside PyTorch CUDA.
#
#   bash bench/gpu.sh [--rounds 3] [--k 8]        (extra arguments go to bench/suite.ts)
#
# Environment:
#   PYTHON     a Python whose torch has CUDA (default /usr/bin/python3; Debian's torch is CPU-only)
#   ORT_CUDA   'project' to use the project's own onnxruntime-node with a CUDA provider already next
#              to its binding (the usual install route); default 'asus4' (below)
#   KEEP=1     keep the temporary prefix
#
# The CUDA provider. onnxruntime-node's install script normally downloads the CUDA provider
# libraries; this project skips that download (ONNXRUNTIME_NODE_INSTALL=skip, README), and where it is unreachable the npm package
# com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 ships ONNX Runtime 1.29.0's provider libraries
# (libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so), built against CUDA 13.
# Provider libraries only load into the same ONNX Runtime version, and the project pins
# onnxruntime-node 1.30.0, so this script:
#   1. installs onnxruntime-node@1.29.0 and that package into a temporary prefix (npm registry only,
#      --ignore-scripts so that nothing else is downloaded);
#   2. copies the provider .so files next to that onnxruntime-node's native binding
#      (bin/napi-v6/linux/x64/), where the session module looks for them;
#   3. checks with ldd that the CUDA 13 / cuDNN libraries they need are on the loader path (it never
#      downloads CUDA: install the CUDA 13 runtime, cuBLAS, cuFFT, cuRAND and cuDNN 9 yourself);
#   4. bundles bench/suite.ts with esbuild into the prefix, so that `onnxruntime-node` resolves to
#      the 1.29.0 copy, and runs it with device cuda. Each row's worker reports the device it
#      actually used; when ORT fell back to the CPU the session module's reason is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

fail() { echo "bench/gpu.sh: $*" >&2; exit "${2:-2}"; }

# 0. Is there a GPU at all? Fail fast and say so.
command -v nvidia-smi >/dev/null 2>&1 || fail "no NVIDIA GPU: nvidia-smi not found"
nvidia-smi -L >/dev/null 2>&1 || fail "no NVIDIA GPU: nvidia-smi -L failed ($(nvidia-smi -L 2>&1 | head -1))"
GPU=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1)
echo "GPU: $GPU"

PYTHON=${PYTHON:-/usr/bin/python3}
"$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null ||
  fail "PyTorch in $PYTHON has no CUDA (torch.cuda.is_available() is False); set PYTHON to a CUDA build" 4

ORT_VERSION=1.29.0
GPU_PKG=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
PREFIX=$(mktemp -d -t finetune-gpu-XXXXXX)
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$PREFIX"' EXIT

if [ "${ORT_CUDA:-asus4}" = project ]; then
  ORT_DIR=$ROOT/node_modules/onnxruntime-node
  echo "using the project's onnxruntime-node $(node -p "require('$ORT_DIR/package.json').version")"
else
  # 1. onnxruntime-node 1.29.0 + the provider package, registry only, no install scripts.
  echo "installing onnxruntime-node@$ORT_VERSION and $GPU_PKG into $PREFIX"
  (cd "$PREFIX" && echo '{"private":true}' > package.json &&
    npm install --no-audit --no-fund --ignore-scripts --no-package-lock "onnxruntime-node@$ORT_VERSION" "$GPU_PKG" >/dev/null) ||
    fail "npm install of onnxruntime-node@$ORT_VERSION / $GPU_PKG failed" 5
  ORT_DIR=$PREFIX/node_modules/onnxruntime-node
  # 2. Provider libraries next to the binding.
  BIN=$ORT_DIR/bin/napi-v6/linux/x64
  mapfile -t LIBS < <(find "$PREFIX/node_modules" -path "$ORT_DIR" -prune -o -name 'libonnxruntime_providers_*.so*' -print)
  [ "${#LIBS[@]}" -gt 0 ] || fail "$GPU_PKG holds no libonnxruntime_providers_*.so" 5
  for l in "${LIBS[@]}"; do cp -v "$l" "$BIN/"; done
fi
BIN=$ORT_DIR/bin/napi-v6/linux/x64
[ -f "$BIN/libonnxruntime_providers_cuda.so" ] || fail "no libonnxruntime_providers_cuda.so in $BIN" 5

# 3. The CUDA libraries the provider links against must be found (never downloaded here).
MISSING=$(LD_LIBRARY_PATH="$BIN:${LD_LIBRARY_PATH:-}" ldd "$BIN/libonnxruntime_providers_cuda.so" | awk '/not found/ {print $1}' | tr '\n' ' ')
[ -z "$MISSING" ] || fail "the CUDA provider needs libraries that are not on the loader path: $MISSING(install CUDA 13 + cuDNN 9, or add them to LD_LIBRARY_PATH)" 6

# 4. Bundle the suite so that `onnxruntime-node` resolves to $ORT_DIR, then run it on cuda.
mkdir -p "$PREFIX/run" && ln -sfn "$(dirname "$ORT_DIR")" "$PREFIX/run/node_modules"
npx esbuild bench/suite.ts --bundle --platform=node --format=cjs --target=node20 --external:onnxruntime-node --external:esbuild \
  --outfile="$PREFIX/run/suite.cjs" --log-level=warning
export FINETUNE_BENCH_MODEL=encoder-base FINETUNE_BENCH_DEVICE=cuda FINETUNE_BENCH_ROOT=$ROOT
export FINETUNE_BENCH_SELF=$PREFIX/run/suite.cjs FINETUNE_BENCH_PYTHON=$PYTHON FINETUNE_BENCH_GPU="$GPU"
export LD_LIBRARY_PATH="$BIN:${LD_LIBRARY_PATH:-}"
echo "command: FINETUNE_BENCH_MODEL=encoder-base FINETUNE_BENCH_DEVICE=cuda node suite.cjs --only train-full,train-head,train-lora,eval,eval-exported $*"
node "$PREFIX/run/suite.cjs" --only train-full,train-head,train-lora,eval,eval-exported --quiet-wait 5 "$@"
# Mixed precision (training.mixed_precision): full fine-tuning in fp16 (loss scaling) and bf16,
# beside PyTorch's torch.autocast (+ GradScaler for fp16).
for p in fp16 bf16; do
  echo "command: FINETUNE_BENCH_PRECISION=$p ... node suite.cjs --only train-full $*"
  FINETUNE_BENCH_PRECISION=$p node "$PREFIX/run/suite.cjs" --only train-full --quiet-wait 5 "$@"
done
