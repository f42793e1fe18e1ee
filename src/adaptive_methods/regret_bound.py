"""Theorem 4 of Reddi, Kale & Kumar (2018), evaluated on a run.

For AMSGrad (Algorithm 2) with alpha_t = alpha / sqrt(t), beta1_t <= beta1 = beta1_1 and
gamma = beta1 / sqrt(beta2) < 1, on a feasible set of sup-norm diameter D_inf::

    R_T <= D_inf^2 sqrt(T) / (alpha (1 - beta1)) sum_i sqrt(vhat_{T,i})        (first)
         + c_mid D_inf^2 sum_i sum_{t<=T} beta1_t sqrt(vhat_{t,i}) / alpha_t    (middle)
         + alpha sqrt(1 + log T) / ((1 - beta1)^2 (1 - gamma) sqrt(1 - beta2))
               * sum_i ||g_{1:T,i}||_2                                          (third)

with c_mid = 1 / (2 (1 - beta1)) as the ICLR 2018 paper states it (``version="iclr"``) and
1 / (1 - beta1)^2 as a transcription of arXiv:1904.09237 reports it (``version="arxiv"``,
the larger of the two).  Every quantity on the right is a function of the gradients the run
saw and of its vhat_t, so the bound can be computed for each horizon T of a run and put
next to the measured regret R_T.

Also here: the weights sqrt(vhat_t) / (alpha_t (1 - beta1_t)) whose monotonicity the
published proof assumes (Tran & Phong, 2019), and Corollary 1's bound on the middle term.

Gradients are arrays of shape (T,) (one coordinate) or (d, T) (coordinates as rows), the
layout :func:`adaptive_methods.online.simulate` uses for a d-dimensional box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy.signal import lfilter

__all__ = [
    "BoundTerms",
    "amsgrad_vhat",
    "beta1_schedule",
    "theorem4_bound",
    "corollary1_middle",
    "telescoping_weights",
    "VERSIONS",
]

#: Coefficient of the middle term: the ICLR 2018 statement, or arXiv:1904.09237's.
VERSIONS = ("iclr", "arxiv")


# ---------------------------------------------------------------------------------------
# Input checking: every message names the argument, the value and what is allowed.
# ---------------------------------------------------------------------------------------


def _real(
    name: str, value, *, low: float, high: float, low_open: bool, high_open: bool
) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(
            f"{name} must be a real number, got {type(value).__name__}: {value!r}"
        )
    value = float(value)
    ok_low = value > low if low_open else value >= low
    ok_high = value < high if high_open else value <= high
    if math.isnan(value) or not (ok_low and ok_high):
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be in {left}{low}, {high}{right}, got {value}")
    return value


def _grads(grads, name: str = "grads") -> np.ndarray:
    """Gradients as a float64 (d, T) array."""
    if isinstance(grads, (str, bytes)) or grads is None:
        raise TypeError(
            f"{name} must be an array of real numbers, got {type(grads).__name__}"
        )
    g = np.asarray(grads)
    if g.dtype == bool or g.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {g.dtype}")
    if g.ndim not in (1, 2) or g.size == 0:
        raise ValueError(
            f"{name} must have shape (T,) or (d, T) with T >= 1, got shape {g.shape}"
        )
    g = np.atleast_2d(g.astype(np.float64))
    if not np.all(np.isfinite(g)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return g


def beta1_schedule(
    T: int, beta1: float, beta1_decay: float | None = None, beta1_t=None
) -> np.ndarray:
    """beta1_1 .. beta1_T: beta1 * beta1_decay^(t-1), or the given array, or constant beta1.

    Theorem 4 asks 0 <= beta1_t <= beta1 = beta1_1; a schedule that breaks this is refused.

    Parameters
    ----------
    T : int
        The number of steps, >= 1.
    beta1 : float
        beta1 = beta1_1, in [0, 1).
    beta1_decay : float or None, default None
        lambda in (0, 1] of beta1_t = beta1 lambda^(t-1) (Corollary 1).
    beta1_t : array of shape (T,) or None, default None
        The schedule itself, with beta1_t[0] = beta1 and 0 <= beta1_t <= beta1; not with
        ``beta1_decay``.

    Returns
    -------
    numpy.ndarray
        beta1_1 .. beta1_T, shape (T,).

    Raises
    ------
    TypeError
        If ``beta1`` or ``beta1_decay`` is not a real number.
    ValueError
        If a value is out of its range, both schedules are given, or ``beta1_t`` breaks
        Theorem 4's condition.

    Examples
    --------
    >>> beta1_schedule(3, 0.9, beta1_decay=0.5)
    array([0.9  , 0.45 , 0.225])
    >>> beta1_schedule(2, 0.9)
    array([0.9, 0.9])
    """
    beta1 = _real("beta1", beta1, low=0.0, high=1.0, low_open=False, high_open=True)
    if beta1_decay is not None and beta1_t is not None:
        raise ValueError("give beta1_decay or beta1_t, not both")
    if beta1_t is not None:
        b = np.asarray(beta1_t, dtype=np.float64)
        if b.shape != (T,):
            raise ValueError(f"beta1_t must have shape (T,) = ({T},), got {b.shape}")
        if np.any(np.isnan(b)) or np.any(b < 0) or np.any(b > beta1) or b[0] != beta1:
            raise ValueError(
                f"beta1_t must satisfy 0 <= beta1_t <= beta1 = beta1_t[0] = {beta1} (Theorem 4), got values in [{np.nanmin(b)}, {np.nanmax(b)}] and beta1_t[0] = {b[0]}"
            )
        return b
    if beta1_decay is None:
        return np.full(T, beta1)
    lam = _real(
        "beta1_decay", beta1_decay, low=0.0, high=1.0, low_open=True, high_open=False
    )
    return beta1 * lam ** np.arange(T, dtype=np.float64)


def amsgrad_vhat(grads, beta2: float) -> np.ndarray:
    """vhat_t = max(vhat_{t-1}, v_t), v_t = beta2 v_{t-1} + (1 - beta2) g_t^2, v_0 = vhat_0 = 0.

    Algorithm 2's second moment, for t = 1 .. T along the last axis; shape of ``grads``.

    Parameters
    ----------
    grads : array of shape (T,) or (d, T)
        Finite real gradients g_1 .. g_T (coordinates as rows), T >= 1.
    beta2 : float
        In [0, 1).

    Returns
    -------
    numpy.ndarray
        vhat_1 .. vhat_T, the shape of ``grads``.

    Raises
    ------
    TypeError
        If ``grads`` does not hold real numbers or ``beta2`` is not a real number.
    ValueError
        If ``grads`` has another shape or non-finite entries, or ``beta2`` is outside [0, 1).

    Examples
    --------
    The maximum keeps v_1 = 0.5 at t = 2, where v_2 = 0.25:

    >>> amsgrad_vhat([1.0, 0.0, 2.0], beta2=0.5)
    array([0.5  , 0.5  , 2.125])
    """
    beta2 = _real("beta2", beta2, low=0.0, high=1.0, low_open=False, high_open=True)
    g = _grads(grads)
    v = lfilter([1.0 - beta2], [1.0, -beta2], g * g, axis=-1)
    vhat = np.maximum.accumulate(v, axis=-1)
    return vhat[0] if np.ndim(grads) == 1 else vhat


@dataclass(frozen=True)
class BoundTerms:
    """The three terms of Theorem 4's right-hand side at the horizons ``T`` (each shape (k,)).

    Returned by :func:`theorem4_bound`; ``total`` is their sum.

    Parameters
    ----------
    T : numpy.ndarray
        The horizons (ints >= 1).
    first, middle, third : numpy.ndarray
        The terms at each horizon (see the module docstring), each >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> terms = BoundTerms(T=np.array([1]), first=np.array([1.0]), middle=np.array([2.0]),
    ...                    third=np.array([3.0]))
    >>> terms.total
    array([6.])
    """

    T: np.ndarray
    first: np.ndarray
    middle: np.ndarray
    third: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.first + self.middle + self.third


def _vhat_of(g: np.ndarray, beta2: float, vhat) -> np.ndarray:
    """The run's vhat_t, checked, or Algorithm 2's recurrence on ``g`` when None."""
    if vhat is None:
        return np.atleast_2d(amsgrad_vhat(g, beta2))
    vh = np.atleast_2d(np.asarray(vhat, dtype=np.float64))
    if vh.shape != g.shape:
        raise ValueError(f"vhat must have the shape of grads, {g.shape}, got {vh.shape}")
    if not np.all(np.isfinite(vh)) or np.any(vh < 0):
        raise ValueError("vhat must be finite and >= 0")
    return vh


def theorem4_bound(
    grads,
    *,
    alpha: float,
    beta1: float,
    beta2: float,
    diameter: float,
    beta1_decay: float | None = None,
    beta1_t=None,
    vhat=None,
    horizons=None,
    version: str = "iclr",
) -> BoundTerms:
    """The right-hand side of Theorem 4, term by term, for every horizon of a run.

    Parameters
    ----------
    grads : array (T,) or (d, T)
        The gradients g_1 .. g_T the run saw (coordinates as rows).
    alpha, beta1, beta2 : float
        The run's hyperparameters: alpha_t = alpha / sqrt(t) (alpha > 0),
        beta1 = beta1_1 in [0, 1), beta2 in (0, 1), with
        gamma = beta1 / sqrt(beta2) < 1.
    diameter : float
        D_inf >= 0, the sup-norm diameter of the feasible set (``hi - lo`` for a box).
    beta1_decay, beta1_t : float or array of shape (T,), optional
        The schedule beta1_t = beta1 * beta1_decay^(t-1), or the array itself (see
        :func:`beta1_schedule`); neither means a constant beta1.
    vhat : array like ``grads``, optional
        The run's own vhat_t (e.g. read from an optimizer); computed from ``grads`` with
        Algorithm 2's recurrence when omitted.
    horizons : int or array of ints in [1, T], optional
        The horizons T at which to evaluate the bound; all of 1 .. T by default.
    version : "iclr" | "arxiv"
        The coefficient of the middle term (see the module docstring).

    Returns
    -------
    BoundTerms
        The horizons and the three terms at each.

    Raises
    ------
    TypeError
        If an argument has the wrong type (the message names it).
    ValueError
        If a value is out of its range: alpha > 0, beta1 in [0, 1), beta2 in (0, 1),
        gamma = beta1 / sqrt(beta2) < 1, diameter >= 0, horizons in [1, T].

    Examples
    --------
    >>> terms = theorem4_bound([1.0, -1.0, 1.0, -1.0], alpha=0.5, beta1=0.5, beta2=0.9,
    ...                        diameter=2.0, horizons=[4])
    >>> terms.T, terms.total.round(3)
    (array([4]), array([72.109]))
    """
    g = _grads(grads)
    T = g.shape[1]
    alpha = _real("alpha", alpha, low=0.0, high=math.inf, low_open=True, high_open=True)
    beta1 = _real("beta1", beta1, low=0.0, high=1.0, low_open=False, high_open=True)
    beta2 = _real("beta2", beta2, low=0.0, high=1.0, low_open=True, high_open=True)
    D = _real("diameter", diameter, low=0.0, high=math.inf, low_open=False,
              high_open=True)
    gamma = beta1 / math.sqrt(beta2)
    if not gamma < 1.0:
        raise ValueError(
            f"Theorem 4 needs gamma = beta1 / sqrt(beta2) < 1, got beta1={beta1}, "
            f"beta2={beta2}, gamma={gamma}"
        )
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, got {version!r}")
    b1 = beta1_schedule(T, beta1, beta1_decay, beta1_t)
    # sqrt(vhat) is 0 where every gradient so far was 0: that coordinate adds nothing
    sqrt_vhat = np.sqrt(_vhat_of(g, beta2, vhat))
    idx = _horizons(horizons, T)
    t, Th = np.arange(1, T + 1, dtype=np.float64), idx + 1.0
    first = D**2 * np.sqrt(Th) / (alpha * (1 - beta1)) * sqrt_vhat[:, idx].sum(axis=0)
    c_mid = 1 / (2 * (1 - beta1)) if version == "iclr" else 1 / (1 - beta1) ** 2
    # beta1_t sqrt(vhat_t) / alpha_t, alpha_t = alpha / sqrt(t), summed over coordinates
    per_step = b1 * np.sqrt(t) / alpha * sqrt_vhat.sum(axis=0)
    middle = c_mid * D**2 * np.cumsum(per_step)[idx]
    # sum_i ||g_{1:T,i}||_2
    grad_norms = np.sqrt(np.cumsum(g * g, axis=-1)[:, idx]).sum(axis=0)
    scale = alpha * np.sqrt(1 + np.log(Th))
    third = scale / ((1 - beta1) ** 2 * (1 - gamma) * math.sqrt(1 - beta2)) * grad_norms
    return BoundTerms(T=idx + 1, first=first, middle=middle, third=third)


def _horizons(horizons, T: int) -> np.ndarray:
    """0-based indices of the requested horizons."""
    if horizons is None:
        return np.arange(T)
    h = np.atleast_1d(np.asarray(horizons))
    if h.dtype.kind not in "iu" or h.ndim != 1:
        raise TypeError(
            f"horizons must be an int or a 1-D array of ints, got {horizons!r}"
        )
    if np.any(h < 1) or np.any(h > T):
        raise ValueError(
            f"horizons must lie in [1, T] = [1, {T}], got values in [{h.min()}, {h.max()}]"
        )
    return h.astype(np.intp) - 1


def corollary1_middle(
    *,
    alpha: float,
    beta1: float,
    beta1_decay: float,
    diameter: float,
    grad_bound: float,
    d: int = 1,
    printed: bool = False,
    version: str = "iclr",
) -> float:
    """Corollary 1's bound on the middle term for beta1_t = beta1 * lambda^(t-1).

    sqrt(vhat_{t,i}) <= G_inf and sum_t lambda^(t-1) sqrt(t) <= 1 / (1 - lambda)^2 give
    d beta1 D^2 G / (2 alpha (1 - beta1) (1 - lambda)^2) for the ICLR coefficient.  The paper
    prints it without the factor d / alpha (``printed=True`` returns that form).

    Parameters
    ----------
    alpha : float
        alpha of alpha_t = alpha / sqrt(t), > 0.
    beta1 : float
        In [0, 1).
    beta1_decay : float
        lambda, in [0, 1).
    diameter : float
        D_inf, >= 0.
    grad_bound : float
        G_inf >= 0, a bound on the absolute value of every gradient entry g_{t,i}.
    d : int, default 1
        The dimension, >= 1.
    printed : bool, default False
        Return the form the paper prints (without d / alpha).
    version : {"iclr", "arxiv"}, default "iclr"
        The coefficient of the middle term.

    Returns
    -------
    float
        The bound on the middle term.

    Raises
    ------
    TypeError
        If a number is not a real number.
    ValueError
        If a value is out of its range, or ``version`` is unknown.

    Examples
    --------
    >>> setting = dict(alpha=0.5, beta1=0.9, beta1_decay=0.9, diameter=2.0, grad_bound=1.0)
    >>> round(corollary1_middle(**setting), 6)
    3600.0
    >>> round(corollary1_middle(**setting, printed=True), 6)
    1800.0
    """
    alpha = _real("alpha", alpha, low=0.0, high=math.inf, low_open=True, high_open=True)
    beta1 = _real("beta1", beta1, low=0.0, high=1.0, low_open=False, high_open=True)
    lam = _real(
        "beta1_decay", beta1_decay, low=0.0, high=1.0, low_open=False, high_open=True
    )
    diameter = _real(
        "diameter", diameter, low=0.0, high=math.inf, low_open=False, high_open=True
    )
    grad_bound = _real(
        "grad_bound", grad_bound, low=0.0, high=math.inf, low_open=False, high_open=True
    )
    if isinstance(d, bool) or not isinstance(d, Integral) or d < 1:
        raise ValueError(f"d must be an int >= 1, got {d!r}")
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, got {version!r}")
    c_mid = (
        1.0 / (2.0 * (1.0 - beta1)) if version == "iclr" else 1.0 / (1.0 - beta1) ** 2
    )
    scale = 1.0 if printed else d / alpha
    return scale * c_mid * beta1 * diameter**2 * grad_bound / (1.0 - lam) ** 2


def telescoping_weights(vhat, *, alpha: float, beta1_t) -> np.ndarray:
    """c_t = sqrt(vhat_t) / (alpha_t (1 - beta1_t)), alpha_t = alpha / sqrt(t), t = 1 .. T.

    The published proof of Theorem 4 telescopes sum_t c_t ((x_t - x*)^2 - (x_{t+1} - x*)^2)
    as if c_t never decreased; AMSGrad's max only makes sqrt(vhat_t) / alpha_t non-decreasing.
    ``vhat`` has shape (T,) or (d, T); ``beta1_t`` shape (T,).

    Parameters
    ----------
    vhat : array of shape (T,) or (d, T)
        vhat_1 .. vhat_T, finite and >= 0.
    alpha : float
        alpha of alpha_t = alpha / sqrt(t), > 0.
    beta1_t : array of shape (T,)
        beta1_1 .. beta1_T, each in [0, 1).

    Returns
    -------
    numpy.ndarray
        c_1 .. c_T, the shape of ``vhat``.

    Raises
    ------
    TypeError
        If ``alpha`` is not a real number.
    ValueError
        If an array has the wrong shape or values out of range, or ``alpha`` <= 0.

    Examples
    --------
    >>> telescoping_weights([1.0, 1.0, 4.0], alpha=1.0, beta1_t=[0.5, 0.5, 0.5]).round(4)
    array([2.    , 2.8284, 6.9282])
    """
    alpha = _real("alpha", alpha, low=0.0, high=math.inf, low_open=True, high_open=True)
    vh = np.asarray(vhat, dtype=np.float64)
    if (
        vh.ndim not in (1, 2)
        or vh.size == 0
        or not np.all(np.isfinite(vh))
        or np.any(vh < 0)
    ):
        raise ValueError(
            f"vhat must be a finite array >= 0 of shape (T,) or (d, T), got shape {vh.shape}"
        )
    T = vh.shape[-1]
    b = np.asarray(beta1_t, dtype=np.float64)
    if b.shape != (T,) or np.any(np.isnan(b)) or np.any(b < 0) or np.any(b >= 1):
        raise ValueError(
            f"beta1_t must have shape (T,) = ({T},) and values in [0, 1), got shape {b.shape}"
        )
    t = np.arange(1, T + 1, dtype=np.float64)
    return np.sqrt(vh) * np.sqrt(t) / (alpha * (1.0 - b))
