#!/usr/bin/env bash
# The checks that need a CUDA GPU, as one script (run on a borrowed GPU machine):
#   1. the package's CUDA tests and the optax comparison (tests/test_cuda.py,
#      tests/test_optax_reference.py) plus the CPU equivalence suite on that machine;
#   2. the optimizer step benchmark on the GPU;
#   3. the CIFARNET grid of chapter 6 on full Fashion-MNIST (the offline stand-in for
#      CIFAR-10), with the same command line as on a CPU.
# Usage: OUT=folder COMMIT=sha DATA=folder-with-fashion-mnist bash benchmarks/gpu_checks.sh
set -uo pipefail
: "${OUT:?set OUT to a folder for logs and results}" "${DATA:?set DATA to the Fashion-MNIST folder}"
COMMIT=${COMMIT:-unknown}
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 ADAPTIVE_METHODS_DATA=$DATA
mkdir -p "$OUT"
{ nvidia-smi -L; python3 -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__)"; } 2>&1 | tee "$OUT/device.txt"

python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py tests/test_optax_reference.py \
    tests/test_equivalence.py tests/test_optimizer_api.py 2>&1 | tail -25 | tee "$OUT/gpu_tests.txt"

python3 benchmarks/bench_optimizer_step.py --device cuda --steps 300 2>&1 | tee "$OUT/bench_cuda.txt"

python3 -m adaptive_methods.experiments grid --preset fashion-cifarnet --out results/fashion-mnist/cifarnet \
    --device cuda --workers 12 --time-budget "${GRID_BUDGET:-300}" --offline --no-progress 2>&1 | tail -30 | tee "$OUT/grid.txt"
# the device gets a copy of the tree without .git: record the commit the copy was made from
python3 - "$COMMIT" <<'PY'
import json, pathlib, sys
for path in pathlib.Path("results/fashion-mnist/cifarnet").glob("*.json"):
    data = json.loads(path.read_text())
    git = data.get("git") or {}
    if isinstance(git, dict) and git.get("commit") in (None, "uncommitted"):
        git.update(commit=sys.argv[1], note="tree copied to the GPU machine without .git; commit given by gpu_checks.sh")
        data["git"] = git
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
PY
tar czf "$OUT/cifarnet_results.tgz" results/fashion-mnist/cifarnet
ls results/fashion-mnist/cifarnet | wc -l
