#!/usr/bin/env bash
# The one check to run on a machine with a GPU (NVIDIA or another with a Vulkan driver), offline.
# Needs only this checkout with its node_modules (npm ci done) and the GPU driver: Dawn (npm `webgpu`)
# uses the driver's Vulkan ICD; tfjs-node-gpu is used only if installed (GPU_CHECK_NATIVE=<folder>).
#
#   bash scripts/gpu-check.sh [--software] [--out <dir>] [--no-bench]
#
# Writes <dir>/gpu-check.json (everything) and <dir>/gpu-check.txt (a short summary), default
# out/gpu-check/:
#   1. runtime.info() of every backend (auto, tensorflow, webgpu, wasm, cpu), each in its own process;
#   2. the runtime and model benchmarks (bench/runtime.bench.ts on every backend found,
#      bench/model.bench.ts on webgpu, tensorflow and wasm where found), into <dir>/bench.json;
#   3. the webgpu test suite (test/webgpu) on the adapter Dawn picks.
# Without --software a software adapter (lavapipe, SwiftShader) fails step 3: on a GPU machine that
# means Dawn did not find the GPU's Vulkan driver. --software allows it (a machine without a GPU).
# Exit status: 0 when every step passed.
set -uo pipefail
cd "$(dirname "$0")/.."

mode=hardware
out=out/gpu-check
bench=1
while [ $# -gt 0 ]; do
  case "$1" in
    --software) mode=software ;;
    --out) out="$2"; shift ;;
    --no-bench) bench=0 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ ! -d node_modules/webgpu ] || [ ! -d node_modules/tsx ]; then
  echo "gpu-check: node_modules is incomplete (no webgpu or tsx); run npm ci in the checkout first" >&2
  exit 2
fi
mkdir -p "$out"
rm -f "$out"/info-*.json "$out"/bench.json "$out"/webgpu-suite.tap
out=$(cd "$out" && pwd)
export AFFORDANCE_LAB_WEBGPU_ALLOW_SOFTWARE=1   # for the forced webgpu probes; auto ignores it
unset AFFORDANCE_LAB_BACKEND
tsx=(node --import tsx)

gpu=''
if command -v nvidia-smi >/dev/null 2>&1; then
  gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
fi
vulkan_icds=$(ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | grep '\.json$' | tr '\n' ' ')
node -e '
  const [gpu, icds, mode] = process.argv.slice(1);
  const os = require("node:os");
  console.log(JSON.stringify({ gpu, vulkanIcds: icds.trim(), node: process.version, os: `${os.type()} ${os.release()} ${os.arch()}`, cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) }));
' "$gpu" "$vulkan_icds" "$mode" > "$out/env.json"

declare -A rc
echo "== 1. runtime info per backend"
for b in auto tensorflow webgpu wasm cpu; do
  timeout 300 "${tsx[@]}" scripts/gpu-check.ts info "$b" > "$out/info-$b.json" 2> "$out/info-$b.log"
  rc[info_$b]=$?
  head -c 400 "$out/info-$b.json"; echo
done

if [ "$bench" = 1 ]; then
  echo "== 2. benchmarks"
  export AFFORDANCE_LAB_BENCH_RESULTS="$out/bench.json"
  timeout 3600 "${tsx[@]}" bench/runtime.bench.ts
  rc[bench_runtime]=$?
  for b in webgpu tensorflow wasm; do
    if grep -q '"error"' "$out/info-$b.json"; then continue; fi
    # model.bench.ts writes model.* keys; keep one set per backend.
    AFFORDANCE_LAB_BACKEND=$b timeout 3600 "${tsx[@]}" bench/model.bench.ts
    rc[bench_model_$b]=$?
    node -e '
      const fs = require("node:fs"); const [f, b] = process.argv.slice(1);
      const r = JSON.parse(fs.readFileSync(f, "utf8"));
      for (const k of Object.keys(r)) if (/^(model|metrics)\.[a-z0-9_]+$/.test(k)) { r[k.replace(/^(model|metrics)\./, `$1.${b}.`)] = r[k]; delete r[k]; }
      fs.writeFileSync(f, JSON.stringify(r, null, 2) + "\n");
    ' "$out/bench.json" "$b"
  done
  unset AFFORDANCE_LAB_BENCH_RESULTS
fi

echo "== 3. webgpu test suite"
if [ ! -f dist/cli.js ]; then npm run build >/dev/null; fi
if [ "$mode" = hardware ]; then export AFFORDANCE_LAB_WEBGPU_EXPECT_HARDWARE=1; fi
timeout 3600 node --import tsx --test --test-concurrency=1 --test-reporter=tap test/webgpu/*.test.ts > "$out/webgpu-suite.tap" 2> "$out/webgpu-suite.log"
rc[webgpu_suite]=$?

{
  printf '{'
  sep=''
  for k in "${!rc[@]}"; do printf '%s"%s": %s' "$sep" "$k" "${rc[$k]}"; sep=', '; done
  printf '}\n'
} > "$out/steps.json"

echo "== summary ($out/gpu-check.txt, $out/gpu-check.json)"
"${tsx[@]}" scripts/gpu-check.ts report "$out" "$mode"

status=0
for k in "${!rc[@]}"; do
  case "$k" in info_*) ;; *) [ "${rc[$k]}" = 0 ] || status=1 ;; esac
done
# A backend that cannot load is reported, not an error; a probe that crashed is.
for b in auto tensorflow webgpu wasm cpu; do [ "${rc[info_$b]}" = 0 ] || status=1; done
exit $status
