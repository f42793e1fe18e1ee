"""Input checks of the simulator: every bad argument gets an error naming it, its value
and what is allowed; good ones become a :class:`Spec` of float64 arrays of one batch."""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .. import registry
from ..registry import MethodInfo, Recurrence

STEPS = ("inv_sqrt", "constant")
ENGINES = ("auto", "loop", "vector", "blocked", "jit")

#: name -> registry entry of every method the simulator scans (a recurrence is declared).
SIMULATED: MappingProxyType[str, MethodInfo] = MappingProxyType(
    {name: info for name, info in registry.METHODS.items() if info.recurrence is not None})

GRAD_MAX = 1e150  # |g| <= GRAD_MAX keeps g^2 finite
_PLAIN_NUMBERS = frozenset((float, int))  # exact types: bool and NumPy scalars are not in it


def simulated_method(method) -> MethodInfo:
    """The registry entry of ``method``, which must declare a recurrence the simulator scans."""
    info = registry.method(method)
    if info.recurrence is None:
        raise ValueError(f"method {info.name!r} cannot be simulated: {info.not_simulated}")
    return info


def check_choice(name: str, value, allowed) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {', '.join(map(repr, allowed))}; got {type(value).__name__}: {value!r}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def as_grads(grads, *, check_values: bool = True) -> tuple[np.ndarray, bool]:
    """Gradients as a float64 (R, T) array, and whether the input was one-dimensional.

    ``check_values=False`` leaves :func:`check_grad_values` to the caller (the jit engine
    checks every gradient as its loop reads it, which saves two passes over the array)."""
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
    if check_values:
        check_grad_values(g)
    return (g[None, :] if g.ndim == 1 else g), g.ndim == 1


def check_grad_values(g: np.ndarray) -> None:
    """Raise ValueError naming the first gradient that is not finite or has |g| > GRAD_MAX
    (by its index in ``g``)."""
    # two reductions, no temporary: max/min propagate NaN
    if not (-GRAD_MAX <= float(g.min()) and float(g.max()) <= GRAD_MAX):
        bad = ~(np.abs(g) <= GRAD_MAX)
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"grads must be finite with |g| <= {GRAD_MAX:g} (so that g^2 is finite), got {g[where]} at index {where}")


def as_param(name: str, value, *, low: float, high: float, low_open: bool, high_open: bool) -> np.ndarray:
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


def is_scalar(value) -> bool:
    return isinstance(value, (int, float, np.generic)) or (isinstance(value, np.ndarray) and value.ndim == 0)


def as_bounds(bounds) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(bounds, (str, bytes)) or not hasattr(bounds, "__len__") or len(bounds) != 2:
        raise TypeError(f"bounds must be a pair (lo, hi), got {bounds!r}")
    if isinstance(bounds[0], float) and isinstance(bounds[1], float) and -math.inf < bounds[0] < bounds[1] < math.inf:
        return np.array([bounds[0]]), np.array([bounds[1]])
    lo = as_param("bounds[0] (lo)", bounds[0], low=-math.inf, high=math.inf, low_open=True, high_open=True)
    hi = as_param("bounds[1] (hi)", bounds[1], low=-math.inf, high=math.inf, low_open=True, high_open=True)
    if lo.size != hi.size and lo.size != 1 and hi.size != 1:
        raise ValueError(f"bounds lo and hi must have the same length, got {lo.size} and {hi.size}")
    lo, hi = np.broadcast_arrays(lo, hi)
    if np.any(lo >= hi):
        i = int(np.argmax(lo >= hi))
        raise ValueError(f"bounds must satisfy lo < hi, got lo={lo[i]}, hi={hi[i]}")
    return lo.copy(), hi.copy()


def batch_size(rows: int, named: dict[str, np.ndarray]) -> int:
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
class Spec:
    """One checked call: a batch of B configurations of one method over T steps."""

    method: str
    recurrence: Recurrence
    g: np.ndarray  # (R, T), R == 1 (shared) or R == B
    squeeze: bool  # grads and every parameter were scalars / 1-D: return 1-D output
    grads_1d: bool  # grads were given as one row (T,): errors name (t,), not (0, t)
    B: int
    T: int
    alpha: np.ndarray  # (B,)
    beta1: np.ndarray
    beta2: np.ndarray
    decay: np.ndarray | None  # beta1_t = beta1 * decay^(t-1); None: a constant beta1
    eps: np.ndarray
    step: str
    lo: np.ndarray
    hi: np.ndarray
    x1: np.ndarray




def spec(method, grads, *, alpha, beta1, beta2, step, bounds, x1, beta1_decay, eps, need_alpha=True,
         check_values=True) -> Spec:
    """Check every argument of :func:`~adaptive_methods.online.simulate` and broadcast them
    to one batch.  ``beta1_decay=None`` takes the method's own default from the registry;
    ``check_values=False`` leaves the gradients' values to :func:`check_grad_values`."""
    info = simulated_method(method)
    step = check_choice("step", step, STEPS)
    g, one_d = as_grads(grads, check_values=check_values)
    named = {
        "beta1": as_param("beta1", beta1, low=0.0, high=1.0, low_open=False, high_open=True),
        "beta2": as_param("beta2", beta2, low=0.0, high=1.0, low_open=False, high_open=True),
        "eps": as_param("eps", eps, low=0.0, high=math.inf, low_open=False, high_open=True),
    }
    if need_alpha:
        named["alpha"] = as_param("alpha", alpha, low=0.0, high=math.inf, low_open=True, high_open=True)
    decay = info.beta1_decay if beta1_decay is None else beta1_decay
    if decay is not None:
        named["beta1_decay"] = as_param("beta1_decay", decay, low=0.0, high=1.0, low_open=True, high_open=False)
    lo, hi = as_bounds(bounds)
    named["bounds"] = lo
    named["x1"] = as_param("x1", x1, low=-math.inf, high=math.inf, low_open=True, high_open=True)
    B = batch_size(g.shape[0], named)
    full = named if B == 1 else {k: np.broadcast_to(v, (B,)).copy() for k, v in named.items()}
    lo, hi = (lo, hi) if B == 1 else (np.broadcast_to(lo, (B,)).copy(), np.broadcast_to(hi, (B,)).copy())
    outside = (full["x1"] < lo) | (full["x1"] > hi)
    if outside.any():
        i = int(np.argmax(outside))
        raise ValueError(f"x1 must lie in bounds [lo, hi] = [{lo[i]}, {hi[i]}], got {full['x1'][i]}")
    scalars = all(is_scalar(v) for v in (beta1, beta2, eps, x1, bounds[0], bounds[1])) and (
        beta1_decay is None or is_scalar(beta1_decay)) and (not need_alpha or is_scalar(alpha))
    return Spec(
        method=info.name,
        recurrence=info.recurrence,
        g=g,
        squeeze=one_d and scalars,
        grads_1d=one_d,
        B=B,
        T=g.shape[1],
        alpha=full.get("alpha", np.ones(B)),
        beta1=full["beta1"],
        beta2=full["beta2"],
        decay=full.get("beta1_decay"),
        eps=full["eps"],
        step=step,
        lo=lo,
        hi=hi,
        x1=full["x1"],
    )


def plain_floats(*values):
    """``values`` as floats if each is a plain Python float or int (not bool), else None."""
    if not _PLAIN_NUMBERS.issuperset(map(type, values)):
        return None
    return tuple(map(float, values))
