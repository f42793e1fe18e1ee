"""seed_everything: a seed is a non-negative int, and the same seed gives the same numbers."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from adaptive_methods.reproducibility import DEFAULT_SEED, seed_everything


@pytest.mark.parametrize("seed, error, message", [
    (-1, ValueError, "seed must be >= 0, got -1"),
    (1.5, TypeError, "seed must be an int, got float: 1.5"),
    (True, TypeError, "seed must be an int, got bool: True"),
])
def test_a_seed_is_a_non_negative_int(seed, error, message):
    with pytest.raises(error, match=message):
        seed_everything(seed, deterministic=False)


def test_the_same_seed_gives_the_same_numbers_from_every_generator():
    def draw(seed):
        rng = seed_everything(seed, deterministic=False)
        return random.random(), np.random.rand(), torch.rand(()).item(), rng.random()

    assert draw(DEFAULT_SEED) == draw(DEFAULT_SEED)
    assert all(a != b for a, b in zip(draw(DEFAULT_SEED), draw(DEFAULT_SEED + 1)))
