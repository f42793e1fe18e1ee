"""The problems of the paper: linear losses ``f_t(x) = g_t x`` on [-1, 1], and the
constructions of Theorems 1-3 with the hyperparameters each theorem pairs them with."""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

__all__ = [
    "LinearProblem",
    "Counterexample",
    "periodic_problem",
    "stochastic_problem",
    "figure1_problem",
    "theorem1_problem",
    "theorem2_conditions",
    "theorem2_period",
    "theorem2_problem",
    "theorem3_problem",
]


def _check_real(name: str, value, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(
            f"{name} must be a real number, got {type(value).__name__}: {value!r}"
        )
    value = float(value)
    if not math.isfinite(value) or (positive and value <= 0):
        raise ValueError(
            f"{name} must be {'> 0 and ' if positive else ''}finite, got {value}"
        )
    return value


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}: {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


@dataclass(frozen=True)
class LinearProblem:
    """Linear losses ``f_t(x) = g_t x`` on [-1, 1] with ``g_t`` in ``{C, small}``.

    Online (``period`` set): ``g_t = C`` when ``t mod period == 1``, else ``small``.
    Stochastic (``p`` set): ``g_t = C`` with probability ``p``, else ``small``, i.i.d.
    """

    C: float
    small: float = -1.0
    period: int | None = None
    p: float | None = None

    def __post_init__(self):
        _check_real("C", self.C)
        _check_real("small", self.small)
        if (self.period is None) == (self.p is None):
            raise ValueError(
                f"exactly one of period (online) and p (stochastic) must be given, got period={self.period}, p={self.p}"
            )
        if self.period is not None:
            _check_int("period", self.period, 1)
        if self.p is not None:
            p = _check_real("p", self.p)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"p must be in [0, 1], got {p}")

    @property
    def stochastic(self) -> bool:
        return self.p is not None

    @property
    def mean_gradient(self) -> float:
        """Average gradient per step: over one period, or in expectation."""
        if self.period is not None:
            return (self.C + (self.period - 1) * self.small) / self.period
        return self.p * self.C + (1.0 - self.p) * self.small

    @property
    def optimum(self) -> float:
        """The best fixed point of [-1, 1] in the long run (the sign opposite the mean gradient)."""
        return -1.0 if self.mean_gradient > 0 else 1.0

    def grads(self, T: int, *, seed=None, n: int | None = None) -> np.ndarray:
        """g_1 .. g_T, shape (T,); or n independent draws, shape (n, T) (stochastic only).

        ``seed``: an int or a ``numpy.random.Generator``; required for the stochastic problem.
        """
        T = _check_int("T", T, 1)
        if self.period is not None:
            if n is not None:
                raise ValueError(
                    "n (independent draws) applies to stochastic problems only; this one is periodic"
                )
            g = np.full(T, self.small, dtype=np.float64)
            g[:: self.period] = self.C  # t = 1, 1 + period, ... (index t - 1)
            return g
        if seed is None:
            raise ValueError(
                "seed must be given for a stochastic problem (an int or a numpy Generator)"
            )
        rng = (
            seed
            if isinstance(seed, np.random.Generator)
            else np.random.default_rng(_check_int("seed", seed, 0))
        )
        shape = (T,) if n is None else (_check_int("n", n, 1), T)
        return np.where(rng.random(shape) < self.p, self.C, self.small).astype(
            np.float64
        )


@dataclass(frozen=True)
class Counterexample:
    """A problem together with the hyperparameters a theorem pairs it with."""

    problem: LinearProblem
    beta1: float
    beta2: float
    alpha_max: float | None = None  # a step-size bound the construction needs, if any
    theorem: str = ""


def periodic_problem(C: float, period: int = 3, small: float = -1.0) -> LinearProblem:
    """``g_t = C`` when ``t mod period == 1``, else ``small`` (Theorem 1: period 3, small -1)."""
    return LinearProblem(C=C, small=small, period=period)


def stochastic_problem(C: float, p: float, small: float = -1.0) -> LinearProblem:
    """``g_t = C`` with probability ``p``, else ``small``."""
    return LinearProblem(C=C, small=small, p=p)


def figure1_problem(stochastic: bool = False) -> LinearProblem:
    """The synthetic problems of the paper's Section 5 / Figure 1.

    Online: ``1010 x`` when ``t mod 101 == 1``, else ``-10 x``; stochastic: ``1010 x`` with
    probability 0.01, else ``-10 x``.  Both on [-1, 1], optimum -1.
    """
    return (
        stochastic_problem(1010.0, 0.01, -10.0)
        if stochastic
        else periodic_problem(1010.0, 101, -10.0)
    )


def theorem1_problem(C: float = 3.0) -> Counterexample:
    """Theorem 1: period 3, ``g = C`` then ``-1, -1``, C > 2; ``beta1 = 0``, ``beta2 = 1/(1+C^2)``.

    The proof uses ``alpha_t = alpha / sqrt(t)`` with ``alpha < sqrt(1 - beta2)`` (returned
    as ``alpha_max``) and starts at ``x_1 = 1``.
    """
    C = _check_real("C", C)
    if C <= 2:
        raise ValueError(
            f"C must be > 2 for Theorem 1 (regret per period 2C - 4 > 0), got {C}"
        )
    beta2 = 1.0 / (1.0 + C * C)
    return Counterexample(
        periodic_problem(C, 3, -1.0), 0.0, beta2, math.sqrt(1.0 - beta2), "Theorem 1"
    )


def _check_betas_theorem(beta1, beta2) -> tuple[float, float, float]:
    b1 = _check_real("beta1", beta1)
    b2 = _check_real("beta2", beta2)
    if not 0.0 <= b1 < 1.0:
        raise ValueError(f"beta1 must be in [0, 1), got {b1}")
    if not 0.0 <= b2 < 1.0:
        raise ValueError(f"beta2 must be in [0, 1), got {b2}")
    if not b1 < math.sqrt(b2):
        raise ValueError(
            f"the theorems need beta1 < sqrt(beta2), got beta1={b1}, sqrt(beta2)={math.sqrt(b2)}"
        )
    return b1, b2, b1 / math.sqrt(b2)


def theorem2_conditions(beta1: float, beta2: float, C) -> dict[str, np.ndarray]:
    """The conditions on the period C of the Theorem 2 construction, as booleans.

    C must be even and satisfy, with gamma = beta1 / sqrt(beta2) < 1,

    * ``momentum``: (1 - beta1) beta1^(C-1) C <= 1 - beta1^(C-1)  (keeps m_{kC} <= 0);
    * ``forgetting``: beta2^((C-2)/2) C^2 <= 1  (the large gradient fades from v_t);
    * ``drift``: 3(1-beta1)/(2 sqrt(1-beta2)) (1 + gamma (1-gamma^(C-1))/(1-gamma))
      + beta1^(C/2-1)/(1-beta1) < C/3.
    """
    b1, b2, gamma = _check_betas_theorem(beta1, beta2)
    C = np.asarray(C, dtype=np.float64)
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        even = np.mod(C, 2.0) == 0.0
        b1_pow = np.power(b1, C - 1.0)
        momentum = (1.0 - b1) * b1_pow * C <= 1.0 - b1_pow
        forgetting = ((C - 2.0) / 2.0) * math.log(b2) + 2.0 * np.log(C) <= 0.0
        forgetting = np.where(C == 2.0, 4.0 <= 1.0, forgetting)
        geom = np.where(
            gamma > 0, gamma * (1.0 - np.power(gamma, C - 1.0)) / (1.0 - gamma), 0.0
        )
        lhs = 3.0 * (1.0 - b1) / (2.0 * math.sqrt(1.0 - b2)) * (1.0 + geom) + np.power(
            b1, C / 2.0 - 1.0
        ) / (1.0 - b1)
        drift_ok = lhs < C / 3.0
    return {
        "even": even & (C >= 2),
        "momentum": momentum,
        "forgetting": forgetting,
        "drift": drift_ok,
    }


def theorem2_period(beta1: float, beta2: float, limit: int = 10**9) -> int:
    """The smallest even C >= 2 that satisfies every condition of :func:`theorem2_conditions`."""
    _check_betas_theorem(beta1, beta2)
    start = 2
    size = 4096
    while start <= limit:
        C = np.arange(start, start + 2 * size, 2, dtype=np.float64)
        ok = np.logical_and.reduce(list(theorem2_conditions(beta1, beta2, C).values()))
        if ok.any():
            return int(C[np.argmax(ok)])
        start += 2 * size
        size *= 2
    raise ValueError(
        f"no even C <= {limit} satisfies the Theorem 2 conditions for beta1={beta1}, beta2={beta2}"
    )


def theorem2_problem(beta1: float, beta2: float) -> Counterexample:
    """Theorem 2: period C, ``g = C`` once per period, ``-1`` otherwise, C from the conditions."""
    b1, b2, _ = _check_betas_theorem(beta1, beta2)
    C = theorem2_period(b1, b2)
    return Counterexample(
        periodic_problem(float(C), C, -1.0), b1, b2, None, "Theorem 2"
    )


def theorem3_problem(
    beta1: float, beta2: float, delta: float, C: float
) -> Counterexample:
    """Theorem 3: ``g = C`` with probability ``p = (1 + delta)/(C + 1)``, else ``-1``.

    Then ``E[g] = delta`` and the optimum of ``E f(x) = delta x`` on [-1, 1] is -1.  The
    theorem takes C "large enough" for (beta1, beta2, delta); :func:`~adaptive_methods.online.drift` tells whether
    a given C is (its sign at stationarity is the sign of the expected step).
    """
    b1, b2, _ = _check_betas_theorem(beta1, beta2)
    delta = _check_real("delta", delta, positive=True)
    C = _check_real("C", C, positive=True)
    p = (1.0 + delta) / (C + 1.0)
    if p > 1.0:
        raise ValueError(
            f"C must be >= delta so that p = (1 + delta)/(C + 1) <= 1, got C={C}, delta={delta}"
        )
    return Counterexample(stochastic_problem(C, p, -1.0), b1, b2, None, "Theorem 3")
