"""Data-parallel training with torch.distributed: the pieces the training loop needs.

Under ``torchrun`` (which sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
``MASTER_PORT``) the loop joins the process group itself: NCCL on CUDA, gloo on the CPU.
Every rank draws the same global minibatch and keeps its own slice of it; the loss on a
slice is scaled so that DistributedDataParallel's average of the gradients equals the
gradient of the mean loss over the whole global batch, which is what a single process
computes. The parameters then stay identical on all ranks and match a single-process run
with the same global batch up to the order of floating-point additions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["DistContext", "setup_distributed", "shard", "all_reduce_sum", "gather_objects"]


@dataclass
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None
    owns_group: bool = False

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self.owns_group = False


def setup_distributed(device_type: str) -> DistContext:
    """Join (or reuse) a process group when more than one process takes part.

    A group that the caller already initialised (the tests spawn ranks themselves) is used
    as it is; otherwise ``WORLD_SIZE > 1`` in the environment starts one.
    """
    if dist.is_available() and dist.is_initialized():
        return DistContext(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())),
                           dist.get_backend(), owns_group=False)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    if not dist.is_available():
        raise RuntimeError(f"WORLD_SIZE={world} but this torch build has no torch.distributed")
    backend = "nccl" if device_type == "cuda" else "gloo"
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device_type == "cuda":
        torch.cuda.set_device(local_rank)
    dist.init_process_group(backend=backend)
    return DistContext(dist.get_rank(), dist.get_world_size(), local_rank, backend, owns_group=True)


def shard(indices: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """This rank's contiguous slice of a global batch (sizes differ by at most one)."""
    if not ctx.enabled:
        return indices
    return torch.tensor_split(indices, ctx.world_size)[ctx.rank]


def all_reduce_sum(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    if ctx.enabled:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def gather_objects(obj, ctx: DistContext) -> list:
    """``[obj of rank 0, obj of rank 1, ...]`` on every rank."""
    if not ctx.enabled:
        return [obj]
    out = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out
