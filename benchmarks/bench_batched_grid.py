"""Throughput of a grid trained as one batched model against the same runs one at a time.

For logistic regression and the MLP on Fashion-MNIST (the full training split, batch size
128, one thread), each row times, in this one run, the preset's whole grid of
configurations (``fashion-logreg-full``: 160 runs; ``fashion-mlp-full``: 120) trained by
:func:`adaptive_methods.experiments.batched.train_batched` and a few of the same
configurations trained by :func:`adaptive_methods.experiments.training.train`, one after
another. Each is timed for ``--steps`` and for twice as many steps, and the difference is
the time of ``--steps`` steps in a long run: setting up (data, models, optimizers) and the
two log points (start and end, on 1,000 images) cancel, as they nearly do in a grid of
150 epochs. ``seq/run-step`` and ``batched/run-step`` are milliseconds per run and step;
``ratio`` is how many times more run-steps per second the batched model trains (the
issue's target: >= 8).

    python benchmarks/bench_batched_grid.py [--steps N] [--sequential K]

It writes nothing but its table (results and checkpoints go to a temporary folder).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from adaptive_methods.experiments.batched import split_batches, train_batched
from adaptive_methods.experiments.grid import PRESETS, expand
from adaptive_methods.experiments.training import train


def configs(preset: str, steps: int) -> list:
    """The preset's grid, ``steps`` steps long, evaluated on 1,000 images, no validation."""
    return [c.replace(max_steps=steps, log_every=10 * steps, threads=1, eval_train_limit=1000, test_limit=1000,
                      validation_size=0, download=False) for c in expand(PRESETS[preset])]


def elapsed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(preset: str, steps: int, sequential: int) -> dict:
    short, long = configs(preset, steps), configs(preset, 2 * steps)
    with tempfile.TemporaryDirectory() as folder:
        train(short[0].replace(max_steps=1), progress=False)  # loads and hashes the data once
        seq = sum(elapsed(lambda: train(b, progress=False)) - elapsed(lambda: train(a, progress=False))
                  for a, b in zip(short[:sequential], long[:sequential])) / (sequential * steps)
        (batch_short,), (batch_long,) = split_batches(short), split_batches(long)
        quiet = dict(checkpoint_dir=folder, log=lambda _: None)
        batched = (elapsed(lambda: train_batched(batch_long, **quiet))
                   - elapsed(lambda: train_batched(batch_short, **quiet))) / (len(batch_short) * steps)
    return {"preset": preset, "runs": len(batch_short), "steps": steps, "seq": seq, "batched": batched}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="training steps per run (default 200)")
    parser.add_argument("--sequential", type=int, default=2, help="runs timed one at a time (default 2)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'model (preset)':<28} {'runs':>5} {'steps':>6} {'seq/run-step':>13} {'batched/run-step':>17} "
          f"{'ratio':>7}")
    for preset in ("fashion-logreg-full", "fashion-mlp-full"):
        row = measure(preset, args.steps, args.sequential)
        print(f"{row['preset']:<28} {row['runs']:>5} {row['steps']:>6} {row['seq'] * 1e3:>10.3f} ms "
              f"{row['batched'] * 1e3:>14.3f} ms {row['seq'] / row['batched']:>6.1f}x")


if __name__ == "__main__":
    main()
