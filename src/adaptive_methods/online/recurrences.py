"""The moment recurrences of the simulator, along time, for a whole batch.

Which recurrences run is what the registry declares for the method
(:class:`~adaptive_methods.registry.Recurrence`): a first moment out of
:data:`~adaptive_methods.registry.FIRST_MOMENTS` and a second out of
:data:`~adaptive_methods.registry.SECOND_MOMENTS`.  Each is a linear recurrence
``y_t = a_t y_{t-1} + c_t`` (``scipy.signal.lfilter`` for constant coefficients, a
blocked scan otherwise), a running sum, or a running maximum of one.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter

from .checks import Spec


def unique_rows(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the distinct configurations and, for each configuration, its distinct row."""
    B = columns[0].size
    if B == 1 or all(c.min() == c.max() for c in columns):
        return np.zeros(1, dtype=np.intp), np.zeros(B, dtype=np.intp)
    keys = np.stack(columns, axis=1)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def block_length(T: int, carry_cost: float) -> int:
    """Block length K that balances a blocked scan's two sequential loops.

    Composing and replaying cost about 11 array calls per position in the block (K of
    them), chaining costs ``carry_cost`` calls' worth per block (T / K of them): the sum
    is smallest at K = sqrt(carry_cost T / 11).
    """
    return max(1, min(T, int(math.sqrt(carry_cost * T / 11.0)) + 1))


def linear_scan(a: np.ndarray, c: np.ndarray, y0: np.ndarray, block: int | None) -> np.ndarray:
    """y_t = a_t y_{t-1} + c_t from y_0 = y0, along the last axis of (R, T) arrays.

    Blocked: each block of K steps is scanned from a zero state (K vectorised steps over
    all blocks at once), the block ends are chained from y0, and the chained state is
    added back through the running products of a_t.  With one block and y0 = 0 this is
    the plain recurrence.
    """
    R, T = c.shape
    K = block if block is not None else block_length(T, 4.0)
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



#: Second-moment kind -> whether V_t reads the gradients, and which hyperparameters of
#: the :class:`~adaptive_methods.online.checks.Spec` it reads (besides eps).
_SECOND_MOMENT_READS = {
    "identity": (False, ()),
    "mean_of_squares": (True, ()),
    "moving_average": (True, ("beta2",)),
    "running_max": (True, ("beta2",)),
    "rescaled_running_max": (True, ("beta2", "beta1", "decay")),
}


class Moments:
    """Distinct rows of m_t and of sqrt(V_t + eps), one time window after another.

    Configurations that share a gradient row and the hyperparameters a moment reads share
    its row (a grid of (beta1, beta2) over one gradient sequence has one row of m_t per
    beta1 and one of V_t per beta2).  The recurrences carry their state from window to
    window, with the plain loop's arithmetic: ``lfilter`` with its initial state for the
    exponential averages, a running sum started from the carried total, a running
    maximum.  ``sqrt(V_t + eps)`` is +inf where it is 0, which makes that step exactly 0.
    """

    def __init__(self, s: Spec, block: int | None):
        self.s, self.block = s, block
        B = s.B
        row_of_grads = np.zeros(B) if s.g.shape[0] == 1 else np.arange(B, dtype=np.float64)
        hyper = {"beta1": s.beta1, "beta2": s.beta2, "decay": s.decay if s.decay is not None else np.ones(B)}
        if s.recurrence.first == "moving_average":
            rows, self.m_of = unique_rows(row_of_grads, hyper["beta1"], hyper["decay"])
            self.m_g = row_of_grads[rows].astype(np.intp)
            self.m_beta1, self.m_decay = hyper["beta1"][rows], hyper["decay"][rows]
            self.m_last = np.zeros(rows.size)  # m_{t0}
        else:  # "gradient": m_t = g_t, a row per gradient row
            self.m_of = np.zeros(B, dtype=np.intp) if s.g.shape[0] == 1 else np.arange(B)
            self.m_g = None
        reads_grads, reads = _SECOND_MOMENT_READS[s.recurrence.second]
        rows, self.d_of = unique_rows(row_of_grads if reads_grads else np.zeros(B), *(hyper[k] for k in reads), s.eps)
        self.d_g = row_of_grads[rows].astype(np.intp)
        self.d_beta1, self.d_beta2, self.d_decay = (hyper[k][rows] for k in ("beta1", "beta2", "decay"))
        self.d_eps = s.eps[rows]
        self.d_last = np.zeros(rows.size)  # v_{t0}, or the running sum of g^2
        self.d_max = np.zeros(rows.size)  # vhat_{t0} (rescaled by (1 - beta1_{t0})^-2 where it varies)
        self._second_moment = getattr(self, "_" + s.recurrence.second)

    @property
    def rows(self) -> int:
        return max(self.m_of.max(initial=0), self.d_of.max(initial=0)) + 1

    def window(self, t0: int, t1: int, root: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(m_t, sqrt(V_t + eps)) for t0 < t <= t1; with ``root=False``, (m_t, V_t + eps)."""
        g = self.s.g[:, t0:t1]
        m = g if self.m_g is None else self._first_moving_average(g, t0, t1)
        d = np.empty((self.d_g.size, t1 - t0))
        self._second_moment(g, t0, t1, d)
        for i in np.flatnonzero(self.d_eps != 0.0):
            d[i] += self.d_eps[i]
        if not root:
            return m, d
        np.sqrt(d, out=d)
        if d.min() == 0.0:
            d[d == 0.0] = np.inf
        return m, d

    def _first_moving_average(self, g, t0: int, t1: int) -> np.ndarray:
        """m_t = beta1_t m_{t-1} + (1 - beta1_t) g_t, beta1_t = beta1 * decay^(t-1)."""
        m = np.empty((self.m_g.size, t1 - t0))
        varying = (self.m_decay != 1.0) & (self.m_beta1 != 0.0)
        for i in np.flatnonzero(~varying):
            b1 = self.m_beta1[i]
            m[i] = lfilter([1.0 - b1], [1.0, -b1], g[self.m_g[i]], zi=[b1 * self.m_last[i]])[0]
        varying = np.flatnonzero(varying)
        if varying.size:
            b1t = self.m_beta1[varying, None] * self.m_decay[varying, None] ** np.arange(t0, t1, dtype=np.float64)
            c = (1.0 - b1t) * g[self.m_g[varying]]
            m[varying] = linear_scan(b1t, c, self.m_last[varying], self.block)
        self.m_last = m[:, -1].copy()
        return m

    def _identity(self, g, t0: int, t1: int, out: np.ndarray) -> None:
        out[:] = 1.0

    def _mean_of_squares(self, g, t0: int, t1: int, out: np.ndarray) -> None:
        """V_t = (g_1^2 + ... + g_t^2) / t: the loop's running sum, continued."""
        t = np.arange(t0 + 1, t1 + 1, dtype=np.float64)
        run = np.empty(t1 - t0 + 1)
        for i, r in enumerate(self.d_g):
            run[0] = self.d_last[i]
            np.multiply(g[r], g[r], out=run[1:])
            np.cumsum(run, out=run)
            self.d_last[i] = run[-1]
            np.divide(run[1:], t, out=out[i])

    def _moving_average(self, g, t0: int, t1: int, out: np.ndarray) -> None:
        """v_t = beta2 v_{t-1} + (1 - beta2) g_t^2."""
        for i, r in enumerate(self.d_g):
            b2 = self.d_beta2[i]
            out[i] = lfilter([1.0 - b2], [1.0, -b2], g[r] * g[r], zi=[b2 * self.d_last[i]])[0]
            self.d_last[i] = out[i, -1]

    def _running_max(self, g, t0: int, t1: int, out: np.ndarray) -> None:
        """vhat_t = max(vhat_{t-1}, v_t)."""
        self._moving_average(g, t0, t1, out)
        for i in range(out.shape[0]):
            self._carried_max(i, out[i])

    def _rescaled_running_max(self, g, t0: int, t1: int, out: np.ndarray) -> None:
        """vhat_t = max(((1 - beta1_t) / (1 - beta1_{t-1}))^2 vhat_{t-1}, v_t).

        The factors multiply to ((1 - beta1_t) / (1 - beta1_s))^2 from step s to step t,
        so vhat_t = (1 - beta1_t)^2 max_{s <= t} v_s / (1 - beta1_s)^2: a running max of
        rescaled v_s, scaled back.  A constant beta1 makes every factor 1 (AMSGrad's max).
        """
        self._moving_average(g, t0, t1, out)
        powers = np.arange(t0, t1, dtype=np.float64)
        for i in range(out.shape[0]):
            if self.d_decay[i] == 1.0 or self.d_beta1[i] == 0.0:
                self._carried_max(i, out[i])
                continue
            scale = 1.0 - self.d_beta1[i] * self.d_decay[i] ** powers
            scale *= scale
            out[i] /= scale
            self._carried_max(i, out[i])
            out[i] *= scale

    def _carried_max(self, i: int, row: np.ndarray) -> None:
        """Running maximum of ``row`` in place, continued from (and carried to) d_max[i]."""
        np.maximum.accumulate(row, out=row)
        np.maximum(row, self.d_max[i], out=row)
        self.d_max[i] = row[-1]
