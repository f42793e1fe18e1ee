"""The optimizer-step benchmark (benchmarks/bench_optimizer_step.py) runs, prints a row per
method with every path it has, builds each path afresh in every round, and refuses bad
arguments by name."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_optimizer_step.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("bench_optimizer_step", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def test_each_method_gets_a_row_of_times_ratios_and_state_bytes():
    done = run("--steps", "2", "--rounds", "2", "--threads", "1", "--no-fused", "--shapes", "small",
               "--methods", "adam,rmsprop")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("method"))
    assert header.split()[:7] == ["method", "torch", "class", "ours_default", "ours_foreach", "ours_fused",
                                  "torch_forloop"]
    assert "in 2 rounds of fresh optimizers" in lines[0]
    times = {line.split()[0]: line.split() for line in lines[lines.index(header) + 1:lines.index(header) + 3]}
    assert set(times) == {"adam", "rmsprop"}
    adam = times["adam"]
    # ours_default, ours_foreach, (no fused), torch_forloop, torch_foreach, (no fused), def/tdef
    default, foreach, fused, forloop = adam[2], adam[3], adam[4], adam[5]
    assert fused == "n/a" and float(default) > 0 and float(foreach) > 0 and float(forloop) > 0
    assert math.isclose(float(adam[8]), float(default) / float(forloop), rel_tol=0.01, abs_tol=0.002)
    memory = lines.index("# state bytes per path (moment buffers and step tensors):")
    adam_bytes = lines[memory + 1].split()
    numel = 100 * (32 * 32 + 32)
    # two float32 moments per parameter; torch also keeps a float32 step tensor per tensor
    assert adam_bytes[2] == str(2 * 4 * numel) and adam_bytes[5] == str(2 * 4 * numel + 4 * 200)


def test_every_round_builds_every_path_in_a_new_order(monkeypatch):
    bench = load_benchmark()
    built = []

    def counting(label, make):
        def wrapped():
            built.append(label)
            return make()
        return label, wrapped

    real = bench.path_makers

    def spy(*args, **kwargs):
        counterpart, makers = real(*args, **kwargs)
        return counterpart, [counting(label, make) for label, make in makers]

    monkeypatch.setattr(bench, "path_makers", spy)
    _, medians, _, _, _ = bench.bench("sgd", [(3,)], steps=3, device="cpu", fused=False, rounds=3)
    labels = ["ours_default", "ours_foreach", "torch_forloop", "torch_foreach"]
    assert built == labels + labels[1:] + labels[:1] + labels[2:] + labels[:2]
    assert set(medians) == set(labels)


@pytest.mark.parametrize("args, message", [
    (("--steps", "0"), "--steps must be >= 1, got 0"),
    (("--rounds", "0"), "--rounds must be >= 1, got 0"),
    (("--methods", "adam,adamm"), "--methods: ['adamm'] are not registered"),
])
def test_bad_arguments_are_refused_by_name(args, message):
    done = run(*args)
    assert done.returncode == 2 and message in done.stderr
