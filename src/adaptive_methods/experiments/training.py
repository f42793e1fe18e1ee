"""The training loop of the experiments: one function, :func:`train`, for one configuration.

Minibatches are drawn without replacement from a permutation of the training set that
depends only on the seed and the epoch, so the position in the data is just the step
counter. A checkpoint (model, optimizer state, step, logged metrics, random number
generator states) is written atomically every ``checkpoint_every`` steps; a run that was
killed resumes from its last checkpoint and ends with the same parameters and metrics,
bit for bit on the CPU, as a run that was never interrupted. A checkpoint or a result file
counts only when its recorded identity (:func:`~.config.run_identity`) equals the run's.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ..reproducibility import seed_everything
from . import data as _data
from .config import RunConfig, run_identity
from .distributed import DistContext, all_reduce_sum, setup_distributed, shard
from .models import build_model, count_parameters
from .checkpoints import CheckpointError, Progress, load_checkpoint, save_checkpoint
from .optimizers import make_optimizer, step_size
from .results import (SCHEMA, ResultFileError, atomic_write_json, command_line, environment_info,
                      git_info, read_result)

__all__ = ["RunConfig", "train", "resolve_device", "result_path", "checkpoint_path", "RunInterrupted",
           "CheckpointError", "check_writable", "expected_identity", "recorded_identity", "is_done"]


class RunInterrupted(Exception):
    """Raised when a run stops early with a checkpoint, which the same call resumes.

    :func:`train` raises it when ``stop_after`` stops a run (a simulated kill);
    :func:`~adaptive_methods.experiments.batched.train_batched` also on SIGTERM or SIGINT.

    Parameters
    ----------
    step : int
        The steps done when the run stopped.
    checkpoint : pathlib.Path or None
        The checkpoint written at that step (None where the run had no checkpoint folder).

    Examples
    --------
    >>> from pathlib import Path
    >>> stop = RunInterrupted(5, Path("run.pt"))
    >>> stop.step, stop.checkpoint.name
    (5, 'run.pt')
    >>> str(stop)
    'run stopped after step 5; checkpoint: run.pt'
    """

    def __init__(self, step: int, checkpoint: Path | None):
        super().__init__(f"run stopped after step {step}; checkpoint: {checkpoint}")
        self.step, self.checkpoint = step, checkpoint


def resolve_device(device: str | torch.device = "auto", local_rank: int = 0) -> torch.device:
    """The device a run trains on: ``"auto"`` is this rank's CUDA device, else the CPU.

    Parameters
    ----------
    device : str or torch.device, default "auto"
        ``"auto"``, ``"cpu"``, ``"cuda"`` (this rank's GPU) or ``"cuda:N"``; a
        ``torch.device`` is returned as it is.
    local_rank : int, default 0
        This process's rank on its machine (``LOCAL_RANK`` under torchrun): the GPU that
        ``"auto"`` and ``"cuda"`` pick.

    Returns
    -------
    torch.device

    Raises
    ------
    TypeError
        If ``device`` is neither a string nor a ``torch.device``.
    ValueError
        If ``device`` is not one of the allowed names, or is ``"cuda"`` without CUDA.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("gpu")
    Traceback (most recent call last):
    ...
    ValueError: device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'gpu'
    """
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        raise TypeError(f"device must be a string or torch.device, got {type(device).__name__}")
    if device == "auto":
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    if device == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("device 'cuda' was asked for but torch.cuda.is_available() is False")
        return torch.device(f"cuda:{local_rank}")
    if device != "cpu" and not (device.startswith("cuda:") and device[5:].isdigit()):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    return torch.device(device)


def result_path(out_dir: str | os.PathLike, config: RunConfig) -> Path:
    return Path(out_dir) / f"{config.run_id}.json"


def checkpoint_path(checkpoint_dir: str | os.PathLike, config: RunConfig) -> Path:
    return Path(checkpoint_dir) / f"{config.run_id}.pt"


def check_writable(folder: str | os.PathLike, what: str) -> Path:
    """Create ``folder`` and write a file in it, so that a run fails before training, not after."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ValueError(f"{what} {str(folder)!r} is not a writable folder ({exc.strerror or exc}); "
                         f"choose another {what}") from exc
    return folder


# ----------------------------------------------------------------------------- identity


@dataclass
class _Data:
    train: _data.Dataset
    validation: _data.Dataset | None
    test: _data.Dataset

    @property
    def validation_size(self) -> int:
        return 0 if self.validation is None else len(self.validation)


def _load_data(config: RunConfig) -> _Data:
    train_set, test_set = _data.load_train_test(
        config.dataset, root=config.data_root, download=config.download, fallback=config.fallback,
        train_limit=config.train_limit, test_limit=config.test_limit, dtype=torch.uint8,
        accept_unpinned=config.accept_unpinned_data or None)
    kept, held = _data.split_validation(train_set, config.validation_size)
    return _Data(kept, held, test_set)


def _threads(config: RunConfig) -> int:
    return config.threads or torch.get_num_threads()


def _identity(config, data: _Data, opt_info: dict, device: torch.device, world_size: int) -> dict:
    return run_identity(config, optimizer_info=opt_info, train_files=data.train.files, test_files=data.test.files,
                        validation_size=data.validation_size, threads=_threads(config), device_type=device.type,
                        world_size=world_size)


def _build_optimizer(config: RunConfig, params):
    return make_optimizer(config.optimizer, params, lr=config.lr, beta1=config.beta1, beta2=config.beta2,
                          eps=config.eps, bias_correction=config.bias_correction, schedule=config.schedule,
                          extra=config.optimizer_kwargs)


def expected_identity(config: RunConfig, world_size: int = 1) -> dict:
    """The identity a run of ``config`` will have here (loads the data to hash it)."""
    _, _, info = _build_optimizer(config, [torch.nn.Parameter(torch.zeros(1))])
    return _identity(config, _load_data(config), info, resolve_device(config.device), world_size)


def recorded_identity(path: Path) -> dict | None:
    """The identity recorded in a result file (None for files written before identities)."""
    return read_result(path).get("identity")


def is_done(config: RunConfig, out_dir, identity: dict | None = None) -> bool:
    """True when ``out_dir`` holds a result of exactly this run (same identity)."""
    path = result_path(out_dir, config)
    if not path.is_file():
        return False
    return recorded_identity(path) == (identity or expected_identity(config))


# ----------------------------------------------------------------------------- one run


@dataclass
class _Run:
    """What one training session works with."""

    config: RunConfig
    ctx: DistContext
    device: torch.device
    data: _Data
    x: dict
    y: dict
    model: torch.nn.Module
    net: torch.nn.Module
    optimizer: torch.optim.Optimizer
    controller: object
    opt_info: dict
    identity: dict
    checkpoint: Path | None
    total: int
    steps_per_epoch: int
    n_eval_train: int
    session_start: float


def _utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _setup(config: RunConfig, ctx: DistContext, device: torch.device, checkpoint_dir, session_start) -> _Run:
    data = _load_data(config)
    x = {k: d.x.to(device) for k, d in (("train", data.train), ("validation", data.validation), ("test", data.test))
         if d is not None}
    y = {k: d.y.to(device) for k, d in (("train", data.train), ("validation", data.validation), ("test", data.test))
         if d is not None}
    seed_everything(config.seed, deterministic=config.deterministic)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = not config.deterministic
        if not config.deterministic:
            # TF32 matrix products: fast on recent GPUs, and results vary at that precision anyway
            torch.set_float32_matmul_precision("high")
    model = build_model(config.model, data.train.input_shape, data.train.num_classes).to(device)
    # dropout draws from the global generator: give each rank its own stream (rank 0 keeps
    # the single-process one)
    if ctx.rank:
        torch.manual_seed(config.seed + 7919 * ctx.rank)
    net = model
    if ctx.enabled:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer, controller, opt_info = _build_optimizer(config, model.parameters())
    steps_per_epoch = math.ceil(len(data.train) / config.batch_size)
    total = config.epochs * steps_per_epoch if config.max_steps is None else min(
        config.epochs * steps_per_epoch, config.max_steps)
    return _Run(config, ctx, device, data, x, y, model, net, optimizer, controller, opt_info,
                _identity(config, data, opt_info, device, ctx.world_size),
                checkpoint_path(checkpoint_dir, config) if checkpoint_dir is not None else None, total,
                steps_per_epoch, min(config.eval_train_limit or len(data.train), len(data.train)), session_start)


def _wall(run: _Run, progress: Progress) -> float:
    return progress.prior_wall + time.perf_counter() - run.session_start


@torch.no_grad()
def _evaluate(run: _Run, split: str, limit: int | None = None) -> tuple[float | None, float]:
    """Mean cross-entropy and accuracy over a split; each rank does a slice, then a sum."""
    x_u8, y = run.x[split][:limit], run.y[split][:limit]
    was_training = run.model.training
    run.model.eval()
    idx = shard(torch.arange(len(y)), run.ctx)
    sums = torch.zeros(3, dtype=torch.float64, device=x_u8.device)
    for start in range(0, len(idx), run.config.eval_batch_size):
        part = idx[start:start + run.config.eval_batch_size].to(x_u8.device)
        logits = run.model(pixels(x_u8[part]))
        sums[0] += F.cross_entropy(logits, y[part], reduction="sum").double()
        sums[1] += (logits.argmax(1) == y[part]).sum().double()
        sums[2] += len(part)
    all_reduce_sum(sums, run.ctx)
    run.model.train(was_training)
    loss = float(sums[0] / sums[2])
    return (loss if math.isfinite(loss) else None), float(sums[1] / sums[2])


def _log_point(run: _Run, progress: Progress, loss_sum: torch.Tensor, alpha: float | None) -> None:
    totals = torch.stack([loss_sum, torch.tensor(float(progress.loss_count), dtype=torch.float64, device=run.device)])
    all_reduce_sum(totals, run.ctx)
    batch_loss = float(totals[0] / totals[1]) if totals[1] > 0 else None
    if batch_loss is not None and not math.isfinite(batch_loss):
        batch_loss = None
    train_loss, train_acc = _evaluate(run, "train", run.n_eval_train)
    val_loss, val_acc = _evaluate(run, "validation") if "validation" in run.x else (None, None)
    test_loss, test_acc = _evaluate(run, "test")
    step = progress.step
    values = dict(step=step, epoch=step / run.steps_per_epoch, alpha=alpha, batch_loss=batch_loss,
                  train_loss=train_loss, train_acc=train_acc, val_loss=val_loss, val_acc=val_acc,
                  test_loss=test_loss, test_acc=test_acc, wall_time_s=round(_wall(run, progress), 3))
    for key, value in values.items():
        progress.history.setdefault(key, []).append(value)
    loss_sum.zero_()
    progress.loss_count = 0
    diverged = batch_loss is None or train_loss is None or test_loss is None or (
        "validation" in run.x and val_loss is None)
    if step > 0 and diverged:
        progress.diverged_at = step


def pixels(x_u8: torch.Tensor) -> torch.Tensor:
    """Bytes to pixel values in [0, 1], in torch's default dtype (float32 unless a test asks
    for float64 to compare two ways of training at a tight tolerance)."""
    return x_u8.to(torch.get_default_dtype()).div_(255.0)


def _epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(1_000_003 * seed + epoch)
    return torch.randperm(n, generator=gen)


def _loop(run: _Run, progress: Progress, *, stop_after: int | None, progress_bar: bool) -> None:
    from tqdm.auto import tqdm

    config, ctx = run.config, run.ctx
    loss_sum = torch.tensor(progress.loss_sum, dtype=torch.float64, device=run.device)
    if progress.step == 0 and not progress.history["step"]:
        _log_point(run, progress, loss_sum, None)
    ckpt_every = config.checkpoint_every or config.log_every
    bar = tqdm(total=run.total, initial=progress.step, disable=not progress_bar or not ctx.is_main,
               desc=config.run_id, mininterval=1.0, dynamic_ncols=True)
    order, order_epoch = None, -1
    run.net.train()
    while progress.step < run.total and progress.diverged_at is None:
        epoch, pos = divmod(progress.step, run.steps_per_epoch)
        if epoch != order_epoch:
            order, order_epoch = _epoch_order(config.seed, epoch, len(run.data.train)).to(run.device), epoch
        global_idx = order[pos * config.batch_size:(pos + 1) * config.batch_size]
        idx = shard(global_idx, ctx)
        alpha = step_size(run.optimizer, run.controller, progress.step + 1)
        losses = F.cross_entropy(run.net(pixels(run.x["train"][idx])), run.y["train"][idx],
                                 reduction="none")
        # sum / global batch size, times world size: DDP's mean of the gradients is then
        # the gradient of the mean loss over the global batch
        loss = losses.sum() * (ctx.world_size / len(global_idx))
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        run.optimizer.step()
        loss_sum += losses.detach().sum().double()
        progress.loss_count += len(idx)
        progress.step += 1
        bar.update(1)
        step = progress.step
        if step % config.log_every == 0 or step == run.total:
            _log_point(run, progress, loss_sum, alpha)
            if ctx.is_main and progress.history["test_acc"]:
                bar.set_postfix(test_acc=f"{progress.history['test_acc'][-1]:.4f}", refresh=False)
        if step % ckpt_every == 0 and step < run.total and progress.diverged_at is None:
            save_checkpoint(run, progress, loss_sum, _wall(run, progress))
        if stop_after is not None and step >= stop_after and step < run.total:
            save_checkpoint(run, progress, loss_sum, _wall(run, progress))
            bar.close()
            raise RunInterrupted(step, run.checkpoint)
    bar.close()


def _result(run: _Run, progress: Progress, experiment: str, command: str | None) -> dict:
    h = progress.history
    final = {k: h[k][-1] for k in ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc",
                                   "batch_loss")}
    final.update(step=progress.step, epoch=progress.step / run.steps_per_epoch,
                 diverged=progress.diverged_at is not None, diverged_at_step=progress.diverged_at)
    splits = {"train": run.data.train.info(), "test": run.data.test.info()}
    if run.data.validation is not None:
        splits["validation"] = run.data.validation.info()
    return {
        "schema": SCHEMA,
        "experiment": experiment,
        "run_id": run.config.run_id,
        "config": run.config.to_dict(),
        "identity": run.identity,
        "dataset": {**splits, "eval_train_size": run.n_eval_train},
        "model": {"name": run.config.model, "class": f"{type(run.model).__module__}.{type(run.model).__qualname__}",
                  "parameters": count_parameters(run.model), "input_shape": list(run.data.train.input_shape)},
        "optimizer": run.opt_info,
        "steps": {"total": run.total, "per_epoch": run.steps_per_epoch, "done": progress.step},
        "metrics": h,
        "final": final,
        "parameters_sha256": _parameters_digest(run.model),
        "distributed": {"world_size": run.ctx.world_size, "backend": run.ctx.backend},
        "environment": environment_info(run.device),
        "git": git_info(),
        "command": command or command_line(),
        "started_at": progress.started_at,
        "finished_at": _utc_now(),
        "resumed_at_steps": progress.resumed_at,
        "wall_time_s": round(_wall(run, progress), 3),
    }


def _existing(run: _Run, out_dir, force: bool) -> dict | None:
    """The result file of this very run (same identity), if ``out_dir`` has one and not ``force``."""
    if out_dir is None or force:
        return None
    path = result_path(out_dir, run.config)
    if not path.is_file():
        return None
    existing = read_result(path)
    return existing if existing.get("identity") == run.identity else None


def _write_result(path: Path, result: dict) -> None:
    """Write a result; a file of the same name from another run (another identity: other data,
    threads, code) is kept as ``*.json.superseded``, so that nothing is lost or taken as done."""
    if path.is_file():
        try:
            old = read_result(path).get("identity")
        except ResultFileError:
            old = None
        if old != result["identity"]:
            path.replace(path.with_name(path.name + ".superseded"))
    atomic_write_json(path, result)


def train(
    config: RunConfig,
    *,
    out_dir: str | os.PathLike | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    resume: bool = True,
    keep_checkpoint: bool = False,
    stop_after: int | None = None,
    progress: bool = True,
    experiment: str = "single",
    command: str | None = None,
    return_model: bool = False,
    force: bool = False,
):
    """Train one configuration and return its result (also written to ``out_dir``).

    Loads the data (:func:`~adaptive_methods.experiments.data.load_train_test`, then
    :func:`~adaptive_methods.experiments.data.split_validation`), builds the model and the
    optimizer, and trains on minibatches in the order the seed fixes, evaluating every
    ``config.log_every`` steps. Under torchrun every process calls it, and the model is
    wrapped in ``DistributedDataParallel``.

    Parameters
    ----------
    config : RunConfig
        The run.
    out_dir : str or os.PathLike or None, default None
        Where the result file ``<run_id>.json`` goes (none is written when None). A result
        of this very run (the same identity) already there is returned as it is, with
        ``"reused": True``, unless ``force``.
    checkpoint_dir : str or os.PathLike or None, default None
        Where the checkpoint ``<run_id>.pt`` goes (none is written when None).
    resume : bool, default True
        Continue from a checkpoint of this run found in ``checkpoint_dir``; one of another
        run is refused, listing the differences. False starts afresh.
    keep_checkpoint : bool, default False
        Keep the checkpoint once the run is done (it is deleted otherwise).
    stop_after : int or None, default None
        Stop once this many steps (>= 1) are done, after writing a checkpoint, and raise
        :class:`RunInterrupted` (what a kill does, minus the lost work); needs
        ``checkpoint_dir``.
    progress : bool, default True
        Show a progress bar.
    experiment : str, default "single"
        The experiment's name, recorded in the result.
    command : str or None, default None
        The command line recorded in the result; None: this process's.
    return_model : bool, default False
        Return ``(result, model)`` instead of the result alone.
    force : bool, default False
        Train even when ``out_dir`` holds a result of this run.

    Returns
    -------
    dict or (dict, torch.nn.Module)
        The result: ``"config"``, ``"identity"``, ``"metrics"`` (every logged value by
        step), ``"final"`` (the last ones, and whether the run diverged), ``"dataset"``,
        ``"optimizer"`` (what ran), the environment, the git commit and the timings; with
        ``return_model``, also the trained model.

    Raises
    ------
    TypeError
        If ``config`` is not a :class:`RunConfig`.
    ValueError
        If ``stop_after`` is not a positive int or None or comes without a
        ``checkpoint_dir``, a folder is not writable, the configuration names no such
        model, data set, optimizer or device, or the optimizer refuses its
        hyperparameters.
    CheckpointError
        If the checkpoint found cannot be resumed (``resume=True``).
    RunInterrupted
        When ``stop_after`` stops the run.
    DatasetUnavailableError, DatasetFormatError, UnpinnedDataError
        As for :func:`~adaptive_methods.experiments.data.load_dataset`.

    Examples
    --------
    Logistic regression for 4 steps on a tiny MNIST-format folder of random images:

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
    >>> config = RunConfig(dataset="mnist", data_root=folder.name, download=False,
    ...                    fallback=False, accept_unpinned_data=True, validation_size=20,
    ...                    batch_size=20, epochs=2, log_every=3, threads=1)
    >>> result = train(config, out_dir=f"{folder.name}/out", progress=False)
    >>> result["metrics"]["step"], result["dataset"]["train"]["size"]
    ([0, 3, 4], 40)
    >>> train(config, out_dir=f"{folder.name}/out", progress=False)["reused"]
    True

    Stopped after 2 steps and resumed from its checkpoint, the run ends with the same
    parameters, bit for bit:

    >>> try:
    ...     train(config, checkpoint_dir=f"{folder.name}/ckpt", stop_after=2,
    ...           progress=False)
    ... except RunInterrupted as stop:
    ...     print(stop.step)
    2
    >>> resumed = train(config, checkpoint_dir=f"{folder.name}/ckpt", progress=False)
    >>> resumed["resumed_at_steps"]
    [2]
    >>> resumed["parameters_sha256"] == result["parameters_sha256"]
    True
    >>> folder.cleanup()
    """
    if not isinstance(config, RunConfig):
        raise TypeError(f"config must be a RunConfig, got {type(config).__name__}")
    if stop_after is not None:
        if checkpoint_dir is None:
            raise ValueError("stop_after needs a checkpoint_dir to stop into, got checkpoint_dir=None")
        if isinstance(stop_after, bool) or not isinstance(stop_after, int) or stop_after < 1:
            raise ValueError(f"stop_after must be a positive int or None, got {stop_after!r}")
    for folder, what in ((out_dir, "out_dir"), (checkpoint_dir, "checkpoint_dir")):
        if folder is not None:
            check_writable(folder, what)
    session_start = time.perf_counter()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    wanted = resolve_device(config.device, int(os.environ.get("LOCAL_RANK", "0")))
    if wanted.type == "cuda":
        # deterministic cuBLAS needs this before the first CUDA call
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    ctx = setup_distributed(wanted.type)
    try:
        run = _setup(config, ctx, wanted, checkpoint_dir, session_start)
        result = _existing(run, out_dir, force)  # every rank reads the same file, so all agree
        if result is not None:
            result["reused"] = True
        else:
            result = _train(run, out_dir, resume, keep_checkpoint, stop_after, progress, experiment, command)
        return (result, run.model) if return_model else result
    finally:
        ctx.close()


def _train(run: _Run, out_dir, resume, keep_checkpoint, stop_after, progress, experiment, command) -> dict:
    state = None
    if run.checkpoint is not None and resume and run.checkpoint.is_file():
        state = load_checkpoint(run)
    state = state or Progress(started_at=_utc_now())
    _loop(run, state, stop_after=stop_after, progress_bar=progress)
    result = _result(run, state, experiment, command)
    if run.ctx.is_main:
        if out_dir is not None:
            _write_result(result_path(out_dir, run.config), result)
        if run.checkpoint is not None and run.checkpoint.is_file() and not keep_checkpoint:
            run.checkpoint.unlink()
    run.ctx.barrier()
    return result


def _parameters_digest(model) -> str:
    """SHA-256 of the parameters' bytes: equal digests mean bit-identical models."""
    import hashlib

    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()
