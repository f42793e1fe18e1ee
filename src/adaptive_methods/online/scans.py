"""The clipped running sum x_{t+1} = min(max(x_t - q_t, lo), hi), three ways.

* :func:`scan_loop`: the plain sequential loop, one configuration at a time, in Python
  floats (the fastest for short runs: NumPy's per-call overhead dominates there);
* :func:`scan_vector`: one array operation per step for the whole batch;
* :func:`scan_blocked`: the maps ``x -> min(max(x + a, l), h)`` are closed under
  composition, so a block of steps composes into one map of the same form; the blocked
  scan composes each block, carries the state across blocks, then replays every block
  from its exact start.

Every scan gives the plain loop's iterates (to rounding).
"""

from __future__ import annotations

import math

import numpy as np

from ..registry import Recurrence
from .checks import Spec

# Time chunk of the "vector" engine: keeps the per-chunk buffers in cache.
_CHUNK_ELEMENTS = 1 << 16


def is_identity(of: np.ndarray, rows: int) -> bool:
    return of.size == rows and bool(np.all(of == np.arange(rows)))


def unprojected_steps(s: Spec, m, m_of, d, d_of, t0: int) -> np.ndarray:
    """q_t = (alpha_t m_t) / sqrt(V_t + eps) for the window starting after t0, shape (B, n)."""
    n = m.shape[1]
    if s.step == "constant":
        a_t = s.alpha[:, None]
    else:
        a_t = np.sqrt(np.arange(t0 + 1, t0 + n + 1, dtype=np.float64))
        a_t = np.divide(s.alpha[0], a_t, out=a_t)[None, :] if s.B == 1 else s.alpha[:, None] / a_t[None, :]
    q = a_t * (m if is_identity(m_of, m.shape[0]) else m[m_of])
    q /= d if is_identity(d_of, d.shape[0]) else d[d_of]
    return q


def scan_vector(s: Spec, m, m_of, d, d_of, t0: int, x: np.ndarray, out) -> None:
    """One array operation per step for the whole batch, in cache-sized time chunks.

    The steps are built time-major, (steps, B), straight from the distinct moment rows:
    a gather from a few rows is cheaper than a gather of B rows.
    """
    B, n = s.B, m.shape[1]
    lo, hi = s.lo, s.hi
    m_id, d_id = is_identity(m_of, m.shape[0]), is_identity(d_of, d.shape[0])
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


def scan_blocked(q: np.ndarray, x: np.ndarray, lo, hi, K: int, out) -> None:
    """Blocked scan of x_{t+1} = min(max(x_t - q_t, lo), hi) over the rows of q (B, n).

    1. compose each block of K steps into one map  x -> min(max(x + a, l), h):
       composing with the next step gives a - q, min(max(l - q, lo), hi) and
       min(max(h - q, lo), hi);
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


def loop_flags(recurrence: Recurrence) -> tuple[bool, bool, bool, bool, bool]:
    """The recurrence kinds as the flags :func:`loop_one` tests at each step: a moving
    average for m_t; V_t the identity, the mean of squares, the running max, the rescaled
    running max (none of them: the moving average of squares)."""
    second = recurrence.second
    return (recurrence.first == "moving_average", second == "identity", second == "mean_of_squares",
            second == "running_max", second == "rescaled_running_max")


def loop_one(flags: tuple, g_row: list, alpha: float, b1: float, b2: float, decay, eps: float,
             lo: float, hi: float, const: bool, x: float, trajectory: bool):
    """The plain sequential loop for one configuration, in Python floats.

    ``flags`` are the recurrence's :func:`loop_flags`, so that a step tests booleans only.
    Returns the list x_1 .. x_{T+1} (``trajectory``) or the float x_{T+1}.
    """
    sqrt = math.sqrt
    momentum, identity, mean_of_squares, running_max, rescaled = flags
    varying_beta1 = decay is not None and (momentum or rescaled)
    xs = [x] if trajectory else None
    m = v = vhat = total = 0.0
    b1t = b1
    t = 0
    for g in g_row:
        t += 1  # a counter, not enumerate: cheaper for the short runs this loop serves
        if varying_beta1:
            b1_previous, b1t = b1t, b1 * decay ** (t - 1)
        m = b1t * m + (1.0 - b1t) * g if momentum else g
        if identity:
            V = 1.0
        elif mean_of_squares:
            total += g * g
            V = total / t
        else:
            v = b2 * v + (1.0 - b2) * (g * g)
            if running_max:
                vhat = v if v > vhat else vhat
                V = vhat
            elif rescaled:
                if varying_beta1:
                    vhat *= ((1.0 - b1t) / (1.0 - b1_previous)) ** 2
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


def scan_loop(s: Spec, trajectory: bool) -> np.ndarray:
    """The plain sequential loop, one configuration at a time (Python floats)."""
    out = np.empty((s.B, s.T + 1)) if trajectory else np.empty(s.B)
    flags = loop_flags(s.recurrence)
    for b in range(s.B):
        out[b] = loop_one(
            flags, s.g[0 if s.g.shape[0] == 1 else b].tolist(), float(s.alpha[b]), float(s.beta1[b]),
            float(s.beta2[b]), None if s.decay is None else float(s.decay[b]), float(s.eps[b]),
            float(s.lo[b]), float(s.hi[b]), s.step == "constant", float(s.x1[b]), trajectory)
    return out
