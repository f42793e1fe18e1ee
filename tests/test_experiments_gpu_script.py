"""scripts/cifarnet_gpu.sh (issue 18): the CIFARNET grids on one GPU within a deadline,
run here on the CPU at a tiny size, and the estimate its grids are sized from, pinned to the
presets."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from adaptive_methods.experiments.grid import PRESETS, expand

from .test_experiments_data import tiny_cifar_dir
from .test_experiments_training import REPO, data_root, keep_threads  # noqa: F401

SCRIPT = REPO / "scripts" / "cifarnet_gpu.sh"
TINY = ["--seeds", "0", "--lrs", "1e-3", "--beta2s", "0.999", "--bias-correction", "on", "--optimizers", "adam",
        "--max-steps", "2", "--offline", "--accept-unpinned-data"]


def run_script(tmp_path, *args, **env):
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "DEVICE": "cpu", "WORKERS": "2", "PYTHON": sys.executable,
                               "RESULTS": str(tmp_path / "results"), **env})


def test_the_script_runs_both_grids_and_writes_result_files_with_provenance(data_root, tmp_path):
    tiny_cifar_dir(data_root / "cifar10" / "cifar-10-batches-py")
    done = run_script(tmp_path, *TINY, "--data-root", str(data_root), "--checkpoint-dir", str(tmp_path / "ck"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 grid(s), 1 worker(s) each on cpu" in done.stdout
    for preset, folder, name in (("fashion-cifarnet-gpu", "fashion-mnist/cifarnet-gpu", "Fashion-MNIST"),
                                 ("cifar10-cifarnet-gpu", "cifar10/cifarnet-gpu", "CIFAR-10")):
        assert f"{preset}: 1 of 1 runs done -> {tmp_path / 'results' / folder}" in done.stdout
        (path,) = (tmp_path / "results" / folder).glob("*.json")
        result = json.loads(path.read_text())
        assert result["config"]["model"] == "cifarnet" and result["dataset"]["train"]["name"] == name
        assert result["experiment"] == preset and result["steps"]["done"] == 2
        assert result["config"]["deterministic"] is False and result["identity"]["threads"] == 1
        assert result["git"]["commit"] and "--time-budget" in result["command"]
    assert "wall time" in done.stdout


def test_without_cifar10_the_script_says_so_and_runs_fashion_mnist_alone(data_root, tmp_path):
    done = run_script(tmp_path, *TINY, "--data-root", str(data_root), "--checkpoint-dir", str(tmp_path / "ck"),
                      DEADLINE="100", RUN_ALLOWANCE="60", MARGIN="60")
    assert done.returncode == 2
    assert "CIFAR-10: not run (DatasetUnavailableError" in done.stdout
    assert "error: DEADLINE (100 s) leaves no time to start a run after RUN_ALLOWANCE (60 s), MARGIN (60 s)" \
        in done.stderr


@pytest.mark.parametrize("env, message", [
    (dict(DEADLINE="ten minutes"), "error: DEADLINE must be a whole number of seconds, got 'ten minutes'"),
    (dict(WORKERS="0"), "error: WORKERS must be a whole number >= 1, got '0'"),
])
def test_a_setting_that_is_not_a_whole_number_is_refused(tmp_path, env, message):
    done = run_script(tmp_path, **env)
    assert done.returncode == 2 and message in done.stderr


def _script_setting(name: str) -> int:
    for line in SCRIPT.read_text().splitlines():
        for part in line.split():
            if part.startswith(f"{name}=${{{name}:-"):
                return int(part.split(":-", 1)[1].rstrip("}"))
    raise AssertionError(f"{name} not set in {SCRIPT}")


def test_the_grids_fit_the_deadline_at_the_scripts_conservative_estimate():
    """The numbers of the script's header, recomputed from the presets: 8 ms a training step
    and 3 TFLOP/s for evaluation (64 MFLOP an image) on the whole GPU."""
    step_s, eval_image_s = 0.008, 64e6 / 3e12
    deadline, allowance, margin, workers = (_script_setting(n) for n in ("DEADLINE", "RUN_ALLOWANCE", "MARGIN",
                                                                          "WORKERS"))
    budget = deadline - allowance - margin
    configs = expand(PRESETS["fashion-cifarnet-gpu"])
    train_images = 60000 - 60000 // 6  # the default validation split holds out a sixth
    steps_per_epoch = math.ceil(train_images / 128)
    c = configs[0]
    assert len(configs) == 48 and c.log_every == steps_per_epoch == 391 and c.epochs == 2
    steps = c.epochs * steps_per_epoch
    evaluated = (c.epochs + 1) * (c.eval_train_limit + 60000 // 6 + 10000)  # at step 0 and after each epoch
    run_s = steps * step_s + evaluated * eval_image_s
    assert round(run_s, 1) == 7.9 and len(configs) * run_s < budget  # 380 s of GPU time in a 480 s budget
    assert workers * run_s + 15 < allowance  # a run that shares the GPU with every worker
    cifar = expand(PRESETS["cifar10-cifarnet-gpu"])
    assert len(cifar) == 24 and cifar[0].log_every == math.ceil((50000 - 50000 // 6) / 128) == 326
