"""One-dimensional online and stochastic linear problems, and an exact fast simulator.

The counterexamples of Reddi, Kale & Kumar (ICLR 2018) are linear losses
``f_t(x) = g_t x`` on a box ``F = [lo, hi]``.  The gradient ``g_t`` of a linear loss does
not depend on the point ``x_t`` where it is evaluated, so every moment estimate
(``m_t``, ``v_t``, ``vhat_t``, ...) and every unprojected step of an adaptive method can be
computed before a single iterate is known.  What remains is

    x_{t+1} = min(max(x_t - q_t, lo), hi),      q_t = alpha_t m_t / sqrt(V_t)

a *clipped* running sum.  Both halves are scans:

* the moments are linear recurrences ``y_t = a_t y_{t-1} + c_t`` (``scipy.signal.lfilter``
  for constant coefficients, a blocked scan otherwise);
* the maps ``x -> min(max(x + a, l), h)`` are closed under composition, so a block of
  steps composes into one map of the same form; the blocked scan composes each block,
  carries the state across blocks, then replays every block from its exact start.

:func:`simulate` runs a batch of ``B`` configurations (problems or hyperparameter
settings) together.  A ``(B, T)`` gradient array with shared hyperparameters is also how a
``d``-dimensional problem on a box with diagonal ``V_t`` is simulated: the weighted
projection onto a box is a coordinate-wise clip, so the coordinates never interact; use
the rows as coordinates and sum :func:`regret` over them.

The methods are the paper's forms: no bias correction, no ``eps`` (unless asked for),
``alpha_t = alpha / sqrt(t)`` unless ``step="constant"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy.signal import lfilter

__all__ = [
    "METHODS",
    "STEPS",
    "ENGINES",
    "simulate",
    "regret",
    "moments",
    "drift",
    "period_drift",
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

METHODS = ("sgd", "adagrad", "rmsprop", "adam", "amsgrad", "adamnc")
STEPS = ("inv_sqrt", "constant")
ENGINES = ("auto", "loop", "vector", "blocked")

# Below this many configuration-steps a plain Python loop beats any array code
# (NumPy's per-call overhead dominates): about 300 steps on the 2-core CI machine.
_LOOP_MAX_WORK = 320
# From this batch size on, one array operation per step across the batch is cheaper
# than the blocked scan, whose extra element work then outweighs the saved calls.
_VECTOR_MIN_B = 192
# Time chunk of the "vector" engine: keeps the per-chunk buffers in cache.
_CHUNK_ELEMENTS = 1 << 16
# Time window of the moment recurrences: about 2^21 elements (16 MB) per temporary, but
# never under 16384 steps, since each distinct row costs one lfilter call per window.
_WINDOW_ELEMENTS = 1 << 21
_WINDOW_MIN = 16384

_MOMENTUM_METHODS = ("adam", "amsgrad", "adamnc")
_GRAD_MAX = 1e150
_FLOAT64 = np.dtype(np.float64)
_INF = math.inf
_METHOD_SET, _STEP_SET = frozenset(METHODS), frozenset(STEPS)
_PLAIN_NUMBERS = frozenset((float, int))  # exact types: bool and NumPy scalars are not in it


# ---------------------------------------------------------------------------------------
# Input checking
# ---------------------------------------------------------------------------------------


def _check_choice(name: str, value, allowed) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {', '.join(map(repr, allowed))}; got {type(value).__name__}: {value!r}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def _as_grads(grads) -> tuple[np.ndarray, bool]:
    """Gradients as a float64 (R, T) array, and whether the input was one-dimensional."""
    if isinstance(grads, (str, bytes)) or grads is None:
        raise TypeError(f"grads must be an array of real numbers, got {type(grads).__name__}")
    arr = grads if isinstance(grads, np.ndarray) else np.asarray(grads)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"grads must hold real numbers (int or float), got dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise ValueError(f"grads must have shape (T,) or (B, T), got shape {arr.shape}")
    if arr.shape[-1] == 0 or arr.size == 0:
        raise ValueError(f"grads must hold at least one step and one row, got shape {arr.shape}")
    g = np.ascontiguousarray(arr, dtype=np.float64)
    # two reductions, no temporary: max/min propagate NaN
    if not (-_GRAD_MAX <= float(g.min()) and float(g.max()) <= _GRAD_MAX):
        bad = ~(np.abs(g) <= _GRAD_MAX)
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"grads must be finite with |g| <= {_GRAD_MAX:g} (so that g^2 is finite), got {g[where]} at index {where}")
    return (g[None, :] if g.ndim == 1 else g), g.ndim == 1


def _as_param(name: str, value, *, low: float, high: float, low_open: bool, high_open: bool) -> np.ndarray:
    """A scalar or a 1-D array of reals in the stated interval, as a float64 1-D array."""
    if isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_)):
        v = float(value)  # a NaN fails both comparisons
        if (v > low if low_open else v >= low) and (v < high if high_open else v <= high):
            return np.array([v])
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be in {left}{low}, {high}{right}, got {v}")
    if isinstance(value, (bool, np.bool_)) or value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a real number or a 1-D array of them, got {type(value).__name__}: {value!r}")
    arr = np.asarray(value)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real number or a 1-D array of them, got dtype {arr.dtype}")
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or have shape (B,), got shape {arr.shape}")
    arr = np.atleast_1d(arr.astype(np.float64))
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    bad_low = arr <= low if low_open else arr < low
    bad_high = arr >= high if high_open else arr > high
    bad = np.isnan(arr) | bad_low | bad_high
    if np.any(bad):
        first = arr[np.argmax(bad)]
        raise ValueError(f"{name} must be in {left}{low}, {high}{right}, got {first}")
    return arr


def _is_scalar(value) -> bool:
    return isinstance(value, (int, float, np.generic)) or (isinstance(value, np.ndarray) and value.ndim == 0)


def _as_bounds(bounds) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(bounds, (str, bytes)) or not hasattr(bounds, "__len__") or len(bounds) != 2:
        raise TypeError(f"bounds must be a pair (lo, hi), got {bounds!r}")
    if isinstance(bounds[0], float) and isinstance(bounds[1], float) and -math.inf < bounds[0] < bounds[1] < math.inf:
        return np.array([bounds[0]]), np.array([bounds[1]])
    lo = _as_param("bounds[0] (lo)", bounds[0], low=-math.inf, high=math.inf, low_open=True, high_open=True)
    hi = _as_param("bounds[1] (hi)", bounds[1], low=-math.inf, high=math.inf, low_open=True, high_open=True)
    if lo.size != hi.size and lo.size != 1 and hi.size != 1:
        raise ValueError(f"bounds lo and hi must have the same length, got {lo.size} and {hi.size}")
    lo, hi = np.broadcast_arrays(lo, hi)
    if np.any(lo >= hi):
        i = int(np.argmax(lo >= hi))
        raise ValueError(f"bounds must satisfy lo < hi, got lo={lo[i]}, hi={hi[i]}")
    return lo.copy(), hi.copy()


def _batch_size(rows: int, named: dict[str, np.ndarray]) -> int:
    """The batch size B implied by the gradient rows and the per-configuration arrays."""
    if rows == 1 and all(v.size == 1 for v in named.values()):
        return 1
    sizes = {k: v.size for k, v in named.items() if v.size != 1}
    if rows != 1:
        sizes = {"grads (rows)": rows, **sizes}
    distinct = set(sizes.values())
    if len(distinct) > 1:
        listed = ", ".join(f"{k}: {v}" for k, v in sizes.items())
        raise ValueError(f"batch sizes disagree; every argument with a batch axis must have the same length B, got {listed}")
    return distinct.pop() if distinct else 1


@dataclass
class _Spec:
    method: str
    g: np.ndarray  # (R, T), R == 1 (shared) or R == B
    squeeze: bool  # grads and every parameter were scalars / 1-D: return 1-D output
    B: int
    T: int
    alpha: np.ndarray  # (B,)
    beta1: np.ndarray
    beta2: np.ndarray
    decay: np.ndarray | None
    eps: np.ndarray
    step: str
    lo: np.ndarray
    hi: np.ndarray
    x1: np.ndarray


def _spec(method, grads, *, alpha, beta1, beta2, step, bounds, x1, beta1_decay, eps, need_alpha=True) -> _Spec:
    method = _check_choice("method", method, METHODS)
    step = _check_choice("step", step, STEPS)
    g, one_d = _as_grads(grads)
    named = {
        "beta1": _as_param("beta1", beta1, low=0.0, high=1.0, low_open=False, high_open=True),
        "beta2": _as_param("beta2", beta2, low=0.0, high=1.0, low_open=False, high_open=True),
        "eps": _as_param("eps", eps, low=0.0, high=math.inf, low_open=False, high_open=True),
    }
    if need_alpha:
        named["alpha"] = _as_param("alpha", alpha, low=0.0, high=math.inf, low_open=True, high_open=True)
    if beta1_decay is not None:
        named["beta1_decay"] = _as_param("beta1_decay", beta1_decay, low=0.0, high=1.0, low_open=True, high_open=False)
    lo, hi = _as_bounds(bounds)
    named["bounds"] = lo
    x = _as_param("x1", x1, low=-math.inf, high=math.inf, low_open=True, high_open=True)
    named["x1"] = x
    B = _batch_size(g.shape[0], named)
    if B == 1:
        full, lo_b, hi_b = named, lo, hi
    else:
        full = {k: np.broadcast_to(v, (B,)).copy() for k, v in named.items()}
        lo_b, hi_b = np.broadcast_to(lo, (B,)).copy(), np.broadcast_to(hi, (B,)).copy()
    if B == 1:
        if not lo_b[0] <= full["x1"][0] <= hi_b[0]:
            raise ValueError(f"x1 must lie in bounds [lo, hi] = [{lo_b[0]}, {hi_b[0]}], got {full['x1'][0]}")
    else:
        outside = (full["x1"] < lo_b) | (full["x1"] > hi_b)
        if outside.any():
            i = int(np.argmax(outside))
            raise ValueError(f"x1 must lie in bounds [lo, hi] = [{lo_b[i]}, {hi_b[i]}], got {full['x1'][i]}")
    scalars = all(_is_scalar(v) for v in (beta1, beta2, eps, x1, bounds[0], bounds[1])) and (
        beta1_decay is None or _is_scalar(beta1_decay)) and (not need_alpha or _is_scalar(alpha))
    return _Spec(
        method=method,
        g=g,
        squeeze=one_d and scalars,
        B=B,
        T=g.shape[1],
        alpha=full.get("alpha", np.ones(B)),
        beta1=full["beta1"],
        beta2=full["beta2"],
        decay=full.get("beta1_decay"),
        eps=full["eps"],
        step=step,
        lo=lo_b,
        hi=hi_b,
        x1=full["x1"],
    )


# ---------------------------------------------------------------------------------------
# Moments: linear recurrences along time
# ---------------------------------------------------------------------------------------


def _unique_rows(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the distinct configurations and, for each configuration, its distinct row."""
    B = columns[0].size
    if B == 1 or all(c.min() == c.max() for c in columns):
        return np.zeros(1, dtype=np.intp), np.zeros(B, dtype=np.intp)
    keys = np.stack(columns, axis=1)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _block_length(T: int, carry_cost: float) -> int:
    """Block length K that balances a blocked scan's two sequential loops.

    Composing and replaying cost about 11 array calls per position in the block (K of
    them), chaining costs ``carry_cost`` calls' worth per block (T / K of them): the sum
    is smallest at K = sqrt(carry_cost T / 11).
    """
    return max(1, min(T, int(math.sqrt(carry_cost * T / 11.0)) + 1))


def _linear_scan(a: np.ndarray, c: np.ndarray, y0: np.ndarray, block: int | None) -> np.ndarray:
    """y_t = a_t y_{t-1} + c_t from y_0 = y0, along the last axis of (R, T) arrays.

    Blocked: each block of K steps is scanned from a zero state (K vectorised steps over
    all blocks at once), the block ends are chained from y0, and the chained state is
    added back through the running products of a_t.  With one block and y0 = 0 this is
    the plain recurrence.
    """
    R, T = c.shape
    K = block if block is not None else _block_length(T, 4.0)
    K = max(1, min(K, T))
    nb = -(-T // K)
    pad = nb * K - T
    if pad:
        a = np.concatenate([a, np.ones((R, pad))], axis=1)
        c = np.concatenate([c, np.zeros((R, pad))], axis=1)
    prod = np.ascontiguousarray(a.reshape(R, nb, K).transpose(2, 0, 1))  # (K, R, nb)
    loc = np.ascontiguousarray(c.reshape(R, nb, K).transpose(2, 0, 1))
    for k in range(1, K):
        loc[k] += prod[k] * loc[k - 1]  # uses a_k before it becomes a running product
        prod[k] *= prod[k - 1]
    carry = np.empty((R, nb))
    carry[:, 0] = y0
    for j in range(1, nb):
        carry[:, j] = prod[K - 1, :, j - 1] * carry[:, j - 1] + loc[K - 1, :, j - 1]
    if nb > 1 or np.any(y0 != 0.0):
        loc += prod * carry[None]
    return loc.transpose(1, 2, 0).reshape(R, nb * K)[:, :T]


class _Moments:
    """Distinct rows of m_t and of sqrt(V_t + eps), one time window after another.

    Configurations that share a gradient row and the hyperparameters a moment depends on
    share its row (a grid of (beta1, beta2) over one gradient sequence has one row of m_t
    per beta1 and one of V_t per beta2).  The recurrences carry their state from window
    to window, with the plain loop's arithmetic: ``lfilter`` with its initial state for
    the exponential averages, a running sum started from the carried total, a running
    maximum.  ``sqrt(V_t + eps)`` is +inf where it is 0, which makes that step exactly 0.
    """

    def __init__(self, s: _Spec, block: int | None):
        self.s, self.block = s, block
        B, g = s.B, s.g
        gi = np.zeros(B) if g.shape[0] == 1 else np.arange(B, dtype=np.float64)
        if s.method in _MOMENTUM_METHODS:
            decay = s.decay if s.decay is not None else np.ones(B)
            first, self.m_of = _unique_rows(gi, s.beta1, decay)
            self.m_g = gi[first].astype(np.intp)
            self.m_beta1, self.m_decay = s.beta1[first], decay[first]
            self.m_varying = (self.m_decay != 1.0) & (self.m_beta1 != 0.0)
            self.m_last = np.zeros(first.size)
        else:
            self.m_of = np.zeros(B, dtype=np.intp) if g.shape[0] == 1 else np.arange(B)
            self.m_g = None
        if s.method == "sgd":
            first, self.d_of = _unique_rows(np.zeros(B), s.eps)
        elif s.method in ("adagrad", "adamnc"):
            first, self.d_of = _unique_rows(gi, s.eps)
        else:
            first, self.d_of = _unique_rows(gi, s.beta2, s.eps)
        self.d_g = gi[first].astype(np.intp)
        self.d_beta2, self.d_eps = s.beta2[first], s.eps[first]
        self.d_last = np.zeros(first.size)  # v_{t0}, or the running sum of g^2
        self.d_max = np.zeros(first.size)  # vhat_{t0}

    @property
    def rows(self) -> int:
        return max(self.m_of.max(initial=0), self.d_of.max(initial=0)) + 1

    def window(self, t0: int, t1: int, root: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(m_t, sqrt(V_t + eps)) for t0 < t <= t1; with ``root=False``, (m_t, V_t + eps)."""
        s, n = self.s, t1 - t0
        g = s.g[:, t0:t1]
        if self.m_g is None:
            m = g
        else:
            m = np.empty((self.m_g.size, n))
            for i in np.flatnonzero(~self.m_varying):
                b1 = self.m_beta1[i]
                m[i] = lfilter([1.0 - b1], [1.0, -b1], g[self.m_g[i]], zi=[b1 * self.m_last[i]])[0]
            varying = np.flatnonzero(self.m_varying)
            if varying.size:
                powers = np.arange(t0, t1, dtype=np.float64)
                b1t = self.m_beta1[varying, None] * self.m_decay[varying, None] ** powers[None, :]
                c = (1.0 - b1t) * g[self.m_g[varying]]
                m[varying] = _linear_scan(b1t, c, self.m_last[varying], self.block)
            self.m_last = m[:, -1].copy()
        d = np.empty((self.d_g.size, n))
        if s.method == "sgd":
            d[:] = 1.0
        elif s.method in ("adagrad", "adamnc"):
            t = np.arange(t0 + 1, t1 + 1, dtype=np.float64)
            run = np.empty(n + 1)
            for i, r in enumerate(self.d_g):
                run[0] = self.d_last[i]
                np.multiply(g[r], g[r], out=run[1:])
                np.cumsum(run, out=run)  # the loop's running sum, continued
                self.d_last[i] = run[-1]
                np.divide(run[1:], t, out=d[i])
        else:
            for i, r in enumerate(self.d_g):
                b2 = self.d_beta2[i]
                d[i] = lfilter([1.0 - b2], [1.0, -b2], g[r] * g[r], zi=[b2 * self.d_last[i]])[0]
                self.d_last[i] = d[i, -1]
                if s.method == "amsgrad":
                    np.maximum.accumulate(d[i], out=d[i])
                    np.maximum(d[i], self.d_max[i], out=d[i])
                    self.d_max[i] = d[i, -1]
        for i in np.flatnonzero(self.d_eps != 0.0):
            d[i] += self.d_eps[i]
        if not root:
            return m, d
        np.sqrt(d, out=d)
        if d.min() == 0.0:
            d[d == 0.0] = np.inf
        return m, d


# ---------------------------------------------------------------------------------------
# The clipped running sum
# ---------------------------------------------------------------------------------------


def _is_identity(of: np.ndarray, rows: int) -> bool:
    return of.size == rows and bool(np.all(of == np.arange(rows)))


def _steps(s: _Spec, m, m_of, d, d_of, t0: int) -> np.ndarray:
    """q_t = (alpha_t m_t) / sqrt(V_t + eps) for the window starting after t0, shape (B, n)."""
    n = m.shape[1]
    if s.step == "constant":
        a_t = s.alpha[:, None]
    else:
        a_t = np.sqrt(np.arange(t0 + 1, t0 + n + 1, dtype=np.float64))
        a_t = np.divide(s.alpha[0], a_t, out=a_t)[None, :] if s.B == 1 else s.alpha[:, None] / a_t[None, :]
    q = a_t * (m if _is_identity(m_of, m.shape[0]) else m[m_of])
    q /= d if _is_identity(d_of, d.shape[0]) else d[d_of]
    return q


def _scan_vector(s: _Spec, m, m_of, d, d_of, t0: int, x: np.ndarray, out) -> None:
    """One array operation per step for the whole batch, in cache-sized time chunks.

    The steps are built time-major, (steps, B), straight from the distinct moment rows:
    a gather from a few rows is cheaper than a gather of B rows.
    """
    B, n = s.B, m.shape[1]
    lo, hi = s.lo, s.hi
    m_id, d_id = _is_identity(m_of, m.shape[0]), _is_identity(d_of, d.shape[0])
    one_alpha = s.alpha.min() == s.alpha.max()
    chunk = max(1, min(n, _CHUNK_ELEMENTS // B))
    buf = np.empty((chunk, B)) if out is not None else None
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        mT = np.ascontiguousarray(m[:, c0:c1].T)
        dT = np.ascontiguousarray(d[:, c0:c1].T)
        if s.step == "constant":
            a_t = s.alpha[:1] if one_alpha else s.alpha[None, :]
        else:
            root_t = np.sqrt(np.arange(t0 + c0 + 1, t0 + c1 + 1, dtype=np.float64))
            a_t = (s.alpha[0] / root_t)[:, None] if one_alpha else s.alpha[None, :] / root_t[:, None]
        if one_alpha:
            am = mT * a_t
            q = am if m_id else np.take(am, m_of, axis=1)
        else:
            q = a_t * (mT if m_id else np.take(mT, m_of, axis=1))
        q /= dT if d_id else np.take(dT, d_of, axis=1)
        if out is None:
            for k in range(c1 - c0):
                np.subtract(x, q[k], out=x)
                np.maximum(x, lo, out=x)
                np.minimum(x, hi, out=x)
        else:
            for k in range(c1 - c0):
                np.subtract(x, q[k], out=x)
                np.maximum(x, lo, out=x)
                np.minimum(x, hi, out=x)
                buf[k] = x
            out[:, t0 + c0 + 1 : t0 + c1 + 1] = buf[: c1 - c0].T


def _scan_blocked(q: np.ndarray, x: np.ndarray, lo, hi, K: int, out) -> None:
    """Blocked scan of x_{t+1} = min(max(x_t - q_t, lo), hi) over the rows of q (B, n).

    1. compose each block of K steps into one map  x -> min(max(x + a, l), h):
       composing with the next step gives a - q, min(max(l - q, lo), hi), min(max(h - q, lo), hi);
    2. chain the block maps to get the state entering every block;
    3. replay every block step by step from that state (all blocks at once), so that
       within a block the arithmetic is the plain loop's.
    ``x`` (B,) enters as the state before the window and leaves as the state after it;
    ``out`` (B, n), if given, receives the iterates.
    """
    B, n = q.shape
    K = max(1, min(K, n))
    nb = -(-n // K)
    pad = nb * K - n
    if pad:
        q = np.concatenate([q, np.zeros((B, pad))], axis=1)
    qk = np.ascontiguousarray(q.reshape(B, nb, K).transpose(2, 0, 1))  # (K, B, nb)
    lo_c, hi_c = lo[:, None], hi[:, None]
    # A step of 2 (hi - lo) or more saturates from anywhere in the box; capping it there
    # changes no iterate but keeps the composed offsets finite (no inf - inf).
    cap = 2.0 * (hi_c - lo_c)
    np.minimum(qk, cap, out=qk)
    np.maximum(qk, -cap, out=qk)
    starts = np.empty((B, nb))
    starts[:, 0] = x
    if nb > 1:
        a = np.zeros((B, nb))
        low = np.broadcast_to(lo_c, (B, nb)).copy()
        high = np.broadcast_to(hi_c, (B, nb)).copy()
        for k in range(K):
            a -= qk[k]
            np.subtract(low, qk[k], out=low)
            np.maximum(low, lo_c, out=low)
            np.minimum(low, hi_c, out=low)
            np.subtract(high, qk[k], out=high)
            np.maximum(high, lo_c, out=high)
            np.minimum(high, hi_c, out=high)
        if B == 1:
            # Python floats: far cheaper than 1-element array operations
            xs = float(x[0])
            al, ll, hl = a[0].tolist(), low[0].tolist(), high[0].tolist()
            st = [xs]
            for j in range(nb - 1):
                v = xs + al[j]
                xs = ll[j] if v < ll[j] else (hl[j] if v > hl[j] else v)
                st.append(xs)
            starts[0] = st
        else:
            for j in range(nb - 1):
                v = starts[:, j] + a[:, j]
                starts[:, j + 1] = np.minimum(np.maximum(v, low[:, j]), high[:, j])
    if out is None:
        # only the last block needs replaying
        xl = starts[:, nb - 1].copy()
        for k in range(K - pad):
            np.subtract(xl, qk[k, :, nb - 1], out=xl)
            np.maximum(xl, lo, out=xl)
            np.minimum(xl, hi, out=xl)
        x[:] = xl
        return
    y = starts
    for k in range(K):
        np.subtract(y, qk[k], out=y)
        np.maximum(y, lo_c, out=y)
        np.minimum(y, hi_c, out=y)
        qk[k] = y  # the buffer of steps becomes the buffer of iterates
    out[:] = qk.transpose(1, 2, 0).reshape(B, nb * K)[:, :n]
    x[:] = out[:, -1]


def _loop_one(method: str, g_row: list, alpha: float, b1: float, b2: float, decay, eps: float,
              lo: float, hi: float, const: bool, x: float, trajectory: bool):
    """The plain sequential loop for one configuration, in Python floats.

    Returns the list x_1 .. x_{T+1} (``trajectory``) or the float x_{T+1}.
    """
    sqrt = math.sqrt
    momentum = method in _MOMENTUM_METHODS
    xs = [x] if trajectory else None
    m = v = vhat = total = 0.0
    for t, g in enumerate(g_row, start=1):
        if momentum:
            b1t = b1 if decay is None else b1 * decay ** (t - 1)
            m = b1t * m + (1.0 - b1t) * g
        else:
            m = g
        if method == "sgd":
            V = 1.0
        elif method == "adagrad" or method == "adamnc":
            total += g * g
            V = total / t
        else:
            v = b2 * v + (1.0 - b2) * (g * g)
            if method == "amsgrad":
                vhat = v if v > vhat else vhat
                V = vhat
            else:
                V = v
        den = sqrt(V + eps)
        a_t = alpha if const else alpha / sqrt(t)
        q = (a_t * m) / den if den != 0.0 else 0.0
        x = x - q
        x = lo if x < lo else (hi if x > hi else x)
        if trajectory:
            xs.append(x)
    return xs if trajectory else x


def _scan_loop(s: _Spec, trajectory: bool) -> np.ndarray:
    """The plain sequential loop, one configuration at a time (Python floats)."""
    out = np.empty((s.B, s.T + 1)) if trajectory else np.empty(s.B)
    for b in range(s.B):
        out[b] = _loop_one(
            s.method, s.g[0 if s.g.shape[0] == 1 else b].tolist(), float(s.alpha[b]), float(s.beta1[b]),
            float(s.beta2[b]), None if s.decay is None else float(s.decay[b]), float(s.eps[b]),
            float(s.lo[b]), float(s.hi[b]), s.step == "constant", float(s.x1[b]), trajectory)
    return out


def _plain_floats(*values):
    """``values`` as floats if each is a plain Python float or int (not bool), else None."""
    if not _PLAIN_NUMBERS.issuperset(map(type, values)):
        return None
    return tuple(map(float, values))


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


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
    """Iterates of an adaptive method on the linear losses ``f_t(x) = g_t x`` over a box.

    For t = 1 .. T, with ``m_0 = v_0 = vhat_0 = 0``::

        m_t = b1t m_{t-1} + (1 - b1t) g_t        (adam, amsgrad, adamnc; m_t = g_t otherwise)
        V_t = 1                                  (sgd)
            = (g_1^2 + ... + g_t^2) / t          (adagrad; adamnc, i.e. beta2_t = 1 - 1/t)
            = v_t = b2 v_{t-1} + (1 - b2) g_t^2  (rmsprop, adam)
            = vhat_t = max(vhat_{t-1}, v_t)      (amsgrad)
        x_{t+1} = min(max(x_t - alpha_t m_t / sqrt(V_t + eps), lo), hi)

    with ``b1t = beta1 * beta1_decay**(t-1)`` (``beta1`` when ``beta1_decay`` is None) and
    ``alpha_t = alpha / sqrt(t)`` (``step="inv_sqrt"``) or ``alpha`` (``step="constant"``).
    Where ``sqrt(V_t + eps) == 0`` (the gradients ``V_t`` averages are all 0) the step is 0.
    ``beta1`` is ignored by sgd, adagrad and rmsprop, ``beta2`` by sgd, adagrad and adamnc.

    Parameters
    ----------
    method : "sgd" | "adagrad" | "rmsprop" | "adam" | "amsgrad" | "adamnc"
    grads : array of shape (T,) or (B, T)
        g_1 .. g_T; a (T,) array is shared by all B configurations.
    alpha, beta1, beta2, beta1_decay, eps, x1 : scalar or array of shape (B,)
        ``alpha > 0``; ``beta1, beta2`` in [0, 1); ``beta1_decay`` in (0, 1] or None;
        ``eps >= 0``; ``x1`` in ``bounds``.
    bounds : (lo, hi), each a scalar or an array of shape (B,), lo < hi
    trajectory : bool
        True: return x_1 .. x_{T+1}; False: return only x_{T+1}.
    engine : "auto" | "loop" | "vector" | "blocked"
        How the clipped sum is scanned; every engine gives the plain loop's iterates (to
        rounding).  "loop": plain Python; "vector": one array operation per step for the
        whole batch; "blocked": the blocked scan of the module docstring; "auto" picks by
        problem size.
    block : int, optional
        Block length of the blocked scans (default: about sqrt of the window).
    window : int, optional
        Steps per time window: the moments are computed window by window, carrying their
        state (default: about 2^21 / B steps, at least 16384).

    Returns
    -------
    float64 array of shape (T+1,), (B, T+1), () or (B,): (B, ...) whenever ``grads`` is
    2-D or any parameter is an array.
    """
    # A short single run in plain Python numbers -- the call a reader makes most -- is
    # checked here with plain comparisons, inline: the general checks cost as much as 20
    # steps of the loop and would make it slower than the loop it replaces.  Whatever
    # these comparisons do not accept (parameter arrays, NumPy scalars, lists, bad values)
    # takes the general path, which raises the exact error.
    if (engine == "auto" and block is None and window is None and type(grads) is np.ndarray
            and grads.ndim == 1 and grads.dtype is _FLOAT64 and 0 < grads.size <= _LOOP_MAX_WORK
            and type(method) is str and method in _METHOD_SET and type(step) is str and step in _STEP_SET
            and type(trajectory) is bool and type(bounds) is tuple and len(bounds) == 2):
        lo, hi = bounds
        plain = (type(alpha) is float and type(beta1) is float and type(beta2) is float and type(eps) is float
                 and type(x1) is float and type(lo) is float and type(hi) is float
                 and (beta1_decay is None or type(beta1_decay) is float))
        if not plain and beta1_decay is None:
            # ints become floats, so that iterates clipped to an int bound stay float64
            numbers = _plain_floats(alpha, beta1, beta2, eps, x1, lo, hi)
            if plain := numbers is not None:
                alpha, beta1, beta2, eps, x1, lo, hi = numbers
        if (plain and 0.0 < alpha < _INF and 0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0 and 0.0 <= eps < _INF
                and -_INF < lo <= x1 <= hi < _INF and lo < hi
                and (beta1_decay is None or 0.0 < beta1_decay <= 1.0)):
            g_row = grads.tolist()
            for g in g_row:
                if not -_GRAD_MAX <= g <= _GRAD_MAX:  # NaN fails too
                    break
            else:
                out = _loop_one(method, g_row, alpha, beta1, beta2, beta1_decay, eps, lo, hi,
                                step == "constant", x1, trajectory)
                return np.array(out) if trajectory else np.float64(out)
    s = _spec(method, grads, alpha=alpha, beta1=beta1, beta2=beta2, step=step, bounds=bounds, x1=x1,
              beta1_decay=beta1_decay, eps=eps)
    engine = _check_choice("engine", engine, ENGINES)
    if not isinstance(trajectory, (bool, np.bool_)):
        raise TypeError(f"trajectory must be a bool, got {type(trajectory).__name__}: {trajectory!r}")
    for name, value in (("block", block), ("window", window)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, Integral) or value < 1):
            raise ValueError(f"{name} must be None or an int >= 1, got {value!r}")
    if engine == "auto":
        if s.B * s.T <= _LOOP_MAX_WORK:
            engine = "loop"
        else:
            engine = "vector" if s.B >= _VECTOR_MIN_B else "blocked"
    if engine == "loop":
        out = _scan_loop(s, bool(trajectory))
        return out[0] if s.squeeze else out
    stream = _Moments(s, block)
    per_window = stream.rows if engine == "vector" else max(stream.rows, s.B)
    if window is None:
        window = max(_WINDOW_MIN, _WINDOW_ELEMENTS // per_window)
    window = min(s.T, int(window))
    x = s.x1.copy()
    out = np.empty((s.B, s.T + 1)) if trajectory else None
    if out is not None:
        out[:, 0] = x
    # one block carry is a Python float step for one row, ~4 array calls otherwise
    K = block if block is not None else _block_length(window, 0.3 if s.B == 1 else 4.0)
    for t0 in range(0, s.T, window):
        t1 = min(s.T, t0 + window)
        m, d = stream.window(t0, t1)
        if engine == "vector":
            _scan_vector(s, m, stream.m_of, d, stream.d_of, t0, x, out)
        else:
            q = _steps(s, m, stream.m_of, d, stream.d_of, t0)
            _scan_blocked(q, x, s.lo, s.hi, K, None if out is None else out[:, t0 + 1 : t1 + 1])
    out = x if out is None else out
    return out[0] if s.squeeze else out


def moments(method: str, grads, *, beta1=0.9, beta2=0.99, beta1_decay=None, eps=0.0) -> tuple[np.ndarray, np.ndarray]:
    """The moment estimates ``(m_t, V_t + eps)`` of :func:`simulate`, t = 1 .. T.

    They do not depend on the iterates (linear losses), so they need no simulation.
    Shapes follow ``grads`` ((T,) or (B, T)), or (B, T) when a parameter is an array.
    """
    s = _spec(method, grads, alpha=None, beta1=beta1, beta2=beta2, step="inv_sqrt", bounds=(-1.0, 1.0), x1=0.0,
              beta1_decay=beta1_decay, eps=eps, need_alpha=False)
    stream = _Moments(s, None)
    m_rows, V_rows = stream.window(0, s.T, root=False)
    m, V = m_rows[stream.m_of], V_rows[stream.d_of]
    return (m[0], V[0]) if s.squeeze else (m, V)


def drift(method: str, grads, *, beta1=0.9, beta2=0.99, beta1_decay=None, eps=0.0, burn_in: int = 0) -> np.ndarray:
    """Mean unprojected update direction ``-m_t / sqrt(V_t + eps)`` over t > burn_in.

    With ``alpha_t`` factored out, this is the average of ``(x^_{t+1} - x_t) / alpha_t``;
    positive means the method pushes x up (towards +1).  On the stochastic problem of
    Theorem 3 it estimates the sign of the expected step ``E[Delta_t]`` of the proof.
    """
    if isinstance(burn_in, bool) or not isinstance(burn_in, Integral) or burn_in < 0:
        raise ValueError(f"burn_in must be an int >= 0, got {burn_in!r}")
    m, V = moments(method, grads, beta1=beta1, beta2=beta2, beta1_decay=beta1_decay, eps=eps)
    if burn_in >= m.shape[-1]:
        raise ValueError(f"burn_in must be smaller than the number of steps T={m.shape[-1]}, got {burn_in}")
    den = np.sqrt(V[..., burn_in:])
    u = np.divide(-m[..., burn_in:], den, out=np.zeros_like(den), where=den > 0)
    return u.mean(axis=-1)


def period_drift(method: str, pattern, *, beta1=0.9, beta2=0.99, eps=0.0) -> np.ndarray:
    """Net unprojected move per period, ``D = -sum_t m_t / sqrt(V_t + eps)``, at stationarity.

    ``pattern`` is a periodic :class:`LinearProblem` or the gradients of one period, an
    array of shape (n,).  When the gradients repeat with period n the moments become
    periodic too: at the end of a period the exponential averages sit at the fixed points
    of the period map, ``m* = (1-b1) sum_j b1^(n-j) g_j / (1 - b1^n)`` and the same for
    ``v*`` with ``b2`` and ``g_j^2``; AMSGrad's ``vhat`` settles at the largest ``v`` of that
    period.  With ``alpha_t = alpha/sqrt(t)``, an iterate away from the bounds moves by
    about ``alpha_t D`` per period late in the run, so the sign of D says where the method
    ends: ``D > 0`` at the upper bound, ``D < 0`` at the lower one.  Methods: "sgd",
    "rmsprop", "adam", "amsgrad" (Adagrad and AdamNC average over all time and have no
    periodic regime).  ``beta1``, ``beta2`` and ``eps`` may be arrays of shape (B,); the
    result then has shape (B,).
    """
    method = _check_choice("method", method, ("sgd", "rmsprop", "adam", "amsgrad"))
    if isinstance(pattern, LinearProblem):
        if pattern.period is None:
            raise TypeError("pattern must be a periodic LinearProblem (period set) or an array of one period's gradients")
        g = pattern.grads(pattern.period)
    else:
        g, one_d = _as_grads(pattern)
        if not one_d:
            raise ValueError(f"pattern must be one period of gradients, shape (n,), got shape {np.shape(pattern)}")
        g = g[0]
    b1 = _as_param("beta1", beta1, low=0.0, high=1.0, low_open=False, high_open=True)
    b2 = _as_param("beta2", beta2, low=0.0, high=1.0, low_open=False, high_open=True)
    ep = _as_param("eps", eps, low=0.0, high=math.inf, low_open=False, high_open=True)
    B = _batch_size(1, {"beta1": b1, "beta2": b2, "eps": ep})
    b1, b2, ep = (np.broadcast_to(v, (B,)) for v in (b1, b2, ep))
    n = g.size
    powers = np.arange(n - 1, -1, -1, dtype=np.float64)
    out = np.empty(B)
    for i in range(B):
        if method in ("sgd", "rmsprop"):
            m = g
        else:
            m_end = (1.0 - b1[i]) * np.sum(b1[i] ** powers * g) / (1.0 - b1[i] ** n)
            m = lfilter([1.0 - b1[i]], [1.0, -b1[i]], g, zi=[b1[i] * m_end])[0]
        if method == "sgd":
            V = np.ones(n)
        else:
            v_end = (1.0 - b2[i]) * np.sum(b2[i] ** powers * g * g) / (1.0 - b2[i] ** n)
            V = lfilter([1.0 - b2[i]], [1.0, -b2[i]], g * g, zi=[b2[i] * v_end])[0]
            if method == "amsgrad":
                V = np.full(n, V.max())
        den = np.sqrt(V + ep[i])
        out[i] = -np.sum(np.divide(m, den, out=np.zeros(n), where=den > 0))
    return out if B > 1 or not all(_is_scalar(v) for v in (beta1, beta2, eps)) else out[0]


def regret(grads, xs, bounds=(-1.0, 1.0)) -> np.ndarray:
    """R_1 .. R_T of the iterates ``xs`` on the linear losses ``f_t(x) = g_t x``.

    ``R_t = sum_{s<=t} g_s x_s - min_{x in [lo, hi]} sum_{s<=t} g_s x``; the minimum of a
    linear function on an interval sits at the end opposite the sign of ``sum g``.
    ``xs`` holds x_1 .. x_T (or x_1 .. x_{T+1}, as :func:`simulate` returns; the last one
    is not played).  Shapes broadcast: (T,) gradients with (B, T+1) iterates give (B, T).
    For a d-dimensional box, pass coordinates as rows and sum the result over them.
    """
    g2, one_d = _as_grads(grads)
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
    lo, hi = _as_bounds(bounds)
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


# ---------------------------------------------------------------------------------------
# The problems of the paper
# ---------------------------------------------------------------------------------------


def _check_real(name: str, value, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}: {value!r}")
    value = float(value)
    if not math.isfinite(value) or (positive and value <= 0):
        raise ValueError(f"{name} must be {'> 0 and ' if positive else ''}finite, got {value}")
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
            raise ValueError(f"exactly one of period (online) and p (stochastic) must be given, got period={self.period}, p={self.p}")
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
                raise ValueError("n (independent draws) applies to stochastic problems only; this one is periodic")
            g = np.full(T, self.small, dtype=np.float64)
            g[:: self.period] = self.C  # t = 1, 1 + period, ... (index t - 1)
            return g
        if seed is None:
            raise ValueError("seed must be given for a stochastic problem (an int or a numpy Generator)")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(_check_int("seed", seed, 0))
        shape = (T,) if n is None else (_check_int("n", n, 1), T)
        return np.where(rng.random(shape) < self.p, self.C, self.small).astype(np.float64)


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
    return stochastic_problem(1010.0, 0.01, -10.0) if stochastic else periodic_problem(1010.0, 101, -10.0)


def theorem1_problem(C: float = 3.0) -> Counterexample:
    """Theorem 1: period 3, ``g = C`` then ``-1, -1``, C > 2; ``beta1 = 0``, ``beta2 = 1/(1+C^2)``.

    The proof uses ``alpha_t = alpha / sqrt(t)`` with ``alpha < sqrt(1 - beta2)`` (returned
    as ``alpha_max``) and starts at ``x_1 = 1``.
    """
    C = _check_real("C", C)
    if C <= 2:
        raise ValueError(f"C must be > 2 for Theorem 1 (regret per period 2C - 4 > 0), got {C}")
    beta2 = 1.0 / (1.0 + C * C)
    return Counterexample(periodic_problem(C, 3, -1.0), 0.0, beta2, math.sqrt(1.0 - beta2), "Theorem 1")


def _check_betas_theorem(beta1, beta2) -> tuple[float, float, float]:
    b1 = _check_real("beta1", beta1)
    b2 = _check_real("beta2", beta2)
    if not 0.0 <= b1 < 1.0:
        raise ValueError(f"beta1 must be in [0, 1), got {b1}")
    if not 0.0 <= b2 < 1.0:
        raise ValueError(f"beta2 must be in [0, 1), got {b2}")
    if not b1 < math.sqrt(b2):
        raise ValueError(f"the theorems need beta1 < sqrt(beta2), got beta1={b1}, sqrt(beta2)={math.sqrt(b2)}")
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
        geom = np.where(gamma > 0, gamma * (1.0 - np.power(gamma, C - 1.0)) / (1.0 - gamma), 0.0)
        lhs = 3.0 * (1.0 - b1) / (2.0 * math.sqrt(1.0 - b2)) * (1.0 + geom) + np.power(b1, C / 2.0 - 1.0) / (1.0 - b1)
        drift_ok = lhs < C / 3.0
    return {"even": even & (C >= 2), "momentum": momentum, "forgetting": forgetting, "drift": drift_ok}


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
    raise ValueError(f"no even C <= {limit} satisfies the Theorem 2 conditions for beta1={beta1}, beta2={beta2}")


def theorem2_problem(beta1: float, beta2: float) -> Counterexample:
    """Theorem 2: period C, ``g = C`` once per period, ``-1`` otherwise, C from the conditions."""
    b1, b2, _ = _check_betas_theorem(beta1, beta2)
    C = theorem2_period(b1, b2)
    return Counterexample(periodic_problem(float(C), C, -1.0), b1, b2, None, "Theorem 2")


def theorem3_problem(beta1: float, beta2: float, delta: float, C: float) -> Counterexample:
    """Theorem 3: ``g = C`` with probability ``p = (1 + delta)/(C + 1)``, else ``-1``.

    Then ``E[g] = delta`` and the optimum of ``E f(x) = delta x`` on [-1, 1] is -1.  The
    theorem takes C "large enough" for (beta1, beta2, delta); :func:`drift` tells whether
    a given C is (its sign at stationarity is the sign of the expected step).
    """
    b1, b2, _ = _check_betas_theorem(beta1, beta2)
    delta = _check_real("delta", delta, positive=True)
    C = _check_real("C", C, positive=True)
    p = (1.0 + delta) / (C + 1.0)
    if p > 1.0:
        raise ValueError(f"C must be >= delta so that p = (1 + delta)/(C + 1) <= 1, got C={C}, delta={delta}")
    return Counterexample(stochastic_problem(C, p, -1.0), b1, b2, None, "Theorem 3")
