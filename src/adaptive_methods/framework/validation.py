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
    """Check a step size (or any finite number >= 0) and return it as a float.

    Parameters
    ----------
    lr : real number
        The value to check: finite and >= 0 (``bool`` is not a number here).
    name : str, default "lr"
        The argument's name, used in the error messages.

    Returns
    -------
    float
        ``lr`` as a float.

    Raises
    ------
    TypeError
        If ``lr`` is not a real number.
    ValueError
        If ``lr`` is negative, infinite or NaN.

    Examples
    --------
    >>> check_lr(1)
    1.0
    >>> check_lr(-0.5, "final_lr")
    Traceback (most recent call last):
    ...
    ValueError: final_lr must be a finite number >= 0, got -0.5
    """
    if not _is_real(lr):
        raise TypeError(f"{name} must be a real number, got {type(lr).__name__}: {lr!r}")
    if not math.isfinite(lr) or lr < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {lr}")
    return float(lr)


def check_beta(beta: Any, name: str) -> Schedule:
    """Check a decay rate beta: a constant in [0, 1), or a schedule ``t -> beta_t``.

    A callable is returned unchecked; its values are checked when :func:`beta_at`
    evaluates it at a step.

    Parameters
    ----------
    beta : real number or callable
        A constant in [0, 1) (NaN is refused), or a schedule t -> beta_t
        (t = 1, 2, ...).
    name : str
        The argument's name, used in the error messages.

    Returns
    -------
    float or callable
        ``beta`` as a float, or the schedule itself.

    Raises
    ------
    TypeError
        If ``beta`` is neither a real number nor callable.
    ValueError
        If ``beta`` is a number outside [0, 1).

    Examples
    --------
    >>> check_beta(0.9, "beta1")
    0.9
    >>> check_beta(1.0, "beta2")
    Traceback (most recent call last):
    ...
    ValueError: beta2 must be in [0, 1), got 1.0
    >>> schedule = check_beta(lambda t: 1 - 1 / t, "beta2")
    >>> schedule(4)
    0.75
    """
    if callable(beta):
        return beta
    if not _is_real(beta):
        raise TypeError(f"{name} must be a real number in [0, 1) or a callable t -> value, got {type(beta).__name__}: {beta!r}")
    if not (0.0 <= beta < 1.0):  # NaN fails this comparison too
        raise ValueError(f"{name} must be in [0, 1), got {beta}")
    return float(beta)


def check_eps(eps: Any, name: str = "eps") -> float:
    """Check an eps (the constant added to the denominator) and return it as a float.

    Parameters
    ----------
    eps : real number
        The value to check: finite and >= 0 (``bool`` is not a number here).
    name : str, default "eps"
        The argument's name, used in the error messages.

    Returns
    -------
    float
        ``eps`` as a float.

    Raises
    ------
    TypeError
        If ``eps`` is not a real number.
    ValueError
        If ``eps`` is negative, infinite or NaN.

    Examples
    --------
    >>> check_eps(0)
    0.0
    >>> check_eps("1e-8")
    Traceback (most recent call last):
    ...
    TypeError: eps must be a real number, got str: '1e-8'
    """
    if not _is_real(eps):
        raise TypeError(f"{name} must be a real number, got {type(eps).__name__}: {eps!r}")
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {eps}")
    return float(eps)


def check_bounds(bounds: Any, name: str = "bounds") -> tuple[float, float] | None:
    """Check the box F = [lo, hi]^d of a projection: None, or a pair with lo < hi.

    Parameters
    ----------
    bounds : (real, real) or None
        None (no projection), or a sequence of two real numbers lo < hi (infinite ends
        are allowed, NaN is not).
    name : str, default "bounds"
        The argument's name, used in the error messages.

    Returns
    -------
    (float, float) or None
        ``(lo, hi)`` as floats, or None.

    Raises
    ------
    TypeError
        If ``bounds`` is not None nor a sequence of two real numbers.
    ValueError
        If lo >= hi or either is NaN.

    Examples
    --------
    >>> check_bounds([-1, 1])
    (-1.0, 1.0)
    >>> check_bounds((1.0, 1.0))
    Traceback (most recent call last):
    ...
    ValueError: bounds must satisfy lo < hi, got (1.0, 1.0)
    """
    if bounds is None:
        return None
    if not isinstance(bounds, Sequence) or len(bounds) != 2 or not all(_is_real(b) for b in bounds):
        raise TypeError(f"{name} must be None or a pair (lo, hi) of real numbers, got {bounds!r}")
    lo, hi = float(bounds[0]), float(bounds[1])
    if math.isnan(lo) or math.isnan(hi) or not lo < hi:
        raise ValueError(f"{name} must satisfy lo < hi, got ({lo}, {hi})")
    return (lo, hi)


def beta_at(beta: Schedule, t: int, name: str) -> float:
    """beta_t: the value of a constant or of a schedule at step t.

    A constant is returned as it is (:func:`check_beta` checked it); a schedule's value
    is checked to be a real number in [0, 1).

    Parameters
    ----------
    beta : float or callable
        A constant, or a schedule t -> beta_t.
    t : int
        The step, t = 1, 2, ...
    name : str
        The hyperparameter's name, used in the error message.

    Returns
    -------
    float
        beta_t.

    Raises
    ------
    ValueError
        If the schedule's value at t is not a real number in [0, 1).

    Examples
    --------
    >>> beta_at(lambda t: 0.9 * 0.5 ** (t - 1), 3, "beta1")
    0.225
    >>> beta_at(lambda t: 1.0, 1, "beta1")
    Traceback (most recent call last):
    ...
    ValueError: beta1 schedule must return values in [0, 1), got 1.0 at t=1
    """
    if not callable(beta):
        return beta
    value = beta(t)
    if not _is_real(value) or not (0.0 <= value < 1.0):
        raise ValueError(f"{name} schedule must return values in [0, 1), got {value!r} at t={t}")
    return float(value)
