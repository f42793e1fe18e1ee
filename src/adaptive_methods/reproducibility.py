"""One place that fixes every random seed the book uses.

Chapters, tests and experiments call :func:`seed_everything` instead of seeding
``random``, NumPy and torch separately, so "seeds fixed" means the same thing
everywhere.
"""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["DEFAULT_SEED", "seed_everything"]

#: The seed of :func:`seed_everything` when none is given (2018-04-30, ICLR 2018, the
#: paper's conference, as a memorable constant).
DEFAULT_SEED = 20180430


def seed_everything(
    seed: int = DEFAULT_SEED, *, deterministic: bool = True
) -> np.random.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) and return a fresh NumPy Generator.

    With ``deterministic=True`` torch is asked for deterministic kernels where it has
    them (``warn_only`` so that an operation without a deterministic kernel still runs).
    The setting is global and stays after the call; ``deterministic=False`` leaves it
    as it was.

    Parameters
    ----------
    seed : int, default DEFAULT_SEED
        The seed, >= 0. Python's ``random``, torch and the returned Generator get it as
        it is; NumPy's global generator gets ``seed % 2**32`` (its seeds have 32 bits).
    deterministic : bool, default True
        Also call ``torch.use_deterministic_algorithms(True, warn_only=True)``.

    Returns
    -------
    numpy.random.Generator
        ``numpy.random.default_rng(seed)``: a new generator, the same stream for the
        same seed.

    Raises
    ------
    TypeError
        If ``seed`` is not an int (a bool is not taken for one).
    ValueError
        If ``seed`` is negative.

    Examples
    --------
    >>> import torch
    >>> rng = seed_everything(0, deterministic=False)
    >>> first = torch.rand(2), rng.integers(100, size=3)
    >>> rng = seed_everything(0, deterministic=False)
    >>> second = torch.rand(2), rng.integers(100, size=3)
    >>> torch.equal(first[0], second[0]), bool((first[1] == second[1]).all())
    (True, True)
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
