"""Throughput of a grid trained as one batched model against the same runs one at a time,
and the ratio the matrix products allow.

For logistic regression and the MLP on Fashion-MNIST (the full training split, batch size
128, one thread), each row times, in this one run, the preset's whole grid of
configurations (``fashion-logreg-full``: 160 runs; ``fashion-mlp-full``: 120) trained by
:func:`adaptive_methods.experiments.batched.train_batched` and a few of the same
configurations trained by :func:`adaptive_methods.experiments.training.train`, one after
another. Each is timed for ``steps`` and for twice as many steps, and the difference is
the time of ``steps`` steps in a long run: setting up (data, models, optimizers) and the
two log points (start and end, on 1,000 images) cancel, as they nearly do in a grid of
150 epochs. Setting up a batch varies by a few tenths of a second (where its memory comes
from), so each preset's ``steps`` (:data:`STEPS`, or ``--steps``) are enough for the
batched model's timed steps to take over ten seconds here. The sequential runs, the
batched model and the products are timed in turn, in ``--rounds`` rounds, and each column
is the median over the rounds (the rate: the best), so that the machine's speed drifting
from one minute to the next (by 15% on a shared virtual machine) moves all of them alike.

Columns, per run and training step (a "run-step"):

- ``seq`` and ``batched``: milliseconds per run-step one at a time and batched;
  ``ratio`` = seq / batched, how many times more run-steps per second the batched model
  trains (the issue's target: >= 8);
- ``MFLOP``: the matrix products of a run-step (forward, weight gradients, and the
  gradient of the hidden layer's output), 2 m n k each;
- ``GFLOP/s``: the rate of those products measured here, in the shapes the batched model
  multiplies (one grouped product per layer and pass, all runs at once);
- ``floor``: MFLOP / that rate, the milliseconds of a run-step that the products alone
  take; ``bound`` = seq / floor, the ratio a batched model that did nothing but its matrix
  products at that rate would reach. A model whose ``ratio`` is near its ``bound`` is
  limited by the arithmetic, not by the code around it.

``--clock cpu`` (the default) times the process's CPU time, which on a shared machine
leaves out the time other processes hold the core (with one thread it is the wall time of
a quiet machine); ``--clock wall`` times the wall clock.

    python benchmarks/bench_batched_grid.py [--steps N] [--sequential K] [--rounds R] [--clock cpu|wall]

It writes nothing but its table (results and checkpoints go to a temporary folder).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from adaptive_methods.experiments.batched import _LAYERS, split_batches, train_batched
from adaptive_methods.experiments.grid import PRESETS, expand
from adaptive_methods.experiments.models import build_model
from adaptive_methods.experiments.training import train

CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


#: steps per preset: the batched logistic regression steps in ~12 ms, the MLP in ~85 ms
STEPS = {"fashion-logreg-full": 1000, "fashion-mlp-full": 200}


def configs(preset: str, steps: int) -> list:
    """The preset's grid, ``steps`` steps long, evaluated on 1,000 images, no validation."""
    return [c.replace(max_steps=steps, log_every=10 * steps, threads=1, eval_train_limit=1000, test_limit=1000,
                      validation_size=0, download=False) for c in expand(PRESETS[preset])]


def elapsed(fn, clock) -> float:
    start = clock()
    fn()
    return clock() - start


def products(model: str, seeds: int, settings: int, batch: int) -> list:
    """The matrix products of one batched training step, as zero-argument functions with
    their FLOPs, in the shapes and layouts of
    :func:`~adaptive_methods.experiments.batched._gradients` (features by examples)."""
    net = build_model(model, (1, 28, 28), 10)
    dims = [(getattr(net, name).in_features, getattr(net, name).out_features) for name in _LAYERS[model]]
    x = torch.rand(seeds, batch, dims[0][0])
    out = []
    for k, (n_in, n_out) in enumerate(dims):
        flops = 2 * seeds * settings * batch * n_in * n_out
        if k == 0:
            weight = torch.randn(seeds, settings * n_out, n_in)
            delta = torch.randn(seeds, settings * n_out, batch)
            out += [(lambda w=weight: torch.bmm(w, x.transpose(1, 2)), flops),
                    (lambda d=delta: torch.bmm(d, x), flops)]
        else:
            weight = torch.randn(seeds, settings, n_out, n_in)
            hidden = torch.rand(seeds, settings, n_in, batch)
            delta = torch.randn(seeds, settings, n_out, batch)
            out += [(lambda w=weight, h=hidden: torch.matmul(w, h), flops),
                    (lambda d=delta, h=hidden: torch.matmul(d, h.transpose(-1, -2)), flops),
                    (lambda d=delta, w=weight: torch.matmul(w.transpose(-1, -2), d), flops)]
    return out


def gemm_rate(model: str, seeds: int, settings: int, batch: int, clock, repeats: int = 5) -> tuple[float, float]:
    """(FLOPs of a run-step's products, their rate in FLOP/s: the best of ``repeats``)."""
    work = products(model, seeds, settings, batch)
    flops = sum(f for _, f in work)
    for fn, _ in work:
        fn()
    best = min(elapsed(lambda: [fn() for fn, _ in work], clock) for _ in range(repeats))
    return flops / (seeds * settings), flops / best


def measure(preset: str, steps: int, sequential: int, rounds: int, clock) -> dict:
    short, long = configs(preset, steps), configs(preset, 2 * steps)
    (batch_short,), (batch_long,) = split_batches(short), split_batches(long)
    seeds = len({c.seed for c in batch_short})
    seq, batched, rates = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        quiet = dict(checkpoint_dir=folder, log=lambda _: None, resume=False)
        # warm-up: loads and hashes the data once, and the process's heap takes its size
        train(short[0].replace(max_steps=1), progress=False)
        train_batched([c.replace(max_steps=1) for c in batch_short], **quiet)
        for _ in range(rounds):
            seq.append(sum(elapsed(lambda: train(b, progress=False), clock)
                           - elapsed(lambda: train(a, progress=False), clock)
                           for a, b in zip(short[:sequential], long[:sequential])) / (sequential * steps))
            batched.append((elapsed(lambda: train_batched(batch_long, **quiet), clock)
                            - elapsed(lambda: train_batched(batch_short, **quiet), clock)) / (len(batch_short) * steps))
            flops, rate = gemm_rate(short[0].model, seeds, len(batch_short) // seeds, short[0].batch_size, clock)
            rates.append(rate)
    return {"preset": preset, "runs": len(batch_short), "steps": steps, "seq": statistics.median(seq),
            "batched": statistics.median(batched), "flops": flops, "rate": max(rates)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None,
                        help="training steps per run (default: 1000 for logistic regression, 200 for the MLP)")
    parser.add_argument("--sequential", type=int, default=2, help="runs timed one at a time (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three timings (default 3)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                        help="process CPU time (default) or wall-clock time")
    args = parser.parse_args()
    torch.set_num_threads(1)
    clock = CLOCKS[args.clock]
    for name in ("steps", "sequential", "rounds"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name} must be an int >= 1, got {getattr(args, name)}")
    print(f"milliseconds per run-step ({args.clock} time, median of {args.rounds} rounds)")
    print(f"{'model (preset)':<22} {'runs':>4} {'steps':>5} {'seq':>7} {'batched':>7} {'ratio':>6} "
          f"{'MFLOP':>6} {'GFLOP/s':>7} {'floor':>7} {'bound':>6}")
    for preset, steps in STEPS.items():
        row = measure(preset, args.steps or steps, args.sequential, args.rounds, clock)
        floor = row["flops"] / row["rate"]
        print(f"{row['preset']:<22} {row['runs']:>4} {row['steps']:>5} {row['seq'] * 1e3:>7.3f} "
              f"{row['batched'] * 1e3:>7.3f} {row['seq'] / row['batched']:>5.1f}x {row['flops'] / 1e6:>6.1f} "
              f"{row['rate'] / 1e9:>7.1f} {floor * 1e3:>7.3f} {row['seq'] / floor:>5.1f}x")


if __name__ == "__main__":
    main()
