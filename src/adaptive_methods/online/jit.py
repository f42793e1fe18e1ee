"""The "jit" engine: the whole recurrence of every configuration in one compiled loop.

The loop is :func:`~adaptive_methods.online.scans.loop_one`'s, compiled by numba with IEEE
arithmetic (no fastmath, no fused multiply-add), so its iterates are the plain loop's bit
for bit.  Each kind of recurrence (the flags of :func:`~adaptive_methods.online.scans.loop_flags`,
a shared gradient row or not, a decaying beta1, a constant step, the whole trajectory or
the last iterate) compiles a loop of its own in which the flags are constants, so that a
step tests nothing it could know beforehand: a third faster than one loop testing them.

numba is optional (``pip install adaptive-methods[fast]``): it is imported and a loop
compiled on its first use only, and the compiled code is cached on disk (``cache=True``,
keyed on the flags too), so importing :mod:`adaptive_methods` never pays for it.
"""

from __future__ import annotations

import math

import numpy as np

from .checks import GRAD_MAX, Spec, check_grad_values
from .scans import loop_flags

INSTALL_HINT = "the 'jit' engine needs numba: pip install numba (or the package's extra: pip install adaptive-methods[fast])"

# None: numba not tried yet; False: numba cannot be imported; else the numba module
_numba = None
# the compiled loop of each kind of recurrence (see _kind)
_loops: dict[tuple, object] = {}


def available() -> bool:
    """Whether numba can be imported (tried once)."""
    return _numba_module() is not None


def _numba_module():
    global _numba
    if _numba is None:
        try:
            import numba
        except ImportError:
            _numba = False
        else:
            _numba = numba
    return _numba or None


def _kind(s: Spec, trajectory: bool) -> tuple:
    """What a loop is specialized on: loop_flags, then a shared gradient row, a decaying
    beta1, a constant step size, and whether the whole trajectory is kept."""
    return (*loop_flags(s.recurrence), s.g.shape[0] == 1, s.decay is not None, s.step == "constant",
            bool(trajectory))


def _build(numba, momentum, identity, mean_of_squares, running_max, rescaled, shared, has_decay, const,
           trajectory):
    """The compiled loop of one kind: run(g, alpha, b1, b2, decay, eps, lo, hi, x1, root_t, out).

    The flags are closure constants: numba folds the branches on them, and its disk cache
    keys the compiled code on them."""
    varying_beta1 = has_decay and (momentum or rescaled)

    @numba.njit(cache=True, fastmath=False, nogil=True)
    def run(g, alpha, b1, b2, decay, eps, lo, hi, x1, root_t, out):
        """out[b] = x_1 .. x_{T+1} (trajectory) or out[b, 0] = x_{T+1}, configuration by
        configuration; returns -1, or the row of a gradient that is not finite or exceeds
        GRAD_MAX in size (a well-predicted test, where a check before the loop costs two
        passes over the gradients)."""
        T = g.shape[1]
        tabled = root_t.shape[0] == T
        for b in range(alpha.shape[0]):
            row = 0 if shared else b
            x = x1[b]
            a, beta1, beta2, ep, low, high = alpha[b], b1[b], b2[b], eps[b], lo[b], hi[b]
            dec = decay[b]
            if trajectory:
                out[b, 0] = x
            m = 0.0
            v = 0.0
            vhat = 0.0
            total = 0.0
            b1t = beta1
            b1_previous = beta1
            for i in range(T):
                t = i + 1
                gt = g[row, i]
                if not -GRAD_MAX <= gt <= GRAD_MAX:  # NaN fails too
                    return row
                if varying_beta1:
                    b1_previous = b1t
                    b1t = beta1 * dec ** float(t - 1)
                m = b1t * m + (1.0 - b1t) * gt if momentum else gt
                if identity:
                    V = 1.0
                elif mean_of_squares:
                    total += gt * gt
                    V = total / float(t)
                else:
                    v = beta2 * v + (1.0 - beta2) * (gt * gt)
                    if running_max:
                        vhat = v if v > vhat else vhat
                        V = vhat
                    elif rescaled:
                        if varying_beta1:
                            r = (1.0 - b1t) / (1.0 - b1_previous)
                            vhat *= r * r
                        vhat = v if v > vhat else vhat
                        V = vhat
                    else:
                        V = v
                den = math.sqrt(V + ep)
                a_t = a if const else a / (root_t[i] if tabled else math.sqrt(float(t)))
                q = (a_t * m) / den if den != 0.0 else 0.0
                x = x - q
                x = low if x < low else (high if x > high else x)
                if trajectory:
                    out[b, t] = x
            if not trajectory:
                out[b, 0] = x
        return -1

    return run


def _loop(kind: tuple):
    """The compiled loop of ``kind`` (built on first use), or None without numba."""
    numba = _numba_module()
    if numba is None:
        return None
    if kind not in _loops:
        _loops[kind] = _build(numba, *kind)
    return _loops[kind]


def scan_jit(s: Spec, trajectory: bool) -> np.ndarray:
    """The iterates of every configuration of ``s``, (B, T+1) or (B,), from the compiled loop."""
    run = _loop(_kind(s, trajectory))
    if run is None:
        raise ImportError(INSTALL_HINT)
    out = np.empty((s.B, s.T + 1 if trajectory else 1))
    decay = s.decay if s.decay is not None else np.ones(s.B)
    # sqrt(t) is the same for every configuration: a batch reads it from a table
    root_t = np.sqrt(np.arange(1, s.T + 1, dtype=np.float64)) if s.B > 1 and s.step != "constant" else np.empty(0)
    if run(s.g, s.alpha, s.beta1, s.beta2, decay, s.eps, s.lo, s.hi, s.x1, root_t, out) >= 0:
        check_grad_values(s.g[0] if s.grads_1d else s.g)  # raises, naming the first bad gradient
    return out if trajectory else out[:, 0]
