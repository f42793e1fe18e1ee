"""The training loop of the experiments: one function, :func:`train`, for one configuration.

Minibatches are drawn without replacement from a permutation of the training set that
depends only on the seed and the epoch, so the position in the data is just the step
counter. A checkpoint (model, optimizer state, step, logged metrics, random number
generator states) is written atomically every ``checkpoint_every`` steps; a run that was
killed resumes from its last checkpoint and ends with the same parameters and metrics,
bit for bit on the CPU, as a run that was never interrupted.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from ..reproducibility import seed_everything
from . import data as _data
from .distributed import DistContext, all_reduce_sum, gather_objects, setup_distributed, shard
from .models import build_model, count_parameters
from .optimizers import StepController, make_optimizer
from .results import SCHEMA, atomic_write_bytes, atomic_write_json, command_line, environment_info, git_info

__all__ = ["RunConfig", "train", "resolve_device", "result_path", "checkpoint_path", "RunInterrupted"]

# configuration fields that do not change what is computed, so a result or a checkpoint
# made with other values of them still counts as the same run
_NOT_IDENTITY = ("device", "threads", "data_root", "download", "checkpoint_every")


@dataclass
class RunConfig:
    """Everything that defines one training run. ``run_id`` names its files."""

    model: str = "logreg"
    dataset: str = "fashion-mnist"
    optimizer: str = "adam"
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    bias_correction: bool = True
    schedule: str = "constant"
    batch_size: int = 128
    epochs: int = 1
    max_steps: int | None = None
    seed: int = 0
    log_every: int = 100
    checkpoint_every: int | None = None
    train_limit: int | None = None
    test_limit: int | None = None
    eval_train_limit: int | None = 10000
    eval_batch_size: int = 1000
    device: str = "auto"
    deterministic: bool = True
    threads: int | None = None
    data_root: str | None = None
    download: bool | None = None
    fallback: bool = True
    optimizer_kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        def positive_int(name, allow_none=False):
            v = getattr(self, name)
            if v is None and allow_none:
                return
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int{' or None' if allow_none else ''}, got {v!r}")

        for name in ("batch_size", "epochs", "log_every", "eval_batch_size"):
            positive_int(name)
        for name in ("max_steps", "checkpoint_every", "train_limit", "test_limit", "eval_train_limit", "threads"):
            positive_int(name, allow_none=True)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an int >= 0, got {self.seed!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        for name in ("beta1", "beta2"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0.0 <= v < 1.0):
                raise ValueError(f"{name} must be in [0, 1), got {v!r}")
        if not (isinstance(self.eps, (int, float)) and self.eps >= 0):
            raise ValueError(f"eps must be a number >= 0, got {self.eps!r}")
        if self.schedule not in ("constant", "inv_sqrt"):
            raise ValueError(f"schedule must be 'constant' or 'inv_sqrt', got {self.schedule!r}")
        if not isinstance(self.bias_correction, bool):
            raise TypeError(f"bias_correction must be a bool, got {self.bias_correction!r}")
        if not isinstance(self.optimizer_kwargs, dict):
            raise TypeError(f"optimizer_kwargs must be a dict, got {type(self.optimizer_kwargs).__name__}")
        self.lr, self.beta1, self.beta2, self.eps = float(self.lr), float(self.beta1), float(self.beta2), float(self.eps)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "RunConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown configuration fields {unknown}; allowed: {sorted(names)}")
        return cls(**values)

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    def identity(self) -> dict:
        """The fields that decide what the run computes."""
        return {k: v for k, v in self.to_dict().items() if k not in _NOT_IDENTITY}

    @property
    def run_id(self) -> str:
        parts = [self.model, self.dataset, self.optimizer.replace(".", "_"), f"lr{self.lr:g}", f"b1-{self.beta1:g}",
                 f"b2-{self.beta2:g}", "bc" if self.bias_correction else "nobc", self.schedule, f"s{self.seed}"]
        if self.optimizer_kwargs:
            parts.insert(3, "-".join(f"{k}{v}" for k, v in sorted(self.optimizer_kwargs.items())))
        return "_".join(parts)


class RunInterrupted(Exception):
    """Raised by :func:`train` when ``stop_after`` stops a run early (a simulated kill)."""

    def __init__(self, step: int, checkpoint: Path | None):
        super().__init__(f"run stopped after step {step}; checkpoint: {checkpoint}")
        self.step, self.checkpoint = step, checkpoint


def resolve_device(device: str | torch.device = "auto", local_rank: int = 0) -> torch.device:
    """``"auto"``: the CUDA device of this rank when CUDA is present, else the CPU."""
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
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from exc


def result_path(out_dir: str | os.PathLike, config: RunConfig) -> Path:
    return Path(out_dir) / f"{config.run_id}.json"


def checkpoint_path(checkpoint_dir: str | os.PathLike, config: RunConfig) -> Path:
    return Path(checkpoint_dir) / f"{config.run_id}.pt"


def _epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(1_000_003 * seed + epoch)
    return torch.randperm(n, generator=gen)


@torch.no_grad()
def _evaluate(model, x_u8: torch.Tensor, y: torch.Tensor, ctx: DistContext, batch: int) -> tuple[float | None, float]:
    """Mean cross-entropy and accuracy over ``x``; each rank does a slice, then a sum."""
    was_training = model.training
    model.eval()
    idx = shard(torch.arange(len(y)), ctx)
    sums = torch.zeros(3, dtype=torch.float64, device=x_u8.device)
    for start in range(0, len(idx), batch):
        part = idx[start:start + batch].to(x_u8.device)
        logits = model(x_u8[part].float().div_(255.0))
        target = y[part]
        sums[0] += F.cross_entropy(logits, target, reduction="sum").double()
        sums[1] += (logits.argmax(1) == target).sum().double()
        sums[2] += len(part)
    all_reduce_sum(sums, ctx)
    model.train(was_training)
    loss = float(sums[0] / sums[2])
    return (loss if math.isfinite(loss) else None), float(sums[1] / sums[2])


def _rng_state(device: torch.device) -> dict:
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _save_checkpoint(path: Path, payload: dict) -> None:
    import io

    buf = io.BytesIO()
    torch.save(payload, buf)
    atomic_write_bytes(path, buf.getvalue())


def _utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


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
):
    """Train one configuration and return its result (also written to ``out_dir``).

    ``checkpoint_dir``: where checkpoints go (none are written when it is ``None``). With
    ``resume=True`` a checkpoint of the same configuration found there is continued.
    ``stop_after``: stop once this many steps are done, after writing a checkpoint, and
    raise :class:`RunInterrupted` (what a kill does, minus the lost work).
    ``return_model``: return ``(result, model)`` instead of the result alone.
    """
    if not isinstance(config, RunConfig):
        raise TypeError(f"config must be a RunConfig, got {type(config).__name__}")
    if stop_after is not None and checkpoint_dir is None:
        raise ValueError("stop_after needs a checkpoint_dir to stop into, got checkpoint_dir=None")
    session_start = time.perf_counter()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    wanted = resolve_device(config.device, int(os.environ.get("LOCAL_RANK", "0")))
    if wanted.type == "cuda":
        # deterministic cuBLAS needs this before the first CUDA call
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    ctx = setup_distributed(wanted.type)
    try:
        result, model = _train(config, ctx, wanted, out_dir, checkpoint_dir, resume, keep_checkpoint, stop_after,
                               progress, experiment, command, session_start)
        return (result, model) if return_model else result
    finally:
        ctx.close()


def _train(config, ctx, device, out_dir, checkpoint_dir, resume, keep_checkpoint, stop_after, progress, experiment,
           command, session_start):
    from tqdm.auto import tqdm

    train_set, test_set = _data.load_train_test(
        config.dataset, root=config.data_root, download=config.download, fallback=config.fallback,
        train_limit=config.train_limit, test_limit=config.test_limit, dtype=torch.uint8)
    x_train, y_train = train_set.x.to(device), train_set.y.to(device)
    x_test, y_test = test_set.x.to(device), test_set.y.to(device)
    n_eval_train = min(config.eval_train_limit or len(y_train), len(y_train))

    seed_everything(config.seed, deterministic=config.deterministic)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = not config.deterministic
        if not config.deterministic:
            # TF32 matrix products: fast on recent GPUs, and results vary at that precision anyway
            torch.set_float32_matmul_precision("high")
    model = build_model(config.model, train_set.input_shape, train_set.num_classes).to(device)
    # dropout draws from the global generator: give each rank its own stream (rank 0 keeps
    # the single-process one)
    if ctx.rank:
        torch.manual_seed(config.seed + 7919 * ctx.rank)
    net = model
    if ctx.enabled:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer, opt_info = make_optimizer(config.optimizer, model.parameters(), lr=config.lr, beta1=config.beta1,
                                         beta2=config.beta2, eps=config.eps, bias_correction=config.bias_correction,
                                         extra=config.optimizer_kwargs)
    controller = StepController(optimizer, lr=config.lr, schedule=config.schedule,
                                bias_correction_mode=opt_info["bias_correction_mode"], beta1=config.beta1,
                                beta2=config.beta2, eps=config.eps)

    n_train = len(y_train)
    steps_per_epoch = math.ceil(n_train / config.batch_size)
    total = config.epochs * steps_per_epoch
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    ckpt_every = config.checkpoint_every or config.log_every

    history = {k: [] for k in ("step", "epoch", "alpha", "batch_loss", "train_loss", "train_acc", "test_loss",
                               "test_acc", "wall_time_s")}
    step, prior_wall, resumed_at, diverged_at = 0, 0.0, [], None
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    loss_count = 0
    started_at = _utc_now()

    ckpt = checkpoint_path(checkpoint_dir, config) if checkpoint_dir is not None else None
    if ckpt is not None and resume and ckpt.is_file():
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
        if state["identity"] != config.identity():
            raise ValueError(f"checkpoint {ckpt} belongs to another configuration; delete it or pass resume=False. "
                             f"differs in: {sorted(k for k in config.identity() if state['identity'].get(k) != config.identity()[k])}")
        if state["world_size"] != ctx.world_size:
            raise ValueError(f"checkpoint {ckpt} was written by {state['world_size']} processes, this run has "
                             f"{ctx.world_size}; resume with the same number")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        _set_rng_state(state["rng"][ctx.rank], device)
        step, history, prior_wall = state["step"], state["history"], state["wall_time_s"]
        resumed_at, started_at = state["resumed_at"] + [step], state["started_at"]
        loss_sum.fill_(state["loss_sum"])
        loss_count = state["loss_count"]
        diverged_at = state["diverged_at"]

    def wall() -> float:
        return prior_wall + time.perf_counter() - session_start

    def log_point(at_step: int, alpha: float | None) -> None:
        nonlocal loss_count, diverged_at
        totals = torch.stack([loss_sum, torch.tensor(float(loss_count), dtype=torch.float64, device=device)])
        all_reduce_sum(totals, ctx)
        batch_loss = float(totals[0] / totals[1]) if totals[1] > 0 else None
        if batch_loss is not None and not math.isfinite(batch_loss):
            batch_loss = None
        train_loss, train_acc = _evaluate(model, x_train[:n_eval_train], y_train[:n_eval_train], ctx,
                                          config.eval_batch_size)
        test_loss, test_acc = _evaluate(model, x_test, y_test, ctx, config.eval_batch_size)
        for key, value in (("step", at_step), ("epoch", at_step / steps_per_epoch), ("alpha", alpha),
                           ("batch_loss", batch_loss), ("train_loss", train_loss), ("train_acc", train_acc),
                           ("test_loss", test_loss), ("test_acc", test_acc), ("wall_time_s", round(wall(), 3))):
            history[key].append(value)
        loss_sum.zero_()
        loss_count = 0
        if at_step > 0 and (batch_loss is None or train_loss is None or test_loss is None):
            diverged_at = at_step

    def save(at_step: int) -> None:
        if ckpt is None:
            return
        rng = gather_objects(_rng_state(device), ctx)
        if ctx.is_main:
            _save_checkpoint(ckpt, {
                "format": 1, "identity": config.identity(), "config": config.to_dict(), "step": at_step,
                "history": history, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "rng": rng, "world_size": ctx.world_size, "wall_time_s": wall(), "started_at": started_at,
                "resumed_at": resumed_at, "loss_sum": float(loss_sum), "loss_count": loss_count,
                "diverged_at": diverged_at,
            })
        ctx.barrier()

    if step == 0 and not history["step"]:
        log_point(0, None)

    bar = tqdm(total=total, initial=step, disable=not progress or not ctx.is_main, desc=config.run_id,
               mininterval=1.0, dynamic_ncols=True)
    order, order_epoch = None, -1
    net.train()
    while step < total and diverged_at is None:
        epoch, pos = divmod(step, steps_per_epoch)
        if epoch != order_epoch:
            order, order_epoch = _epoch_order(config.seed, epoch, n_train).to(device), epoch
        global_idx = order[pos * config.batch_size:(pos + 1) * config.batch_size]
        idx = shard(global_idx, ctx)
        xb = x_train[idx].float().div_(255.0)
        yb = y_train[idx]
        alpha = controller.before_step(step + 1)
        losses = F.cross_entropy(net(xb), yb, reduction="none")
        # sum / global batch size, times world size: DDP's mean of the gradients is then
        # the gradient of the mean loss over the global batch
        loss = losses.sum() * (ctx.world_size / len(global_idx))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += losses.detach().sum().double()
        loss_count += len(idx)
        step += 1
        bar.update(1)
        if step % config.log_every == 0 or step == total:
            log_point(step, alpha)
            if ctx.is_main and history["test_acc"]:
                bar.set_postfix(test_acc=f"{history['test_acc'][-1]:.4f}", refresh=False)
        if step % ckpt_every == 0 and step < total and diverged_at is None:
            save(step)
        if stop_after is not None and step >= stop_after and step < total:
            save(step)
            bar.close()
            raise RunInterrupted(step, ckpt)
    bar.close()

    final = {k: history[k][-1] for k in ("train_loss", "train_acc", "test_loss", "test_acc", "batch_loss")}
    final.update(step=step, epoch=step / steps_per_epoch, diverged=diverged_at is not None,
                 diverged_at_step=diverged_at)
    result = {
        "schema": SCHEMA,
        "experiment": experiment,
        "run_id": config.run_id,
        "config": config.to_dict(),
        "dataset": {"train": train_set.info(), "test": test_set.info(), "eval_train_size": n_eval_train},
        "model": {"name": config.model, "class": f"{type(model).__module__}.{type(model).__qualname__}",
                  "parameters": count_parameters(model), "input_shape": list(train_set.input_shape)},
        "optimizer": opt_info,
        "steps": {"total": total, "per_epoch": steps_per_epoch, "done": step},
        "metrics": history,
        "final": final,
        "parameters_sha256": _parameters_digest(model),
        "distributed": {"world_size": ctx.world_size, "backend": ctx.backend},
        "environment": environment_info(device),
        "git": git_info(),
        "command": command or command_line(),
        "started_at": started_at,
        "finished_at": _utc_now(),
        "resumed_at_steps": resumed_at,
        "wall_time_s": round(wall(), 3),
    }
    if ctx.is_main:
        if out_dir is not None:
            atomic_write_json(result_path(out_dir, config), result)
        if ckpt is not None and ckpt.is_file() and not keep_checkpoint:
            ckpt.unlink()
    ctx.barrier()
    return result, model


def _parameters_digest(model) -> str:
    """SHA-256 of the parameters' bytes: equal digests mean bit-identical models."""
    import hashlib

    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()
