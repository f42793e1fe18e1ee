"""One place that fixes every random seed the book uses.

Chapters, tests and experiments call :func:`seed_everything` instead of seeding
``random``, NumPy and torch separately, so "seeds fixed" means the same thing everywhere.
"""

from __future__ import annotations

import random

import numpy as np
import torch

DEFAULT_SEED = 20180430  # ICLR 2018: the paper's conference, as a memorable constant


def seed_everything(seed: int = DEFAULT_SEED, *, deterministic: bool = True) -> np.random.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) and return a fresh NumPy Generator.

    With ``deterministic=True`` torch is asked for deterministic kernels where it has them
    (``warn_only`` so that an operation without a deterministic kernel still runs).
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}: {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)
