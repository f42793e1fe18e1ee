"""The later methods' paper forms on 1-D linear problems, one step at a time in NumPy.

The simulator (:mod:`adaptive_methods.online`) scans the recurrences of the paper's
methods in closed form; the methods that came after AMSGrad have recurrences outside its
kinds (a sign, a clip, a rectification, a look-ahead, the iterate in the step: see each
registry entry's ``not_simulated``).  :func:`paper_loop` runs their paper forms, as the
registry's :meth:`~adaptive_methods.registry.MethodInfo.paper` builds them, as one loop over
t, vectorised over B problems: tens of microseconds per step for a handful of problems
where the torch optimizer needs hundreds.  It returns the iterates and the inverse
learning rates sqrt(V_t) / alpha_t (times m's divisor, as
:meth:`~adaptive_methods.framework.GenericAdaptive.inverse_learning_rates` reports them),
and is tested equal to the torch optimizers (``tests/test_later_loops.py``).

The hyperparameters that are not beta1, beta2 and alpha (AdaBelief's eps, AdamW's weight
decay, NAdam's momentum decay, AdaBound's bounds) are read from the registry's paper form,
so that the loop and the optimizer cannot disagree about them.
"""

from __future__ import annotations

import math
import numpy as np

from .later_methods import NADAM_MOMENTUM_DECAY
from .registry import METHODS

__all__ = ["LOOPED", "paper_loop"]

#: The methods :func:`paper_loop` runs: the registered ones that declare a loop kind.
LOOPED = tuple(name for name, info in METHODS.items() if info.loop)


def _per_row(name: str, value, rows: int, *, low: float, high: float, high_open: bool) -> np.ndarray:
    if isinstance(value, (bool, str, bytes)) or value is None:
        raise TypeError(f"{name} must be a number or an array of shape ({rows},), got {value!r}")
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.size not in (1, rows)):
        raise ValueError(f"{name} must be a number or an array of shape ({rows},), got {value!r}")
    ok = (arr >= low) & ((arr < high) if high_open else (arr <= high))
    if not np.all(ok):
        bad = np.atleast_1d(arr)[~np.atleast_1d(ok)][0]
        raise ValueError(f"{name} must be in [{low}, {high}{')' if high_open else ']'}, got {bad}")
    return np.broadcast_to(arr, (rows,)).astype(np.float64)


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, and 0 where b = 0 (the pseudo-inverse of V_t, as the optimizers use)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0.0, 0.0, a / b)


def paper_loop(method: str, grads, *, alpha, beta1, beta2, x1=0.0, bounds=(-1.0, 1.0)):
    """Iterates and inverse learning rates of a later method's paper form on f_t(x) = g_t x.

    ``grads`` has shape (B, T) or (T,); ``alpha`` (> 0), ``beta1``, ``beta2`` (in [0, 1))
    and ``x1`` are numbers or arrays of shape (B,).  Returns ``(xs, inverse)``: x_1 .. x_{T+1},
    shape (B, T+1), and the inverse learning rate after each step, shape (B, T) (without the
    batch axis for a (T,) input).
    """
    if not isinstance(method, str) or method not in LOOPED:
        raise ValueError(f"method must be one of {LOOPED}, got {method!r}")
    g = np.asarray(grads, dtype=np.float64)
    single = g.ndim == 1
    g = np.atleast_2d(g)
    if g.ndim != 2 or g.shape[1] == 0:
        raise ValueError(f"grads must have shape (T,) or (B, T) with T >= 1, got shape {np.shape(grads)}")
    if not np.all(np.isfinite(g)):
        raise ValueError("grads must be finite")
    B, T = g.shape
    alpha = _per_row("alpha", alpha, B, low=0.0, high=math.inf, high_open=True)
    if np.any(alpha == 0.0):
        raise ValueError("alpha must be > 0, got 0.0")
    b1 = _per_row("beta1", beta1, B, low=0.0, high=1.0, high_open=True)
    b2 = _per_row("beta2", beta2, B, low=0.0, high=1.0, high_open=True)
    lo, hi = float(bounds[0]), float(bounds[1])
    if not lo < hi:
        raise ValueError(f"bounds must satisfy lo < hi, got {bounds!r}")
    x = _per_row("x1", x1, B, low=lo, high=hi, high_open=False).copy()
    kwargs = METHODS[method].paper_kwargs(0.9, 0.99, None)
    kind = METHODS[method].loop
    bounded, running_max = kind in ("bounded", "bounded_max"), kind == "bounded_max"

    xs, inverse = np.empty((B, T + 1)), np.empty((B, T))
    xs[:, 0] = x
    m, v, vmax = np.zeros(B), np.zeros(B), np.zeros(B)
    mu_product = np.ones(B)
    b1_power, b2_power = np.ones(B), np.ones(B)  # beta^t, kept up to date rather than recomputed
    rho_inf = 2.0 / (1.0 - b2) - 1.0
    for t in range(1, T + 1):
        b1_power, b2_power = b1_power * b1, b2_power * b2
        gt = g[:, t - 1]
        alpha_t = alpha / math.sqrt(t)
        m = b1 * m + (1.0 - b1) * gt
        if kind == "sign_controlled":
            square = gt * gt
            v = v - (1.0 - b2) * np.sign(v - square) * square
            sqrt_v = np.sqrt(v)
            step, inv = _divide(m, sqrt_v), sqrt_v / alpha_t
        elif bounded:
            v = b2 * v + (1.0 - b2) * gt * gt
            vmax = np.maximum(vmax, v)
            final, gamma = alpha, 1.0 - b2  # the paper form: eta* = alpha, gamma = 1 - beta2
            low, high = final * (1.0 - 1.0 / (gamma * t + 1.0)), final * (1.0 + 1.0 / (gamma * t))
            with np.errstate(divide="ignore"):
                eta = np.clip(alpha / np.sqrt(vmax if running_max else v), low, high)
            step, inv = eta * m / alpha, math.sqrt(t) / eta
        elif kind == "belief":
            eps = kwargs["eps"]
            v = b2 * v + (1.0 - b2) * (gt - m) ** 2 + eps
            denom = np.sqrt(v) + eps
            step, inv = _divide(m, denom), denom / alpha_t
        elif kind == "rectified":
            v = b2 * v + (1.0 - b2) * gt * gt
            correction1, correction2 = 1.0 - b1_power, 1.0 - b2_power
            rho_t = rho_inf - 2.0 * t * b2_power / correction2
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                sqrt_v = np.where(rho_t > 5.0, np.sqrt(v) / (r * np.sqrt(correction2)), 1.0)
            step, inv = _divide(m / correction1, sqrt_v), sqrt_v * correction1 / alpha_t
        elif kind == "nesterov":
            mu = b1 * (1.0 - 0.5 * 0.96 ** (t * NADAM_MOMENTUM_DECAY))
            mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * NADAM_MOMENTUM_DECAY))
            mu_product = mu_product * mu
            look_ahead = (1.0 - mu) / (1.0 - mu_product) * gt + mu_next / (1.0 - mu_product * mu_next) * m
            v = b2 * v + (1.0 - b2) * gt * gt
            denom = np.sqrt(v / (1.0 - b2_power))
            step, inv = _divide(look_ahead, denom), denom / alpha_t
        elif kind == "decoupled_decay":
            v = b2 * v + (1.0 - b2) * gt * gt
            sqrt_v = np.sqrt(v)
            step, inv = _divide(m, sqrt_v) + kwargs["weight_decay"] * x, sqrt_v / alpha_t
        else:
            raise ValueError(f"{method} is registered without a recurrence the simulator scans, and has no loop here")
        x = np.clip(x - alpha_t * step, lo, hi)
        xs[:, t], inverse[:, t - 1] = x, inv
    return (xs[0], inverse[0]) if single else (xs, inverse)
