"""The reference of the simulator: Algorithm 1 of the paper, one step at a time.

:func:`reference_simulate` is the definition the tests hold
:func:`~adaptive_methods.online.simulate` to (1e-12 on random problems, batches,
hyperparameters and every engine) and the plain loop ``benchmarks/bench_simulator.py``
times it against.  It is written for reading, not speed: one configuration, Python
floats, every recurrence kind of :data:`~adaptive_methods.registry.FIRST_MOMENTS` and
:data:`~adaptive_methods.registry.SECOND_MOMENTS` spelled out.
"""

from __future__ import annotations

import math

from .checks import simulated_method

__all__ = ["reference_simulate"]


def reference_simulate(
    method,
    grads,
    *,
    alpha,
    beta1=0.9,
    beta2=0.99,
    step="inv_sqrt",
    bounds=(-1.0, 1.0),
    x1=0.0,
    beta1_decay=None,
    eps=0.0,
):
    """x_1 .. x_{T+1} of one configuration, step by step (the paper's forms).

    The method's recurrences are the ones the registry declares, each kind spelled out
    (those of :func:`~adaptive_methods.online.simulate`, which is held to this loop);
    ``beta1_decay=None`` is the method's own decay of beta1_t = beta1 * decay^(t-1)
    (1.0: a constant beta1).  Where sqrt(V_t + eps) = 0 the step is 0 (V_t^(-1/2) taken
    as the pseudo-inverse).

    Only ``method`` is checked: the loop is the definition the tests compare with, and
    :func:`~adaptive_methods.online.simulate` checks every argument.

    Parameters
    ----------
    method : str
        A method of :data:`adaptive_methods.registry.METHODS` whose recurrence is not
        None (checked).
    grads : iterable of float
        g_1 .. g_T.
    alpha : float
        The step size, > 0.
    beta1 : float, default 0.9
        In [0, 1).
    beta2 : float, default 0.99
        In [0, 1).
    step : {"inv_sqrt", "constant"}, default "inv_sqrt"
        alpha_t = alpha / sqrt(t), or alpha (any other value is read as "constant").
    bounds : (float, float), default (-1.0, 1.0)
        The box [lo, hi], lo < hi.
    x1 : float, default 0.0
        The first iterate, in [lo, hi].
    beta1_decay : float or None, default None
        lambda in (0, 1], or None for the method's own.
    eps : float, default 0.0
        Added to V_t under the root, >= 0.

    Returns
    -------
    list of float
        x_1 .. x_{T+1}.

    Raises
    ------
    TypeError
        If ``method`` is not a str.
    ValueError
        If ``method`` is unknown or has no recurrence the simulator scans.

    Examples
    --------
    >>> xs = reference_simulate("sgd", [1.0, 1.0, -1.0], alpha=0.5)
    >>> [round(x, 4) for x in xs]
    [0.0, -0.5, -0.8536, -0.5649]
    """
    info = simulated_method(method)
    first, second = info.recurrence.first, info.recurrence.second
    decay = info.beta1_decay if beta1_decay is None else beta1_decay
    lo, hi = bounds
    x = float(x1)
    xs = [x]
    m = v = vhat = sum_of_squares = 0.0
    beta1_previous = beta1
    for t, g in enumerate(grads, start=1):
        g = float(g)
        beta1_t = beta1 if decay is None else beta1 * decay ** (t - 1)
        # first moment m_t (phi_t)
        if first == "gradient":
            m = g
        elif first == "moving_average":
            m = beta1_t * m + (1.0 - beta1_t) * g
        else:
            raise ValueError(f"no reference for the first moment {first!r}")
        # second moment V_t (psi_t, its diagonal)
        v = beta2 * v + (1.0 - beta2) * (g * g)
        sum_of_squares += g * g
        if second == "identity":
            V = 1.0
        elif second == "mean_of_squares":
            V = sum_of_squares / t
        elif second == "moving_average":
            V = v
        elif second == "running_max":
            vhat = max(vhat, v)
            V = vhat
        elif second == "rescaled_running_max":
            vhat = max(((1.0 - beta1_t) / (1.0 - beta1_previous)) ** 2 * vhat, v)
            V = vhat
        else:
            raise ValueError(f"no reference for the second moment {second!r}")
        # step size alpha_t, then the projected step
        alpha_t = alpha / math.sqrt(t) if step == "inv_sqrt" else alpha
        denominator = math.sqrt(V + eps)
        x_hat = x - (alpha_t * m) / denominator if denominator > 0 else x
        x = min(max(x_hat, lo), hi)
        xs.append(x)
        beta1_previous = beta1_t
    return xs
