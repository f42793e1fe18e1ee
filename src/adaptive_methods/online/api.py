"""The simulator's public functions: :func:`simulate`, :func:`moments`, :func:`drift`,
:func:`period_drift` and :func:`regret`."""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
from scipy.signal import lfilter

from . import jit
from .checks import (ENGINES, GRAD_MAX, SIMULATED, STEPS, Spec, as_bounds, as_grads, as_param, batch_size,
                     check_grad_values,
                     check_choice, is_scalar, plain_floats, simulated_method, spec)
from .problems import LinearProblem
from .recurrences import Moments, block_length
from .scans import loop_flags, loop_one, scan_blocked, scan_loop, scan_vector, unprojected_steps

__all__ = ["simulate", "regret", "moments", "drift", "period_drift"]

# Below this many configuration-steps a plain Python loop beats any array code
# (NumPy's per-call overhead dominates): about 300 steps on the 2-core CI machine.
_LOOP_MAX_WORK = 320
# From this batch size on, one array operation per step across the batch is cheaper
# than the blocked scan, whose extra element work then outweighs the saved calls.
_VECTOR_MIN_B = 192
# Time window of the moment recurrences: about 2^21 elements (16 MB) per temporary, but
# never under 16384 steps, since each distinct row costs one lfilter call per window.
_WINDOW_ELEMENTS = 1 << 21
_WINDOW_MIN = 16384

_FLOAT64 = np.dtype(np.float64)
_INF = math.inf
_STEP_SET = frozenset(STEPS)
# name -> (loop flags, own beta1 decay) of every simulated method, for the short runs
_SHORT_RUN = {name: (loop_flags(info.recurrence), info.beta1_decay) for name, info in SIMULATED.items()}


def simulate(
    method: str,
    grads,
    *,
    alpha,
    beta1=0.9,
    beta2=0.99,
    step: str = "inv_sqrt",
    bounds=(-1.0, 1.0),
    x1=0.0,
    beta1_decay=None,
    eps=0.0,
    trajectory: bool = True,
    engine: str = "auto",
    block: int | None = None,
    window: int | None = None,
) -> np.ndarray:
    """Iterates of an adaptive method on the linear losses ``f_t(x) = g_t x`` on a box.

    The method's recurrences are those the registry declares for it
    (:attr:`adaptive_methods.registry.MethodInfo.recurrence`).  For t = 1 .. T, with
    ``m_0 = v_0 = vhat_0 = 0``::

        m_t = g_t                                 ("gradient")
            = b1t m_{t-1} + (1 - b1t) g_t         ("moving_average")
        V_t = 1                                   ("identity")
            = (g_1^2 + ... + g_t^2) / t           ("mean_of_squares", beta2_t = 1 - 1/t)
            = v_t = b2 v_{t-1} + (1 - b2) g_t^2   ("moving_average")
            = vhat_t = max(vhat_{t-1}, v_t)       ("running_max")
            = vhat_t = max(((1 - b1t) / (1 - b1_{t-1}))^2 vhat_{t-1}, v_t)
                                                  ("rescaled_running_max")
        x_{t+1} = min(max(x_t - alpha_t m_t / sqrt(V_t + eps), lo), hi)

    with ``b1t = beta1 * beta1_decay**(t-1)`` and ``alpha_t = alpha / sqrt(t)``
    (``step="inv_sqrt"``) or ``alpha`` (``step="constant"``).  ``beta1_decay=None`` is
    the method's own decay (:attr:`~adaptive_methods.registry.MethodInfo.beta1_decay`,
    e.g. 0.99 for AdamNC, a constant beta1 for Adam); 1.0 is a constant beta1.
    A recurrence ignores the hyperparameters it does not read (they are still checked).

    **V_t = 0.**  Where ``sqrt(V_t + eps) == 0`` the step is 0: a coordinate with
    ``V_t = 0`` does not move, whatever m_t is (``V_t^(-1/2)`` is taken as the
    pseudo-inverse).  This happens when the gradients V_t remembers are all 0, e.g. with
    ``beta2 = 0`` after a zero gradient while the momentum m_t is not 0.

    Parameters
    ----------
    method : str
        A method of :data:`adaptive_methods.registry.METHODS` whose recurrence is not
        None, i.e. a key of :data:`SIMULATED` (``"sgd"``, ``"adagrad"``, ``"rmsprop"``,
        ``"adam"``, ``"amsgrad"``, ``"adamnc"``, ``"adamx"``); any letter case.
    grads : array_like of shape (T,) or (B, T)
        g_1 .. g_T, real numbers with ``|g| <= 1e150`` (so that g^2 is finite), T >= 1;
        a (T,) array is shared by all B configurations.
    alpha : float or array_like of shape (B,)
        The step size, finite and > 0 (keyword only, no default).
    beta1 : float or array_like of shape (B,), default 0.9
        beta1 (beta1_1 when it decays), in [0, 1).
    beta2 : float or array_like of shape (B,), default 0.99
        In [0, 1).
    step : {"inv_sqrt", "constant"}, default "inv_sqrt"
        alpha_t = alpha / sqrt(t) (the paper's analysis) or alpha_t = alpha.
    bounds : (lo, hi), default (-1.0, 1.0)
        The box F = [lo, hi]; lo and hi each a finite real number or an array of
        shape (B,), lo < hi.
    x1 : float or array_like of shape (B,), default 0.0
        The first iterate, in [lo, hi].
    beta1_decay : float or array_like of shape (B,) or None, default None
        lambda in (0, 1] of beta1_t = beta1 lambda^(t-1); None for the method's own.
    eps : float or array_like of shape (B,), default 0.0
        Added to V_t under the root; finite, >= 0.
    trajectory : bool, default True
        True: return x_1 .. x_{T+1}; False: return only x_{T+1}.
    engine : {"auto", "loop", "vector", "blocked", "jit"}, default "auto"
        How the clipped sum is scanned (:mod:`adaptive_methods.online.scans`; "jit":
        the whole recurrence as one loop compiled by numba,
        :mod:`adaptive_methods.online.jit`); every engine gives the plain loop's
        iterates (to rounding).  "auto" picks by size: the Python loop when
        B T <= 320, "jit" where numba is installed and neither ``block`` nor
        ``window`` is given, else "vector" from B = 192 on and "blocked" below.
    block : int >= 1, optional
        Block length of the blocked scans (default: about sqrt of the window).
    window : int >= 1, optional
        Steps per time window: the moments are computed window by window, carrying their
        state (default: about 2^21 / B steps, at least 16384).

    Returns
    -------
    numpy.ndarray of float64
        x_1 .. x_{T+1}, shape (T+1,) or (B, T+1); with ``trajectory=False`` x_{T+1},
        shape () or (B,).  The batch axis is there whenever ``grads`` is 2-D or any
        parameter (bounds included) is an array.

    Raises
    ------
    TypeError
        If ``method``, ``step`` or ``engine`` is not a str, ``grads`` does not hold real
        numbers, a hyperparameter is not a real number or a 1-D array of them (a bool,
        None or a str), ``bounds`` is not a pair, or ``trajectory`` is not a bool.
    ValueError
        If ``method`` is unknown or not simulated, ``step`` or ``engine`` is not one of
        its choices, ``grads`` has the wrong shape, is empty or not finite, a
        hyperparameter is out of its range, the batch sizes disagree, ``x1`` is outside
        ``bounds``, or ``block`` or ``window`` is not an int >= 1 (the message names the
        argument, its value and what is allowed).
    ImportError
        If ``engine="jit"`` and numba is not installed.

    Examples
    --------
    SGD with alpha_t = 0.5 / sqrt(t) from x_1 = 0:

    >>> xs = simulate("sgd", [1.0, 1.0, -1.0], alpha=0.5)
    >>> [round(x, 4) for x in xs.tolist()]
    [0.0, -0.5, -0.8536, -0.5649]

    Theorem 1's problem: Adam is back at x = 1 at the start of every period.

    >>> from adaptive_methods.online import theorem1_problem
    >>> ce = theorem1_problem(3.0)
    >>> g = ce.problem.grads(30)
    >>> xs = simulate("adam", g, alpha=0.9 * ce.alpha_max, beta1=ce.beta1,
    ...               beta2=ce.beta2, x1=1.0)
    >>> xs[::3].tolist() == [1.0] * 11
    True

    A batch of two configurations (beta2 = 0.1 and 0.99), only the last iterate:

    >>> simulate("adam", g, alpha=0.9 * ce.alpha_max, beta1=0.0, beta2=[0.1, 0.99],
    ...          x1=1.0, trajectory=False).round(4).tolist()
    [1.0, -0.6769]
    """
    if engine == "auto" and block is None and window is None:
        short = _short_run(method, grads, alpha, beta1, beta2, step, bounds, x1, beta1_decay, eps, trajectory)
        if short is not None:
            return short
    s = spec(method, grads, alpha=alpha, beta1=beta1, beta2=beta2, step=step, bounds=bounds, x1=x1,
             beta1_decay=beta1_decay, eps=eps, check_values=False)
    engine = _engine(s, engine, trajectory, block, window)
    if engine != "jit":  # the jit loop checks each gradient as it reads it
        check_grad_values(s.g[0] if s.grads_1d else s.g)
    out = _scan(s, engine, bool(trajectory), block, window)
    return out[0] if s.squeeze else out


def _scan(s: Spec, engine: str, trajectory: bool, block, window) -> np.ndarray:
    if engine == "jit":
        return jit.scan_jit(s, trajectory)
    if engine == "loop":
        return scan_loop(s, trajectory)
    return _scan_windows(s, engine, trajectory, block, window)


def _short_run(method, grads, alpha, beta1, beta2, step, bounds, x1, beta1_decay, eps, trajectory):
    """A short single run in plain Python numbers, run as the plain loop; None for any other call.

    This is the call a reader makes most.  Its arguments are checked with plain
    comparisons: the general checks cost as much as 20 steps of the loop and would make
    it slower than the loop it replaces.  Whatever these comparisons do not accept
    (parameter arrays, NumPy scalars, lists, bad values) takes the general path, which
    raises the exact error.
    """
    if not (type(grads) is np.ndarray and grads.ndim == 1 and grads.dtype is _FLOAT64
            and 0 < grads.size <= _LOOP_MAX_WORK and type(method) is str and type(step) is str
            and step in _STEP_SET and type(trajectory) is bool and type(bounds) is tuple and len(bounds) == 2):
        return None
    known = _SHORT_RUN.get(method)
    if known is None:
        return None
    flags, own_decay = known
    lo, hi = bounds
    plain = (type(alpha) is float and type(beta1) is float and type(beta2) is float and type(eps) is float
             and type(x1) is float and type(lo) is float and type(hi) is float
             and (beta1_decay is None or type(beta1_decay) is float))
    if not plain and beta1_decay is None:
        # ints become floats, so that iterates clipped to an int bound stay float64
        numbers = plain_floats(alpha, beta1, beta2, eps, x1, lo, hi)
        if plain := numbers is not None:
            alpha, beta1, beta2, eps, x1, lo, hi = numbers
    decay = own_decay if beta1_decay is None else beta1_decay
    if not (plain and 0.0 < alpha < _INF and 0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0 and 0.0 <= eps < _INF
            and -_INF < lo <= x1 <= hi < _INF and lo < hi and (decay is None or 0.0 < decay <= 1.0)):
        return None
    g_row = grads.tolist()
    for g in g_row:
        if not -GRAD_MAX <= g <= GRAD_MAX:  # NaN fails too
            return None
    out = loop_one(flags, g_row, alpha, beta1, beta2, decay, eps, lo, hi, step == "constant", x1, trajectory)
    return np.array(out) if trajectory else np.float64(out)


def _engine(s: Spec, engine, trajectory, block, window) -> str:
    """The checked engine arguments, and the engine that "auto" stands for."""
    engine = check_choice("engine", engine, ENGINES)
    if not isinstance(trajectory, (bool, np.bool_)):
        raise TypeError(f"trajectory must be a bool, got {type(trajectory).__name__}: {trajectory!r}")
    for name, value in (("block", block), ("window", window)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, Integral) or value < 1):
            raise ValueError(f"{name} must be None or an int >= 1, got {value!r}")
    if engine != "auto":
        return engine
    if s.B * s.T <= _LOOP_MAX_WORK:
        return "loop"
    if block is None and window is None and jit.available():
        return "jit"
    return "vector" if s.B >= _VECTOR_MIN_B else "blocked"


def _scan_windows(s: Spec, engine: str, trajectory: bool, block: int | None, window: int | None) -> np.ndarray:
    """The moments window by window, each window's clipped sum scanned by ``engine``."""
    stream = Moments(s, block)
    per_window = stream.rows if engine == "vector" else max(stream.rows, s.B)
    if window is None:
        window = max(_WINDOW_MIN, _WINDOW_ELEMENTS // per_window)
    window = min(s.T, int(window))
    x = s.x1.copy()
    out = np.empty((s.B, s.T + 1)) if trajectory else None
    if out is not None:
        out[:, 0] = x
    # one block carry is a Python float step for one row, ~4 array calls otherwise
    K = block if block is not None else block_length(window, 0.3 if s.B == 1 else 4.0)
    for t0 in range(0, s.T, window):
        t1 = min(s.T, t0 + window)
        m, d = stream.window(t0, t1)
        if engine == "vector":
            scan_vector(s, m, stream.m_of, d, stream.d_of, t0, x, out)
        else:
            q = unprojected_steps(s, m, stream.m_of, d, stream.d_of, t0)
            scan_blocked(q, x, s.lo, s.hi, K, None if out is None else out[:, t0 + 1 : t1 + 1])
    return x if out is None else out


def moments(method: str, grads, *, beta1=0.9, beta2=0.99, beta1_decay=None, eps=0.0) -> tuple[np.ndarray, np.ndarray]:
    """The moment estimates ``(m_t, V_t + eps)`` of :func:`simulate`, t = 1 .. T.

    The recurrences are :func:`simulate`'s (the registry's kinds, the paper's forms, no
    bias correction).  They do not depend on the iterates (linear losses), so they need
    no simulation.

    Parameters
    ----------
    method : str
        A method of :data:`adaptive_methods.registry.METHODS` whose recurrence is not
        None (a key of :data:`SIMULATED`).
    grads : array_like of shape (T,) or (B, T)
        g_1 .. g_T, real numbers with ``|g| <= 1e150``, T >= 1.
    beta1 : float or array_like of shape (B,), default 0.9
        beta1 (beta1_1 when it decays), in [0, 1).
    beta2 : float or array_like of shape (B,), default 0.99
        In [0, 1).
    beta1_decay : float or array_like of shape (B,) or None, default None
        lambda in (0, 1] of beta1_t = beta1 lambda^(t-1); None for the method's own.
    eps : float or array_like of shape (B,), default 0.0
        Added to V_t; finite, >= 0.

    Returns
    -------
    m, V : numpy.ndarray of float64
        m_1 .. m_T and V_1 + eps .. V_T + eps (the diagonal of V_t), each the shape of
        ``grads``, or (B, T) when a parameter is an array.

    Raises
    ------
    TypeError
        If ``method`` is not a str, ``grads`` does not hold real numbers, or a
        hyperparameter is not a real number or a 1-D array of them.
    ValueError
        If ``method`` is unknown or not simulated, ``grads`` has the wrong shape, is
        empty or not finite, a hyperparameter is out of its range, or the batch sizes
        disagree.

    Examples
    --------
    Adam's moving averages with beta1 = beta2 = 0.5:

    >>> m, V = moments("adam", [1.0, -1.0, 2.0], beta1=0.5, beta2=0.5)
    >>> m.tolist(), V.tolist()
    ([0.5, -0.25, 0.875], [0.5, 0.75, 2.375])

    AMSGrad keeps the largest v_t after the gradients stop:

    >>> moments("amsgrad", [2.0, 0.0, 0.0], beta1=0.5, beta2=0.5)[1].tolist()
    [2.0, 2.0, 2.0]
    """
    s = spec(method, grads, alpha=None, beta1=beta1, beta2=beta2, step="inv_sqrt", bounds=(-1.0, 1.0), x1=0.0,
             beta1_decay=beta1_decay, eps=eps, need_alpha=False)
    stream = Moments(s, None)
    m_rows, V_rows = stream.window(0, s.T, root=False)
    m, V = m_rows[stream.m_of], V_rows[stream.d_of]
    return (m[0], V[0]) if s.squeeze else (m, V)


def drift(method: str, grads, *, beta1=0.9, beta2=0.99, beta1_decay=None, eps=0.0, burn_in: int = 0) -> np.ndarray:
    """Mean unprojected update direction ``-m_t / sqrt(V_t + eps)`` over t > burn_in.

    With ``alpha_t`` factored out, this is the average of ``(x^_{t+1} - x_t) / alpha_t``
    over t = burn_in + 1 .. T; positive means the method pushes x up (towards +1).  On
    the stochastic problem of Theorem 3 it estimates the sign of the expected step
    ``E[Delta_t]`` of the proof.  Any method :func:`simulate` runs, with the same
    V_t = 0 rule (a zero step).

    Parameters
    ----------
    method : str
        A method of :data:`adaptive_methods.registry.METHODS` whose recurrence is not
        None (a key of :data:`SIMULATED`).
    grads : array_like of shape (T,) or (B, T)
        g_1 .. g_T, real numbers with ``|g| <= 1e150``, T >= 1.
    beta1 : float or array_like of shape (B,), default 0.9
        beta1 (beta1_1 when it decays), in [0, 1).
    beta2 : float or array_like of shape (B,), default 0.99
        In [0, 1).
    beta1_decay : float or array_like of shape (B,) or None, default None
        lambda in (0, 1] of beta1_t = beta1 lambda^(t-1); None for the method's own.
    eps : float or array_like of shape (B,), default 0.0
        Added to V_t under the root; finite, >= 0.
    burn_in : int, default 0
        The first steps left out of the mean (the moments' transient); 0 <= burn_in < T.

    Returns
    -------
    numpy.float64 or numpy.ndarray of shape (B,)
        The mean direction, per configuration when :func:`moments` returns (B, T).

    Raises
    ------
    TypeError
        As :func:`moments`.
    ValueError
        If ``burn_in`` is not an int (a bool included) or not in [0, T), or as
        :func:`moments`.

    Examples
    --------
    Theorem 1's problem: Adam (beta1 = 0, beta2 = 0.1) drifts up, AMSGrad down.

    >>> from adaptive_methods.online import theorem1_problem
    >>> g = theorem1_problem(3.0).problem.grads(30)
    >>> round(float(drift("adam", g, beta1=0.0, beta2=0.1)), 4)
    0.2268
    >>> round(float(drift("amsgrad", g, beta1=0.0, beta2=0.1)), 4)
    -0.1164
    """
    if isinstance(burn_in, bool) or not isinstance(burn_in, Integral) or burn_in < 0:
        raise ValueError(f"burn_in must be an int >= 0, got {burn_in!r}")
    m, V = moments(method, grads, beta1=beta1, beta2=beta2, beta1_decay=beta1_decay, eps=eps)
    if burn_in >= m.shape[-1]:
        raise ValueError(f"burn_in must be smaller than the number of steps T={m.shape[-1]}, got {burn_in}")
    den = np.sqrt(V[..., burn_in:])
    u = np.divide(-m[..., burn_in:], den, out=np.zeros_like(den), where=den > 0)
    return u.mean(axis=-1)


#: Why period_drift has no stationary formula for a second moment.
_NOT_PERIODIC = {
    "mean_of_squares": "its V_t = (g_1^2 + ... + g_t^2) / t averages over all time and has no periodic regime",
    "rescaled_running_max": ("its running max is rescaled by ((1 - beta1_t) / (1 - beta1_{t-1}))^2, which follows "
                             "the schedule of beta1_t, not the period (with a constant beta1 it is the running max "
                             "of a method with the second moment 'running_max')"),
}


def period_drift(method: str, pattern, *, beta1=0.9, beta2=0.99, eps=0.0) -> np.ndarray:
    """The net unprojected move per period at stationarity, D = -sum_t m_t / sqrt(V_t).

    When the gradients repeat with period n the moments become periodic too: at the end
    of a period the exponential averages sit at the fixed points of the period map,
    ``m* = (1-b1) sum_j b1^(n-j) g_j / (1 - b1^n)`` and the same for ``v*`` with ``b2``
    and ``g_j^2``; a running max of ``v`` settles at the largest ``v`` of that period.
    D sums ``-m_t / sqrt(V_t + eps)`` over one period from there.  With
    ``alpha_t = alpha/sqrt(t)``, an iterate away from the bounds moves by about
    ``alpha_t D`` per period late in the run, so the sign of D says where the method
    ends: ``D > 0`` at the upper bound, ``D < 0`` at the lower one.

    Parameters
    ----------
    method : str
        A simulated method whose first moment is "gradient" or "moving_average" with a
        constant beta1 (no ``beta1_decay`` of its own), and whose second moment is
        "identity", "moving_average" or "running_max": ``"sgd"``, ``"rmsprop"``,
        ``"adam"``, ``"amsgrad"``.
    pattern : LinearProblem or array_like of shape (n,)
        A periodic :class:`LinearProblem` (``period`` set), or the gradients of one
        period (real numbers with ``|g| <= 1e150``, n >= 1).
    beta1 : float or array_like of shape (B,), default 0.9
        In [0, 1).
    beta2 : float or array_like of shape (B,), default 0.99
        In [0, 1).
    eps : float or array_like of shape (B,), default 0.0
        Added to V_t under the root; finite, >= 0.

    Returns
    -------
    numpy.float64 or numpy.ndarray of shape (B,)
        D, per configuration when a parameter is an array.

    Raises
    ------
    TypeError
        If ``method`` is not a str, ``pattern`` is a stochastic :class:`LinearProblem`
        or does not hold real numbers, or a hyperparameter is not a real number or a
        1-D array of them.
    ValueError
        If ``method`` is unknown, not simulated, or has no stationary formula (the
        message says why), ``pattern`` is not one period of shape (n,) or not finite, a
        hyperparameter is out of its range, or the batch sizes disagree.

    Examples
    --------
    Theorem 1's period 3, -1, -1: with beta1 = 0 Adam drifts up for beta2 = 0.1, down
    for beta2 = 0.9 and 0.999.

    >>> period_drift("adam", [3.0, -1.0, -1.0], beta1=0.0,
    ...              beta2=[0.1, 0.9, 0.999]).round(4).tolist()
    [0.6809, -0.4431, -0.5215]
    >>> from adaptive_methods.online import periodic_problem
    >>> round(float(period_drift("amsgrad", periodic_problem(3.0), beta1=0.0,
    ...                          beta2=0.1)), 4)
    -0.3491
    """
    recurrence = _periodic_recurrence(method)
    g = _one_period(pattern)
    b1 = as_param("beta1", beta1, low=0.0, high=1.0, low_open=False, high_open=True)
    b2 = as_param("beta2", beta2, low=0.0, high=1.0, low_open=False, high_open=True)
    ep = as_param("eps", eps, low=0.0, high=math.inf, low_open=False, high_open=True)
    B = batch_size(1, {"beta1": b1, "beta2": b2, "eps": ep})
    b1, b2, ep = (np.broadcast_to(v, (B,)) for v in (b1, b2, ep))
    n = g.size
    out = np.empty(B)
    for i in range(B):
        m = g if recurrence.first == "gradient" else _stationary_average(g, b1[i])
        if recurrence.second == "identity":
            V = np.ones(n)
        else:
            V = _stationary_average(g * g, b2[i])
            if recurrence.second == "running_max":
                V = np.full(n, V.max())
        den = np.sqrt(V + ep[i])
        out[i] = -np.sum(np.divide(m, den, out=np.zeros(n), where=den > 0))
    return out if B > 1 or not all(is_scalar(v) for v in (beta1, beta2, eps)) else out[0]


def _periodic_recurrence(method):
    """The recurrence of ``method``, which must have a stationary regime on a periodic problem."""
    info = simulated_method(method)
    recurrence = info.recurrence
    if recurrence.second in _NOT_PERIODIC:
        raise ValueError(f"period_drift has no stationary formula for method {info.name!r} (second moment "
                         f"{recurrence.second!r}): {_NOT_PERIODIC[recurrence.second]}")
    if recurrence.first == "moving_average" and info.beta1_decay is not None:
        raise ValueError(f"period_drift has no stationary formula for method {info.name!r}: its beta1_t = "
                         f"beta1 * {info.beta1_decay}^(t-1) changes from period to period")
    return recurrence


def _one_period(pattern) -> np.ndarray:
    """The gradients of one period, shape (n,), from a periodic problem or an array."""
    if isinstance(pattern, LinearProblem):
        if pattern.period is None:
            raise TypeError("pattern must be a periodic LinearProblem (period set) or an array of one period's gradients")
        return pattern.grads(pattern.period)
    g, one_d = as_grads(pattern)
    if not one_d:
        raise ValueError(f"pattern must be one period of gradients, shape (n,), got shape {np.shape(pattern)}")
    return g[0]


def _stationary_average(c: np.ndarray, beta: float) -> np.ndarray:
    """y_t = beta y_{t-1} + (1 - beta) c_t over one period, from the period map's fixed point
    y* = (1 - beta) sum_j beta^(n-j) c_j / (1 - beta^n)."""
    n = c.size
    powers = np.arange(n - 1, -1, -1, dtype=np.float64)
    end = (1.0 - beta) * np.sum(beta**powers * c) / (1.0 - beta**n)
    return lfilter([1.0 - beta], [1.0, -beta], c, zi=[beta * end])[0]


def regret(grads, xs, bounds=(-1.0, 1.0)) -> np.ndarray:
    """R_1 .. R_T of the iterates ``xs`` on the linear losses ``f_t(x) = g_t x``.

    ``R_t = sum_{s<=t} g_s x_s - min_{x in [lo, hi]} sum_{s<=t} g_s x``; the minimum of
    a linear function on an interval sits at the end opposite the sign of ``sum g``.
    For a d-dimensional box, pass coordinates as rows and sum the result over them.

    Parameters
    ----------
    grads : array_like of shape (T,) or (B, T)
        g_1 .. g_T, real numbers with ``|g| <= 1e150``, T >= 1.
    xs : array_like of shape (T,), (T+1,), (B, T) or (B, T+1)
        x_1 .. x_T (or x_1 .. x_{T+1}, as :func:`simulate` returns; the last one is not
        played); finite real numbers within ``bounds``.
    bounds : (lo, hi), default (-1.0, 1.0)
        The box; lo and hi each a finite real number or an array of shape (B,), lo < hi.

    Returns
    -------
    numpy.ndarray of float64
        R_1 .. R_T, shape (T,) or (B, T): the shapes broadcast, so (T,) gradients with
        (B, T+1) iterates give (B, T).

    Raises
    ------
    TypeError
        If ``grads`` or ``xs`` does not hold real numbers, or ``bounds`` is not a pair
        of real numbers or 1-D arrays of them.
    ValueError
        If a shape is wrong, ``grads`` or ``xs`` is not finite, ``xs`` leaves
        ``bounds``, lo >= hi, or the batch sizes of grads, xs and bounds disagree.

    Examples
    --------
    The best point is -1 while the gradients sum to more than 0, any point when they
    sum to 0:

    >>> regret([1.0, -1.0, 1.0], [0.0, 0.0, 0.0, 0.5]).tolist()
    [1.0, 0.0, 1.0]
    >>> regret([1.0, -1.0, 1.0], [[0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]]).tolist()
    [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    """
    g2, one_d = as_grads(grads)
    g = g2[0] if one_d else g2
    x = np.asarray(xs)
    if x.dtype == bool or x.dtype.kind not in "iuf":
        raise TypeError(f"xs must hold real numbers, got dtype {x.dtype}")
    x = x.astype(np.float64, copy=False)
    if x.ndim not in (1, 2):
        raise ValueError(f"xs must have shape (T,), (T+1,), (B, T) or (B, T+1), got shape {x.shape}")
    T = g.shape[-1]
    if x.shape[-1] not in (T, T + 1):
        raise ValueError(f"xs must hold T={T} or T+1={T + 1} iterates per row, got {x.shape[-1]}")
    if not np.all(np.isfinite(x)):
        raise ValueError("xs must be finite (found NaN or inf)")
    lo, hi = as_bounds(bounds)
    rows = {g.shape[0] if g.ndim == 2 else 1, x.shape[0] if x.ndim == 2 else 1, lo.size}
    if len(rows - {1}) > 1:
        raise ValueError(f"batch sizes of grads, xs and bounds disagree: grads {g.shape}, xs {x.shape}, bounds {lo.size}")
    if np.any(x < (lo if lo.size == 1 else lo[:, None])) or np.any(x > (hi if hi.size == 1 else hi[:, None])):
        raise ValueError("xs must lie within bounds")
    played = np.cumsum(g * x[..., :T], axis=-1)
    total = np.cumsum(g, axis=-1)
    if lo.size > 1:
        lo, hi = lo[:, None], hi[:, None]
    elif max(g.ndim, x.ndim) == 1:
        lo, hi = float(lo[0]), float(hi[0])
    best = np.minimum(lo * total, hi * total)
    return played - best


