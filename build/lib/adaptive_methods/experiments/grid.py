"""Grids of runs: the presets of the book and a runner that runs them in parallel processes.

A preset fixes a base configuration and the axes to sweep. The paper's grid is
learning rate x beta2 x optimizer (x seeds) (Reddi et al., Section 5); Korzeniowski's
reproduction adds Adam's bias correction on/off. The book's presets sweep both at once,
so the paper's view is the subset with bias correction on. Runs are ordered so that a
grid stopped early has whole seeds done: bias correction on first, then seed by seed.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from .training import RunConfig, checkpoint_path, result_path

__all__ = ["GridSpec", "PRESETS", "expand", "run_grid", "pending_runs"]

# Korzeniowski's learning rates; with alpha/sqrt(t) the logistic regression's step is
# already 70 to 100 times smaller at the end of the run, so its grid sits a decade higher.
_LR_CONSTANT = [1e-4, 1e-3, 1e-2]
_LR_INV_SQRT = [1e-3, 1e-2, 1e-1, 1.0]
_AXES_ORDER = ("bias_correction", "seed", "optimizer", "lr", "beta2")


@dataclass
class GridSpec:
    name: str
    base: dict
    axes: dict
    description: str = ""
    default_out: str = field(default="")

    def with_overrides(self, base: dict | None = None, axes: dict | None = None) -> "GridSpec":
        return GridSpec(self.name, {**self.base, **(base or {})}, {**self.axes, **(axes or {})}, self.description,
                        self.default_out)


def _full(model: str, dataset: str, schedule: str, lrs, epochs: int, seeds, extra=None) -> tuple[dict, dict]:
    base = dict(model=model, dataset=dataset, schedule=schedule, epochs=epochs, batch_size=128, log_every=200,
                beta1=0.9, eps=1e-8, eval_train_limit=10000, fallback=False, **(extra or {}))
    axes = dict(optimizer=["adam", "amsgrad"], lr=list(lrs), beta2=[0.99, 0.999], bias_correction=[True, False],
                seed=list(seeds))
    return base, axes


PRESETS: dict[str, GridSpec] = {}


def _add(name, base_axes, description, out):
    base, axes = base_axes
    PRESETS[name] = GridSpec(name, base, axes, description, out)


_add("fashion-logreg", _full("logreg", "fashion-mnist", "inv_sqrt", _LR_INV_SQRT, 20, range(3)),
     "Logistic regression on full Fashion-MNIST, alpha/sqrt(t), 20 epochs, 3 seeds.", "results/fashion-mnist/logreg")
_add("fashion-mlp", _full("mlp", "fashion-mnist", "constant", _LR_CONSTANT, 10, range(3)),
     "MLP (100 ReLU units) on full Fashion-MNIST, constant step, 10 epochs, 3 seeds.", "results/fashion-mnist/mlp")
_add("fashion-cifarnet", _full("cifarnet", "fashion-mnist", "constant", _LR_CONSTANT, 10, range(3)),
     "CIFARNET on full Fashion-MNIST (the stand-in for CIFAR-10), constant step, 10 epochs, 3 seeds; "
     "meant for a GPU.", "results/fashion-mnist/cifarnet")
PRESETS["fashion-cifarnet-cpu"] = GridSpec(
    "fashion-cifarnet-cpu",
    {**_full("cifarnet", "fashion-mnist", "constant", [], 2, [])[0], "log_every": 200, "eval_train_limit": 2000},
    dict(optimizer=["adam", "amsgrad"], lr=[1e-4, 1e-3], beta2=[0.999], bias_correction=[True], seed=[0]),
    "CIFARNET on full Fashion-MNIST, 2 epochs, alpha in {1e-4, 1e-3}, beta2 0.999, one seed: "
    "what a CPU affords while fashion-cifarnet waits for a GPU.", "results/fashion-mnist/cifarnet-cpu")
_add("mnist-logreg", _full("logreg", "mnist", "inv_sqrt", _LR_INV_SQRT, 20, range(3)),
     "Logistic regression on full MNIST (needs the MNIST files or internet).", "results/mnist/logreg")
_add("mnist-mlp", _full("mlp", "mnist", "constant", _LR_CONSTANT, 20, range(3)),
     "MLP on full MNIST (needs the MNIST files or internet).", "results/mnist/mlp")
_add("cifar10-cifarnet", _full("cifarnet", "cifar10", "constant", _LR_CONSTANT, 20, range(3)),
     "CIFARNET on CIFAR-10 (needs the CIFAR-10 archive or internet); meant for a GPU.", "results/cifar10/cifarnet")

# The reduced grids the chapter runs on a CPU while the book builds: the first 10,000
# training images, 2 epochs (158 steps), one seed, beta2 = 0.999; CIFARNET 10 steps.
_REDUCED = dict(epochs=2, log_every=20, train_limit=10000, test_limit=1000, eval_train_limit=1000, fallback=True)
_REDUCED_AXES = dict(optimizer=["adam", "amsgrad"], beta2=[0.999], bias_correction=[True], seed=[0])
PRESETS["reduced-logreg"] = GridSpec(
    "reduced-logreg", {**_full("logreg", "fashion-mnist", "inv_sqrt", [], 1, [])[0], **_REDUCED},
    dict(_REDUCED_AXES, lr=[1e-2, 1e-1]),
    "Logistic regression on 10,000 Fashion-MNIST images, 2 epochs.", "results/scratch/reduced/logreg")
PRESETS["reduced-mlp"] = GridSpec(
    "reduced-mlp", {**_full("mlp", "fashion-mnist", "constant", [], 1, [])[0], **_REDUCED},
    dict(_REDUCED_AXES, lr=[1e-3, 1e-2]),
    "MLP on 10,000 Fashion-MNIST images, 2 epochs.", "results/scratch/reduced/mlp")
PRESETS["reduced-cifarnet"] = GridSpec(
    "reduced-cifarnet",
    {**_full("cifarnet", "fashion-mnist", "constant", [], 1, [])[0], **_REDUCED, "max_steps": 10,
     "log_every": 5, "test_limit": 256, "eval_train_limit": 256},
    dict(_REDUCED_AXES, lr=[1e-3]),
    "CIFARNET on Fashion-MNIST, 10 steps.", "results/scratch/reduced/cifarnet")


def expand(spec: GridSpec) -> list[RunConfig]:
    """The grid's configurations, bias correction on before off, then seed by seed."""
    names = [a for a in _AXES_ORDER if a in spec.axes] + [a for a in spec.axes if a not in _AXES_ORDER]
    for name in names:
        if not isinstance(spec.axes[name], (list, tuple)) or not spec.axes[name]:
            raise ValueError(f"grid axis {name!r} must be a non-empty list, got {spec.axes[name]!r}")
    values = [sorted(spec.axes[n], key=lambda v: not v) if n == "bias_correction" else spec.axes[n] for n in names]
    return [RunConfig(**{**spec.base, **dict(zip(names, combo))}) for combo in itertools.product(*values)]


def pending_runs(configs: list[RunConfig], out_dir) -> list[RunConfig]:
    """The configurations that have no result file yet."""
    return [c for c in configs if not result_path(out_dir, c).is_file()]


def _worker(config_dict: dict, out_dir: str, checkpoint_dir: str, experiment: str, command: str, threads: int):
    import torch
    import warnings

    from .training import train

    torch.set_num_threads(threads)
    config = RunConfig.from_dict(config_dict)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = train(config, out_dir=out_dir, checkpoint_dir=checkpoint_dir, progress=False,
                       experiment=experiment, command=command)
    return config.run_id, result["final"], result["wall_time_s"]


def run_grid(configs: list[RunConfig], out_dir, *, checkpoint_dir=None, workers: int = 1, threads: int | None = None,
             experiment: str = "grid", command: str = "", time_budget_s: float | None = None, progress: bool = True,
             log=print) -> dict:
    """Run the configurations that have no result yet; returns counts and wall time.

    ``workers`` processes run at once (``threads`` torch threads each; by default the CPU
    count divided by the workers). ``time_budget_s``: start no new run after this long;
    runs in flight finish, so a rerun of the same command picks up where this one stopped.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    out_dir = Path(out_dir)
    if checkpoint_dir is None:
        checkpoint_dir = Path("results") / "scratch" / "checkpoints" / experiment
    checkpoint_dir = Path(checkpoint_dir)
    todo = pending_runs(configs, out_dir)
    done_before = len(configs) - len(todo)
    threads = threads or max(1, (os.cpu_count() or 1) // workers)
    log(f"grid {experiment}: {len(configs)} runs, {done_before} already done, {len(todo)} to run "
        f"with {workers} worker(s) x {threads} thread(s); results in {out_dir}")
    start = time.perf_counter()
    finished, failed = 0, []
    if not todo:
        log(f"grid {experiment}: nothing to run")
        return {"total": len(configs), "finished": 0, "failed": [], "remaining": 0, "wall_time_s": 0.0,
                "checkpoints": []}
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        queue = list(todo)
        running = {}
        while queue or running:
            while queue and len(running) < workers:
                if time_budget_s is not None and time.perf_counter() - start > time_budget_s:
                    log(f"time budget of {time_budget_s:.0f} s used: {len(queue)} runs not started")
                    queue.clear()
                    break
                cfg = queue.pop(0)
                fut = pool.submit(_worker, cfg.to_dict(), str(out_dir), str(checkpoint_dir), experiment, command,
                                  threads)
                running[fut] = cfg
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                cfg = running.pop(fut)
                try:
                    run_id, final, wall = fut.result()
                    finished += 1
                    if progress:
                        acc = final["test_acc"]
                        log(f"[{done_before + finished}/{len(configs)}] {run_id}: test acc {acc:.4f}, "
                            f"{wall:.1f} s{' (diverged)' if final['diverged'] else ''}")
                except Exception as exc:  # a failed run is reported and the grid goes on
                    failed.append((cfg.run_id, f"{type(exc).__name__}: {exc}"))
                    log(f"FAILED {cfg.run_id}: {type(exc).__name__}: {exc}")
    wall = time.perf_counter() - start
    remaining = len(pending_runs(configs, out_dir))
    log(f"grid {experiment}: {finished} runs finished, {len(failed)} failed, {remaining} still to run, "
        f"{wall:.1f} s wall time")
    return {"total": len(configs), "finished": finished, "failed": failed, "remaining": remaining,
            "wall_time_s": wall, "checkpoints": [str(checkpoint_path(checkpoint_dir, c)) for c in configs
                                                 if checkpoint_path(checkpoint_dir, c).is_file()]}
