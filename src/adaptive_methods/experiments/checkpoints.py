"""Checkpoints of a training run: written atomically, resumed only by the very same run.

A checkpoint holds the model, the optimizer state, the step, the logged metrics, every
rank's random-number-generator state and the run's identity. :func:`load_checkpoint`
refuses a checkpoint that is unreadable, incomplete, or of another run, naming the file,
the differences and the flag that starts afresh.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import torch

from .config import differences
from .distributed import gather_objects
from .results import atomic_write_bytes

__all__ = ["CheckpointError", "Progress", "load_checkpoint", "save_checkpoint"]

METRICS = ("step", "epoch", "alpha", "batch_loss", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss",
           "test_acc", "wall_time_s")
_CHECKPOINT_KEYS = ("format", "identity", "step", "history", "model", "optimizer", "rng", "world_size", "wall_time_s",
                    "started_at", "resumed_at", "loss_sum", "loss_count", "diverged_at")


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed: unreadable, incomplete, or of another run.

    Raised by :func:`~adaptive_methods.experiments.training.train` (and
    :func:`~adaptive_methods.experiments.batched.train_batched`) with ``resume=True``
    when the checkpoint found is not one this run can continue from; the message names
    the file, the differences and the remedy (delete it, or start afresh with
    ``resume=False``, the command line's ``--fresh``). A ``ValueError``.

    Examples
    --------
    >>> issubclass(CheckpointError, ValueError)
    True
    """


@dataclass
class Progress:
    """The state a checkpoint carries besides the model and the optimizer."""

    history: dict = field(default_factory=lambda: {k: [] for k in METRICS})
    step: int = 0
    prior_wall: float = 0.0
    resumed_at: list = field(default_factory=list)
    diverged_at: int | None = None
    loss_sum: float = 0.0
    loss_count: int = 0
    started_at: str = ""


def load_checkpoint(run) -> Progress:
    """Load model, optimizer and random state of ``run`` from its checkpoint; refuse one that is
    unreadable, incomplete, or of another run (listing the differences)."""
    path = run.checkpoint
    remedy = "delete it, or start afresh with --fresh (train(..., resume=False))"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load raises many types for a truncated or foreign file
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise CheckpointError(f"checkpoint {path} is not readable ({type(exc).__name__}: {first}); it is "
                              f"truncated or not a checkpoint; {remedy}") from exc
    missing = [k for k in _CHECKPOINT_KEYS if not isinstance(state, dict) or k not in state]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {', '.join(missing)}; it is not a complete checkpoint of "
                              f"this package; {remedy}")
    diff = differences(state["identity"], run.identity)
    if diff:
        raise CheckpointError(f"checkpoint {path} belongs to another run; it differs (recorded -> this run) in "
                              + "; ".join(diff) + f". {remedy[0].upper()}{remedy[1:]}")
    if state["world_size"] != run.ctx.world_size:
        raise CheckpointError(f"checkpoint {path} was written by {state['world_size']} processes, this run has "
                              f"{run.ctx.world_size}; resume with the same number, or {remedy}")
    run.model.load_state_dict(state["model"])
    run.optimizer.load_state_dict(state["optimizer"])
    _set_rng_state(state["rng"][run.ctx.rank], run.device)
    return Progress(history=state["history"], step=state["step"], prior_wall=state["wall_time_s"],
                     resumed_at=state["resumed_at"] + [state["step"]], diverged_at=state["diverged_at"],
                     loss_sum=state["loss_sum"], loss_count=state["loss_count"], started_at=state["started_at"])


def _rng_state(device: torch.device) -> dict:
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def save_checkpoint(run, progress: Progress, loss_sum: torch.Tensor, wall_time_s: float) -> None:
    """Write ``run``'s checkpoint atomically (rank 0), after gathering every rank's random state."""
    if run.checkpoint is None:
        return
    rng = gather_objects(_rng_state(run.device), run.ctx)
    if run.ctx.is_main:
        buf = io.BytesIO()
        torch.save({
            "format": 2, "identity": run.identity, "config": run.config.to_dict(), "step": progress.step,
            "history": progress.history, "model": run.model.state_dict(), "optimizer": run.optimizer.state_dict(),
            "rng": rng, "world_size": run.ctx.world_size, "wall_time_s": wall_time_s,
            "started_at": progress.started_at, "resumed_at": progress.resumed_at, "loss_sum": float(loss_sum),
            "loss_count": progress.loss_count, "diverged_at": progress.diverged_at,
        }, buf)
        atomic_write_bytes(run.checkpoint, buf.getvalue())
    run.ctx.barrier()


