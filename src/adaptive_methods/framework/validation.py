"""Checks of hyperparameters: every message names the argument, the value and what is allowed."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, Union

__all__ = ["Schedule", "check_lr", "check_beta", "check_eps", "check_bounds", "beta_at"]

#: A hyperparameter that is a constant or a schedule ``t -> value`` (t = 1, 2, ...).
Schedule = Union[float, Callable[[int], float]]


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_lr(lr: Any, name: str = "lr") -> float:
    """A finite real number >= 0, as a float."""
    if not _is_real(lr):
        raise TypeError(f"{name} must be a real number, got {type(lr).__name__}: {lr!r}")
    if not math.isfinite(lr) or lr < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {lr}")
    return float(lr)


def check_beta(beta: Any, name: str) -> Schedule:
    """A constant in [0, 1), or a callable schedule (checked when it is evaluated)."""
    if callable(beta):
        return beta
    if not _is_real(beta):
        raise TypeError(f"{name} must be a real number in [0, 1) or a callable t -> value, got {type(beta).__name__}: {beta!r}")
    if not (0.0 <= beta < 1.0):  # NaN fails this comparison too
        raise ValueError(f"{name} must be in [0, 1), got {beta}")
    return float(beta)


def check_eps(eps: Any, name: str = "eps") -> float:
    """A finite real number >= 0, as a float."""
    if not _is_real(eps):
        raise TypeError(f"{name} must be a real number, got {type(eps).__name__}: {eps!r}")
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {eps}")
    return float(eps)


def check_bounds(bounds: Any, name: str = "bounds") -> tuple[float, float] | None:
    """None, or a pair (lo, hi) of real numbers with lo < hi."""
    if bounds is None:
        return None
    if not isinstance(bounds, Sequence) or len(bounds) != 2 or not all(_is_real(b) for b in bounds):
        raise TypeError(f"{name} must be None or a pair (lo, hi) of real numbers, got {bounds!r}")
    lo, hi = float(bounds[0]), float(bounds[1])
    if math.isnan(lo) or math.isnan(hi) or not lo < hi:
        raise ValueError(f"{name} must satisfy lo < hi, got ({lo}, {hi})")
    return (lo, hi)


def beta_at(beta: Schedule, t: int, name: str) -> float:
    """The value of a constant or a schedule at step t, checked to lie in [0, 1)."""
    if not callable(beta):
        return beta
    value = beta(t)
    if not _is_real(value) or not (0.0 <= value < 1.0):
        raise ValueError(f"{name} schedule must return values in [0, 1), got {value!r} at t={t}")
    return float(value)
