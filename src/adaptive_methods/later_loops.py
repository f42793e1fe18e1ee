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
    """Iterates and inverse learning rates of a later method's paper form on g_t x.

    The paper form is the registry's
    (:meth:`~adaptive_methods.registry.MethodInfo.paper`): alpha_t = alpha / sqrt(t), a
    constant beta1, no eps unless the method's recurrence has one, the projection
    x_{t+1} = min(max(x_t - alpha_t u_t, lo), hi), and
    m_t = beta1 m_{t-1} + (1 - beta1) g_t, m_0 = v_0 = 0.  The direction u_t and the
    inverse learning rate reported, by the method's loop kind
    (:attr:`~adaptive_methods.registry.MethodInfo.loop`)::

        yogi       v_t = v_{t-1} - (1 - beta2) sign(v_{t-1} - g_t^2) g_t^2,
                   u_t = m_t / sqrt(v_t),             inverse sqrt(v_t) / alpha_t
        adabound   eta = clip(alpha / sqrt(v_t), eta_l(t), eta_u(t)),
                   eta_l(t) = alpha (1 - 1/(gamma t + 1)),
                   eta_u(t) = alpha (1 + 1/(gamma t)),   gamma = 1 - beta2,
                   u_t = eta m_t / alpha,             inverse sqrt(t) / eta
        amsbound   as adabound, with vhat_t = max(vhat_{t-1}, v_t) in place of v_t
        adabelief  s_t = beta2 s_{t-1} + (1 - beta2)(g_t - m_t)^2 + eps,
                   u_t = m_t / (sqrt(s_t) + eps),   inverse (sqrt(s_t) + eps) / alpha_t
        radam      mhat_t = m_t / (1 - beta1^t),   u_t = mhat_t / sqrt(V_t),
                   sqrt(V_t) = sqrt(v_t) / (r_t sqrt(1 - beta2^t)) if rho_t > 5, else 1,
                   inverse sqrt(V_t) (1 - beta1^t) / alpha_t
        nadam      u_t = phi_t / sqrt(v_t / (1 - beta2^t)),
                   inverse sqrt(v_t / (1 - beta2^t)) / alpha_t
        adamw      u_t = m_t / sqrt(v_t) + lambda x_t,  inverse sqrt(v_t) / alpha_t

    (v_t is Adam's beta2 v_{t-1} + (1 - beta2) g_t^2 where not stated; r_t, rho_t,
    phi_t as in :class:`~adaptive_methods.later_methods.RAdam` and
    :class:`~adaptive_methods.later_methods.NAdam`, with NAdam's momentum decay 4e-3.)
    AdaBelief's eps and AdamW's lambda are those of the registry's paper form (1e-8 and
    1e-2).  Where sqrt(v_t) = 0 the quotient is 0 (the pseudo-inverse of V_t, as the
    optimizers use), except in AdaBound's clip, where alpha / 0 = inf is clipped to
    eta_u(t).

    Parameters
    ----------
    method : str
        One of :data:`LOOPED` (``"yogi"``, ``"adabound"``, ``"amsbound"``,
        ``"adabelief"``, ``"radam"``, ``"nadam"``, ``"adamw"``).
    grads : array_like of shape (T,) or (B, T)
        g_1 .. g_T, finite real numbers, T >= 1.
    alpha : float or array_like of shape (B,)
        The step size, finite and > 0.
    beta1, beta2 : float or array_like of shape (B,)
        Each in [0, 1).
    x1 : float or array_like of shape (B,), default 0.0
        The first iterate, in [lo, hi].
    bounds : (float, float), default (-1.0, 1.0)
        The box [lo, hi] shared by all problems, lo < hi.

    Returns
    -------
    xs : numpy.ndarray of float64
        x_1 .. x_{T+1}, shape (B, T+1), or (T+1,) for a (T,) ``grads``.
    inverse : numpy.ndarray of float64
        The inverse learning rate after each step (above; times m's divisor, as
        :meth:`~adaptive_methods.framework.GenericAdaptive.inverse_learning_rates`
        reports it), shape (B, T), or (T,) for a (T,) ``grads``.

    Raises
    ------
    TypeError
        If ``alpha``, ``beta1``, ``beta2`` or ``x1`` is a bool, a str or None, or a
        bound is not a number.
    ValueError
        If ``method`` is not one of :data:`LOOPED`, ``grads`` has the wrong shape, is
        empty or not finite (or does not convert to floats), a hyperparameter or ``x1``
        has the wrong shape or is out of its range, or lo >= hi.

    Examples
    --------
    Yogi: v_1 = (1 - beta2) g_1^2 = 0.04, so the first step is 0.1 * 0.2 / 0.2 and the
    first inverse learning rate sqrt(0.04) / 0.1:

    >>> xs, inverse = paper_loop("yogi", [2.0, -1.0, -1.0], alpha=0.1, beta1=0.9,
    ...                          beta2=0.99)
    >>> xs.round(4).tolist(), inverse.round(4).tolist()
    ([0.0, -0.1, -0.1253, -0.1187], [2.0, 3.1623, 4.2426])

    A batch of two step sizes (RAdam's first steps are momentum SGD):

    >>> xs, inverse = paper_loop("radam", [[2.0, -1.0, -1.0]] * 2, alpha=[0.1, 0.2],
    ...                          beta1=0.9, beta2=0.99)
    >>> xs[:, 1].tolist(), inverse.shape
    ([-0.2, -0.4], (2, 3))
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
