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

    Online (``period`` set): ``g_t = C`` at t = 1, 1 + period, 1 + 2 period, ... (t mod
    period == 1 for a period >= 2; every step for period 1), else ``small``.
    Stochastic (``p`` set): ``g_t = C`` with probability ``p``, else ``small``, i.i.d.
    The fields are stored as given (frozen) after they are checked.

    Parameters
    ----------
    C : float
        The large gradient; a finite real number.
    small : float, default -1.0
        The other gradient; a finite real number.
    period : int or None, default None
        The period (>= 1) of the online problem.
    p : float or None, default None
        The probability of ``C``, in [0, 1], of the stochastic problem.  Exactly one of
        ``period`` and ``p`` is given.

    Raises
    ------
    TypeError
        If ``C``, ``small`` or ``p`` is not a real number, or ``period`` not an int (a
        bool is neither).
    ValueError
        If ``C``, ``small`` or ``p`` is not finite, ``p`` is outside [0, 1], ``period``
        is < 1, or not exactly one of ``period`` and ``p`` is given.

    Examples
    --------
    >>> problem = LinearProblem(C=3.0, period=3)
    >>> problem.grads(7).tolist()
    [3.0, -1.0, -1.0, 3.0, -1.0, -1.0, 3.0]
    >>> round(problem.mean_gradient, 4), problem.optimum
    (0.3333, -1.0)
    >>> coin = LinearProblem(C=3.0, p=0.5)
    >>> coin.stochastic, coin.grads(4, seed=0).tolist()
    (True, [-1.0, 3.0, 3.0, 3.0])
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
        """Whether the problem draws its gradients at random (``p`` is set)."""
        return self.p is not None

    @property
    def mean_gradient(self) -> float:
        """Average gradient per step: (C + (period - 1) small) / period, or in
        expectation p C + (1 - p) small."""
        if self.period is not None:
            return (self.C + (self.period - 1) * self.small) / self.period
        return self.p * self.C + (1.0 - self.p) * self.small

    @property
    def optimum(self) -> float:
        """The best fixed point of [-1, 1] in the long run: -1.0 if the mean gradient is
        > 0, else 1.0 (also when it is 0, where every point is as good)."""
        return -1.0 if self.mean_gradient > 0 else 1.0

    def grads(self, T: int, *, seed=None, n: int | None = None) -> np.ndarray:
        """g_1 .. g_T, shape (T,); or n independent draws, shape (n, T) (stochastic).

        Parameters
        ----------
        T : int
            The number of steps, >= 1.
        seed : int or numpy.random.Generator, optional
            The random source of a stochastic problem (an int >= 0 seeds
            ``numpy.random.default_rng``); required there, ignored by a periodic one.
        n : int or None, default None
            The number (>= 1) of independent sequences of a stochastic problem.

        Returns
        -------
        numpy.ndarray of float64
            Shape (T,), or (n, T) when ``n`` is given.

        Raises
        ------
        TypeError
            If ``T`` or ``n`` is not an int, or ``seed`` is neither an int nor a
            ``numpy.random.Generator``.
        ValueError
            If ``T`` or ``n`` is < 1, a seed is < 0, ``n`` is given for a periodic
            problem, or ``seed`` is missing for a stochastic one.

        Examples
        --------
        >>> LinearProblem(C=2.0, period=2).grads(5).tolist()
        [2.0, -1.0, 2.0, -1.0, 2.0]
        >>> LinearProblem(C=2.0, p=0.5).grads(3, seed=1, n=2).shape
        (2, 3)
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
    """A problem together with the hyperparameters a theorem pairs it with.

    What :func:`theorem1_problem`, :func:`theorem2_problem` and :func:`theorem3_problem`
    return; a plain frozen record (nothing is checked).

    Parameters
    ----------
    problem : LinearProblem
        The losses of the construction.
    beta1, beta2 : float
        The hyperparameters of Adam the theorem runs it with.
    alpha_max : float or None, default None
        A bound alpha < alpha_max on the step size that the construction needs, if any.
    theorem : str, default ""
        Which result of Reddi et al. (2018) it is, e.g. ``"Theorem 1"``.

    Examples
    --------
    >>> ce = Counterexample(periodic_problem(3.0), beta1=0.0, beta2=0.1)
    >>> ce.problem.period, ce.alpha_max
    (3, None)
    """

    problem: LinearProblem
    beta1: float
    beta2: float
    alpha_max: float | None = None  # a step-size bound the construction needs, if any
    theorem: str = ""


def periodic_problem(C: float, period: int = 3, small: float = -1.0) -> LinearProblem:
    """The online problem ``g_t = C`` when ``t mod period == 1``, else ``small``.

    Theorem 1 of Reddi et al. (2018) is period 3, small -1; Theorem 2's construction is
    period C with the large gradient C.

    Parameters
    ----------
    C : float
        The large gradient, finite.
    period : int, default 3
        >= 1 (period 1: every gradient is C).
    small : float, default -1.0
        The other gradient, finite.

    Returns
    -------
    LinearProblem

    Raises
    ------
    TypeError
        If ``C`` or ``small`` is not a real number, or ``period`` not an int.
    ValueError
        If ``C`` or ``small`` is not finite, or ``period`` < 1.

    Examples
    --------
    >>> periodic_problem(3.0).grads(6).tolist()
    [3.0, -1.0, -1.0, 3.0, -1.0, -1.0]
    """
    return LinearProblem(C=C, small=small, period=period)


def stochastic_problem(C: float, p: float, small: float = -1.0) -> LinearProblem:
    """The stochastic problem ``g_t = C`` with probability ``p``, else ``small``, i.i.d.

    Parameters
    ----------
    C : float
        The large gradient, finite.
    p : float
        Its probability, in [0, 1].
    small : float, default -1.0
        The other gradient, finite.

    Returns
    -------
    LinearProblem

    Raises
    ------
    TypeError
        If ``C``, ``p`` or ``small`` is not a real number.
    ValueError
        If one is not finite, or ``p`` is outside [0, 1].

    Examples
    --------
    >>> problem = stochastic_problem(3.0, 0.25)
    >>> problem.mean_gradient, problem.optimum
    (0.0, 1.0)
    """
    return LinearProblem(C=C, small=small, p=p)


def figure1_problem(stochastic: bool = False) -> LinearProblem:
    """The synthetic problems of the paper's Section 5 / Figure 1.

    Online: ``1010 x`` when ``t mod 101 == 1``, else ``-10 x``; stochastic: ``1010 x``
    with probability 0.01, else ``-10 x``.  Both on [-1, 1], optimum -1.  Scaled by 1/10
    they are Theorem 2's sequence with C = 101 (odd, and far shorter than its conditions
    ask) and Theorem 3's with C = 101, p = 0.01.

    Parameters
    ----------
    stochastic : bool, default False
        The stochastic problem instead of the online one (read as a truth value).

    Returns
    -------
    LinearProblem

    Examples
    --------
    >>> online = figure1_problem()
    >>> online.period, online.grads(3).tolist()
    (101, [1010.0, -10.0, -10.0])
    >>> round(figure1_problem(stochastic=True).mean_gradient, 6)
    0.2
    """
    return (
        stochastic_problem(1010.0, 0.01, -10.0)
        if stochastic
        else periodic_problem(1010.0, 101, -10.0)
    )


def theorem1_problem(C: float = 3.0) -> Counterexample:
    """Theorem 1 of Reddi et al. (2018): Adam's counterexample of period 3.

    ``f_t(x) = C x`` when ``t mod 3 == 1``, else ``-x``, on [-1, 1], with C > 2: each
    period's gradients sum to C - 2 > 0, so the optimum is -1.  Adam runs with
    ``beta1 = 0`` and ``beta2 = 1/(1 + C^2)``; the proof uses
    ``alpha_t = alpha / sqrt(t)`` with ``alpha < sqrt(1 - beta2)`` (returned as
    ``alpha_max``) and starts at ``x_1 = 1``, and Adam's regret grows by at least
    2C - 4 per period.  (The paper states C >= 2, but C = 2 makes every period sum to
    0; chapter 4 explains.)

    Parameters
    ----------
    C : float, default 3.0
        The large gradient; a finite real number > 2.

    Returns
    -------
    Counterexample
        ``problem = periodic_problem(C, 3, -1.0)``, ``beta1 = 0.0``,
        ``beta2 = 1 / (1 + C^2)``, ``alpha_max = sqrt(1 - beta2)``,
        ``theorem = "Theorem 1"``.

    Raises
    ------
    TypeError
        If ``C`` is not a real number.
    ValueError
        If ``C`` is not finite or is <= 2.

    Examples
    --------
    >>> ce = theorem1_problem(3.0)
    >>> ce.problem.grads(6).tolist(), ce.beta1, round(ce.beta2, 6)
    ([3.0, -1.0, -1.0, 3.0, -1.0, -1.0], 0.0, 0.1)
    >>> round(ce.alpha_max, 4)
    0.9487
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

    The construction is the one of the book's proof sketch (chapter 4; see
    :func:`theorem2_problem`).  C must be even and satisfy, with
    gamma = beta1 / sqrt(beta2) < 1,

    * ``momentum``: (1 - beta1) beta1^(C-1) C <= 1 - beta1^(C-1)  (keeps m_{kC} <= 0);
    * ``forgetting``: beta2^((C-2)/2) C^2 <= 1  (the large gradient fades from v_t);
    * ``drift``: 3(1-beta1)/(2 sqrt(1-beta2)) (1 + gamma (1-gamma^(C-1))/(1-gamma))
      + beta1^(C/2-1)/(1-beta1) < C/3  (the small gradients' push up wins).

    Parameters
    ----------
    beta1, beta2 : float
        In [0, 1), with beta1 < sqrt(beta2) (the theorem's condition).
    C : float or array_like of float
        The periods to test, any shape.

    Returns
    -------
    dict of str to numpy.ndarray of bool
        ``"even"`` (C even and >= 2), ``"momentum"``, ``"forgetting"``, ``"drift"``:
        each the shape of ``C`` (0-d for a number).

    Raises
    ------
    TypeError
        If ``beta1`` or ``beta2`` is not a real number.
    ValueError
        If ``beta1`` or ``beta2`` is outside [0, 1), or beta1 >= sqrt(beta2).

    Examples
    --------
    >>> ok = theorem2_conditions(0.5, 0.5, [2, 12, 18, 20])
    >>> {name: value.tolist() for name, value in ok.items()}
    {'even': [True, True, True, True], 'momentum': [True, True, True, True],
     'forgetting': [False, False, False, True], 'drift': [False, True, True, True]}
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
    """The smallest even C >= 2 meeting the conditions of :func:`theorem2_conditions`.

    The even periods up to ``limit`` are searched in blocks of doubling length (4096
    periods first), so that a small C is found without testing large ones.

    Parameters
    ----------
    beta1, beta2 : float
        In [0, 1), with beta1 < sqrt(beta2).
    limit : int, default 10**9
        The largest C searched.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``beta1`` or ``beta2`` is not a real number.
    ValueError
        If ``beta1`` or ``beta2`` is outside [0, 1), beta1 >= sqrt(beta2), or no even
        C <= ``limit`` meets the conditions.

    Examples
    --------
    >>> theorem2_period(0.5, 0.5), theorem2_period(0.9, 0.9)
    (20, 204)
    >>> theorem2_period(0.5, 0.5, limit=10)
    Traceback (most recent call last):
    ...
    ValueError: no even C <= 10 satisfies the Theorem 2 conditions for beta1=0.5, beta2=0.5
    """
    _check_betas_theorem(beta1, beta2)
    start = 2
    size = 4096
    while start <= limit:
        C = np.arange(start, min(start + 2 * size, limit + 1), 2, dtype=np.float64)
        ok = np.logical_and.reduce(list(theorem2_conditions(beta1, beta2, C).values()))
        if ok.any():
            return int(C[np.argmax(ok)])
        start += 2 * size
        size *= 2
    raise ValueError(
        f"no even C <= {limit} satisfies the Theorem 2 conditions for beta1={beta1}, beta2={beta2}"
    )


def theorem2_problem(beta1: float, beta2: float) -> Counterexample:
    """Theorem 2 of Reddi et al. (2018): a counterexample for any beta1 < sqrt(beta2).

    The construction of the book's proof sketch (chapter 4), which follows the paper's
    idea of stretching Theorem 1's period (the paper's appendix has its own): for an
    even C, ``f_t(x) = C x`` when ``t mod C == 1``, else ``-x``, on [-1, 1].  Each
    period sums to C - (C - 1) = 1 > 0, so the optimum is -1; C is
    :func:`theorem2_period`, the smallest even C meeting the conditions of
    :func:`theorem2_conditions`, under which Adam ends at +1 and R_T/T -> 2/C.

    Parameters
    ----------
    beta1, beta2 : float
        In [0, 1), with beta1 < sqrt(beta2).

    Returns
    -------
    Counterexample
        ``problem = periodic_problem(float(C), C, -1.0)``, the given ``beta1`` and
        ``beta2``, ``alpha_max = None``, ``theorem = "Theorem 2"``.

    Raises
    ------
    TypeError
        If ``beta1`` or ``beta2`` is not a real number.
    ValueError
        If ``beta1`` or ``beta2`` is outside [0, 1), or beta1 >= sqrt(beta2).

    Examples
    --------
    >>> ce = theorem2_problem(0.5, 0.5)
    >>> ce.problem.period, ce.problem.grads(3).tolist(), ce.problem.mean_gradient
    (20, [20.0, -1.0, -1.0], 0.05)
    """
    b1, b2, _ = _check_betas_theorem(beta1, beta2)
    C = theorem2_period(b1, b2)
    return Counterexample(
        periodic_problem(float(C), C, -1.0), b1, b2, None, "Theorem 2"
    )


def theorem3_problem(
    beta1: float, beta2: float, delta: float, C: float
) -> Counterexample:
    """Theorem 3 of Reddi et al. (2018): the stochastic counterexample.

    ``f_t(x) = C x`` with probability ``p = (1 + delta)/(C + 1)``, else ``-x``, i.i.d.,
    on [-1, 1].  Then ``E[g] = pC - (1 - p) = delta`` and the optimum of
    ``E f(x) = delta x`` is -1.  The theorem takes C "large enough" for
    (beta1, beta2, delta) and its proof runs Adam without the projection from x_1 = 0;
    :func:`~adaptive_methods.online.drift` tells whether a given C is large enough
    (its sign at stationarity is the sign of the expected step).

    Parameters
    ----------
    beta1, beta2 : float
        In [0, 1), with beta1 < sqrt(beta2).
    delta : float
        The expected gradient, finite and > 0.
    C : float
        The large gradient, finite and >= delta (so that p <= 1).

    Returns
    -------
    Counterexample
        ``problem = stochastic_problem(C, p, -1.0)``, the given ``beta1`` and ``beta2``,
        ``alpha_max = None``, ``theorem = "Theorem 3"``.

    Raises
    ------
    TypeError
        If an argument is not a real number.
    ValueError
        If ``beta1`` or ``beta2`` is outside [0, 1), beta1 >= sqrt(beta2), ``delta`` or
        ``C`` is not finite and > 0, or C < delta.

    Examples
    --------
    >>> ce = theorem3_problem(0.9, 0.99, delta=0.1, C=200.0)
    >>> round(ce.problem.p, 6), round(ce.problem.mean_gradient, 6)
    (0.005473, 0.1)
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
