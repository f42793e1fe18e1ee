#!/usr/bin/env bash
# The checks that need a CUDA GPU, as one script (run on a borrowed GPU machine):
#   1. the package's CUDA tests and the optax comparison (tests/test_cuda.py,
#      tests/test_optax_reference.py) plus the CPU equivalence suite on that machine;
#   2. the optimizer step benchmark on the GPU;
#   3. scripts/cifarnet_gpu.sh: the CIFARNET grids on full Fashion-MNIST (the offline
#      stand-in for CIFAR-10) and on CIFAR-10 where its files are in DATA, within 10 minutes.
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

# the 10-minute CIFARNET grids (the script records COMMIT in the result files, since the
# device gets a copy of the tree without .git)
COMMIT="${COMMIT/#unknown/}" PYTHON=python3 bash scripts/cifarnet_gpu.sh --offline 2>&1 | tail -40 | tee "$OUT/grid.txt"
tar czf "$OUT/cifarnet_results.tgz" $(ls -d results/fashion-mnist/cifarnet-gpu results/cifar10/cifarnet-gpu 2>/dev/null)
