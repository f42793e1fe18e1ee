"""The "jit" engine: the whole recurrence of every configuration in one compiled loop.

The loop is :func:`~adaptive_methods.online.scans.loop_one` over float64 arrays, compiled
by numba with IEEE arithmetic (no fastmath), so its iterates are the plain loop's.  numba
is optional (``pip install adaptive-methods[fast]``): it is imported and the loop
compiled on the first call only, and the compiled code is cached on disk (``cache=True``),
so importing :mod:`adaptive_methods` never pays for it.
"""

from __future__ import annotations

import math

import numpy as np

from .checks import Spec
from .scans import loop_flags

INSTALL_HINT = "the 'jit' engine needs numba: pip install numba (or the package's extra: pip install adaptive-methods[fast])"

# None: not tried yet; False: numba cannot be imported; else the compiled kernel
_compiled = None


def available() -> bool:
    """Whether numba can be imported (tried once)."""
    return _kernel() is not None


def _kernel():
    global _compiled
    if _compiled is None:
        try:
            import numba
        except ImportError:
            _compiled = False
        else:
            _compiled = numba.njit(cache=True, fastmath=False, nogil=True)(_run)
    return _compiled or None


def _run(g, shared, alpha, b1, b2, decay, has_decay, eps, lo, hi, x1, const, momentum, identity,
         mean_of_squares, running_max, rescaled, trajectory, root_t, out):
    """out[b] = x_1 .. x_{T+1} (trajectory) or out[b, 0] = x_{T+1}, configuration by configuration."""
    B = alpha.shape[0]
    T = g.shape[1]
    varying_beta1 = has_decay and (momentum or rescaled)
    tabled = root_t.shape[0] == T
    for b in range(B):
        row = 0 if shared else b
        x = x1[b]
        a, beta1, beta2, dec, ep, low, high = alpha[b], b1[b], b2[b], decay[b], eps[b], lo[b], hi[b]
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


def scan_jit(s: Spec, trajectory: bool) -> np.ndarray:
    """The iterates of every configuration of ``s``, (B, T+1) or (B,), from the compiled loop."""
    kernel = _kernel()
    if kernel is None:
        raise ImportError(INSTALL_HINT)
    out = np.empty((s.B, s.T + 1 if trajectory else 1))
    decay = s.decay if s.decay is not None else np.ones(s.B)
    # sqrt(t) is the same for every configuration: a batch reads it from a table
    root_t = np.sqrt(np.arange(1, s.T + 1, dtype=np.float64)) if s.B > 1 and s.step != "constant" else np.empty(0)
    kernel(s.g, s.g.shape[0] == 1, s.alpha, s.beta1, s.beta2, decay, s.decay is not None, s.eps, s.lo, s.hi,
           s.x1, s.step == "constant", *loop_flags(s.recurrence), bool(trajectory), root_t, out)
    return out if trajectory else out[:, 0]
