#!/usr/bin/env bash
# The CIFARNET grids on one GPU, within a deadline (10 minutes unless DEADLINE says otherwise):
#   fashion-cifarnet-gpu  48 runs -> results/fashion-mnist/cifarnet-gpu   (always)
#   cifar10-cifarnet-gpu  24 runs -> results/cifar10/cifarnet-gpu         (where CIFAR-10 loads:
#                         its files under ADAPTIVE_METHODS_DATA, or, with internet and without
#                         --offline, the archive downloaded and checked against its SHA-256)
#
# Usage: bash scripts/cifarnet_gpu.sh [more grid options, e.g. --offline --data-root DIR]
# Environment: DEADLINE (s, 600), RUN_ALLOWANCE (s, 90), MARGIN (s, 30), WORKERS (8),
#   DEVICE (cuda), PYTHON (python3), RESULTS (the results folder, results), COMMIT (the
#   commit a copy of the tree without .git was made from: recorded in the result files
#   that lack one).
# Exit status: 0 every run done; 3 the deadline stopped the grids first (run the same
#   command again: it skips the runs done and resumes from checkpoints); 1 a run failed.
#
# How the deadline holds. Each grid starts no run after its time budget, DEADLINE minus
# RUN_ALLOWANCE (the longest a run takes once started) minus MARGIN (start-up, the wait for
# the last runs, writing results) minus the seconds already spent; runs in flight finish.
# A run still going at DEADLINE - MARGIN/2 is killed (its checkpoint is kept for the rerun).
#
# The estimate the grids are sized from. A CIFARNET step on a 128-image batch of 28x28
# images costs about 25 GFLOP (forward 64 MFLOP an image: the 6x6 convolution of 64 into 64
# channels at 14x14 is 58 of them; backward twice that); on one core of the 2-core CPU the
# book is built on it takes 1.06 s (23 GFLOP/s). Assumed here: the GPU does 125 such steps
# a second for all workers together (8 ms a step, 3 TFLOP/s: 5% of an H200's FP32 peak,
# since batches of 128 small images use a GPU badly, and 130 times that CPU core).
# Fashion-MNIST: 48 runs x (782 steps x 8 ms + 3 evaluations of 25,000 images, 1.6 s)
# = 48 x 7.9 s = 380 s of GPU time, under the 480 s budget; a run, sharing the GPU with 8
# workers, takes 8 x 7.9 s = 63 s plus 15 s of start-up, under RUN_ALLOWANCE. CIFAR-10's
# steps cost 1.5 times as much: 24 runs x 652 steps = 190 s more, so with CIFAR-10 present
# the budget may stop the grids before Fashion-MNIST's second seed (the last in its order).
set -uo pipefail
cd "$(dirname "$0")/.."
DEADLINE=${DEADLINE:-600} RUN_ALLOWANCE=${RUN_ALLOWANCE:-90} MARGIN=${MARGIN:-30} WORKERS=${WORKERS:-8}
DEVICE=${DEVICE:-cuda} PYTHON=${PYTHON:-python3} RESULTS=${RESULTS:-results} COMMIT=${COMMIT:-}
export PYTHONUNBUFFERED=1
for name in DEADLINE RUN_ALLOWANCE MARGIN; do
  [[ ${!name} =~ ^[0-9]+$ ]] || { echo "error: $name must be a whole number of seconds, got '${!name}'" >&2; exit 2; }
done
[[ $WORKERS =~ ^[1-9][0-9]*$ ]] || { echo "error: WORKERS must be a whole number >= 1, got '$WORKERS'" >&2; exit 2; }

grids=("fashion-cifarnet-gpu fashion-mnist/cifarnet-gpu")
if "$PYTHON" - "$@" <<'PY'
import sys
from adaptive_methods.experiments.cli import build_parser
from adaptive_methods.experiments.data import DatasetFormatError, DatasetUnavailableError, load_train_test
args = build_parser().parse_args(["grid", "--preset", "cifar10-cifarnet-gpu", *sys.argv[1:]])
try:
    load_train_test("cifar10", root=args.data_root, download=False if args.offline else None, fallback=False,
                    accept_unpinned=args.accept_unpinned_data or None)
except (DatasetUnavailableError, DatasetFormatError) as exc:
    print(f"CIFAR-10: not run ({type(exc).__name__}: {exc})")
    sys.exit(1)
PY
then
  grids+=("cifar10-cifarnet-gpu cifar10/cifarnet-gpu")
fi
workers=$(( WORKERS / ${#grids[@]} )); (( workers >= 1 )) || workers=1
budget=$(( DEADLINE - RUN_ALLOWANCE - MARGIN - SECONDS ))
if (( budget <= 0 )); then
  echo "error: DEADLINE ($DEADLINE s) leaves no time to start a run after RUN_ALLOWANCE ($RUN_ALLOWANCE s)," \
       "MARGIN ($MARGIN s) and the $SECONDS s already spent; raise DEADLINE" >&2
  exit 2
fi
hard=$(( DEADLINE - MARGIN / 2 - SECONDS ))
echo "${#grids[@]} grid(s), $workers worker(s) each on $DEVICE; no run starts after $budget s; all stop by $hard s"

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
pids=()
for grid in "${grids[@]}"; do
  read -r preset folder <<<"$grid"
  timeout --signal=TERM --kill-after=5 "$hard" "$PYTHON" -m adaptive_methods.experiments grid --preset "$preset" \
      --out "$RESULTS/$folder" --device "$DEVICE" --workers "$workers" --threads 1 --time-budget "$budget" \
      --nondeterministic "$@" 2>&1 | tee "$logs/$preset.log" | sed "s/^/[$preset] /" &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do
  wait "$pid"; code=$?
  case $code in 0) ;; 124|137) echo "a grid was stopped at the deadline" ;; *) failed=1 ;; esac
done

folders=()
for grid in "${grids[@]}"; do read -r _ folder <<<"$grid"; folders+=("$RESULTS/$folder"); done
# The result files themselves say what ran; a tree copied without .git gets its commit here.
"$PYTHON" - "$COMMIT" "${folders[@]}" <<'PY'
import json, pathlib, sys
commit, folders = sys.argv[1], sys.argv[2:]
for folder in folders:
    for path in sorted(pathlib.Path(folder).glob("*.json")):
        data = json.loads(path.read_text())
        git = data.get("git") or {}
        if commit and git.get("commit") in (None, "uncommitted"):
            git.update(commit=commit, note="tree copied without .git; commit given to scripts/cifarnet_gpu.sh")
            data["git"] = git
            path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
PY
# each grid's first line says how many runs it has, its last how many are still to run
# (a grid stopped at the deadline has no last line)
remaining=0
for grid in "${grids[@]}"; do
  read -r preset folder <<<"$grid"
  total=$(grep -oP "^grid $preset: \K[0-9]+(?= runs, )" "$logs/$preset.log" | head -1)
  left=$(grep -oP "^grid $preset: .*, \K[0-9]+(?= still to run)" "$logs/$preset.log" | tail -1)
  if [[ -z $left ]]; then
    echo "$preset: stopped before it could count its runs -> $RESULTS/$folder"
    remaining=$(( remaining + 1 ))
  else
    echo "$preset: $(( ${total:-0} - left )) of ${total:-?} runs done -> $RESULTS/$folder"
    remaining=$(( remaining + left ))
  fi
done
echo "wall time $SECONDS s (deadline $DEADLINE s)"
(( failed == 0 )) || exit 1
(( remaining == 0 )) || { echo "runs are left: run the same command again to finish them"; exit 3; }
exit 0
