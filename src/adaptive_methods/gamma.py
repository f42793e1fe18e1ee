"""Gamma_t: how the inverse learning rate changes from one step to the next.

    Gamma_{t+1} = sqrt(V_{t+1}) / alpha_{t+1} - sqrt(V_t) / alpha_t

Kingma & Ba's convergence argument needs Gamma_t to be positive semi-definite (learning
rates that never grow).  It is for SGD, Adagrad and AMSGrad; for Adam and RMSProp it is
not, and that is the gap Reddi et al. exhibit.  For the diagonal methods of the book
Gamma_t is diagonal, so "PSD" means "every entry >= 0".

Two views:

* along a gradient sequence (:func:`inverse_learning_rates`, :func:`gamma`): the paper's
  forms, no bias correction, no eps; for linear losses the gradients do not depend on the
  iterates, so this needs no simulation of x_t;
* along a real training run (:class:`GammaTracker`): any
  :class:`~adaptive_methods.framework.GenericAdaptive` optimizer, read after each step.
"""

from __future__ import annotations

import numpy as np
import torch

from .framework import GenericAdaptive, check_eps, check_lr
from .online import STEPS, moments

__all__ = ["second_moments", "inverse_learning_rates", "gamma", "GammaTracker"]


def second_moments(
    method: str, grads, *, beta1: float = 0.9, beta2: float = 0.99, beta1_decay=None
) -> np.ndarray:
    """V_t for t = 1..T in the paper's forms (the diagonal of V_t), same shape as grads.

    Any method of :data:`adaptive_methods.registry.METHODS` that the simulator scans:
    sgd 1; adagrad the mean of g_1^2..g_t^2; rmsprop and adam the moving average with
    beta2 (no bias correction); amsgrad its running maximum; and so on.  ``beta1`` and
    ``beta1_decay`` matter only where the second moment follows beta1_t (AdamX).  The
    moments of linear losses do not depend on the iterates, so this is
    :func:`adaptive_methods.online.moments`.

    Parameters
    ----------
    method : str
        A method of :data:`adaptive_methods.registry.METHODS` that the simulator scans
        (``"sgd"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``, ``"amsgrad"``, ...).
    grads : array of shape (T,) or (..., T)
        The gradients g_1 .. g_T along the last axis (finite real numbers).
    beta1 : float, default 0.9
        beta1 (beta1_1), in [0, 1); matters only where V_t follows beta1_t (AdamX).
    beta2 : float, default 0.99
        In [0, 1).
    beta1_decay : float or None, default None
        lambda in (0, 1] of beta1_t = beta1 lambda^(t-1), or None for the method's
        default.

    Returns
    -------
    numpy.ndarray
        v_1 .. v_T (the diagonal of V_t), the shape of ``grads``.

    Raises
    ------
    ValueError
        If ``method`` is not simulated, or a hyperparameter or ``grads`` is out of range
        (the message names it).
    TypeError
        If an argument has the wrong type.

    Examples
    --------
    Adam with beta1 = 0 (RMSProp) forgets the large gradient: v_t falls after it.

    >>> second_moments("adam", [3.0, -1.0, -1.0], beta1=0.0, beta2=0.5)
    array([4.5  , 2.75 , 1.875])
    """
    _, v = moments(method, grads, beta1=beta1, beta2=beta2, beta1_decay=beta1_decay)
    return v


def inverse_learning_rates(
    method: str,
    grads,
    *,
    alpha: float = 1.0,
    beta1: float = 0.9,
    beta2: float = 0.99,
    beta1_decay=None,
    step: str = "inv_sqrt",
) -> np.ndarray:
    """sqrt(V_t) / alpha_t for t = 1..T, with alpha_t = alpha / sqrt(t) or alpha.

    Parameters
    ----------
    method : str
        A method of :data:`adaptive_methods.registry.METHODS` that the simulator scans
        (``"sgd"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``, ``"amsgrad"``, ...).
    grads : array of shape (T,) or (..., T)
        The gradients g_1 .. g_T along the last axis (finite real numbers).
    beta1 : float, default 0.9
        beta1 (beta1_1), in [0, 1); matters only where V_t follows beta1_t (AdamX).
    beta2 : float, default 0.99
        In [0, 1).
    beta1_decay : float or None, default None
        lambda in (0, 1] of beta1_t = beta1 lambda^(t-1), or None for the method's
        default.
    alpha : float, default 1.0
        alpha, > 0.
    step : {"inv_sqrt", "constant"}, default "inv_sqrt"
        alpha_t = alpha / sqrt(t) (the paper's analysis) or alpha_t = alpha.

    Returns
    -------
    numpy.ndarray
        The inverse learning rates, the shape of ``grads``.

    Raises
    ------
    ValueError
        If ``method`` is not simulated, or a hyperparameter or ``grads`` is out of range
        (the message names it).
    TypeError
        If an argument has the wrong type.

    Examples
    --------
    SGD (V_t = 1): sqrt(t) / alpha.

    >>> inverse_learning_rates("sgd", [1.0, 1.0, 1.0, 1.0]).round(4)
    array([1.    , 1.4142, 1.7321, 2.    ])
    """
    check_lr(alpha, "alpha")
    if alpha == 0:
        raise ValueError("alpha must be > 0, got 0")
    if step not in STEPS:
        raise ValueError(
            f"step must be one of {', '.join(map(repr, STEPS))}, got {step!r}"
        )
    v = second_moments(method, grads, beta1=beta1, beta2=beta2, beta1_decay=beta1_decay)
    t = np.arange(1, v.shape[-1] + 1, dtype=np.float64)
    alpha_t = alpha / np.sqrt(t) if step == "inv_sqrt" else np.full_like(t, alpha)
    return np.sqrt(v) / alpha_t


def gamma(
    method: str,
    grads,
    *,
    alpha: float = 1.0,
    beta1: float = 0.9,
    beta2: float = 0.99,
    beta1_decay=None,
    step: str = "inv_sqrt",
) -> np.ndarray:
    """Gamma_2 .. Gamma_T (diagonal entries) along a gradient sequence: shape (..., T-1).

    Gamma_{t+1} = sqrt(V_{t+1}) / alpha_{t+1} - sqrt(V_t) / alpha_t, the quantity of
    Reddi et al. (2018) that Kingma & Ba's proof takes to be positive semi-definite.

    Parameters
    ----------
    method : str
        A method of :data:`adaptive_methods.registry.METHODS` that the simulator scans
        (``"sgd"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``, ``"amsgrad"``, ...).
    grads : array of shape (T,) or (..., T)
        The gradients g_1 .. g_T along the last axis (finite real numbers).
    beta1 : float, default 0.9
        beta1 (beta1_1), in [0, 1); matters only where V_t follows beta1_t (AdamX).
    beta2 : float, default 0.99
        In [0, 1).
    beta1_decay : float or None, default None
        lambda in (0, 1] of beta1_t = beta1 lambda^(t-1), or None for the method's
        default.
    alpha : float, default 1.0
        alpha, > 0.
    step : {"inv_sqrt", "constant"}, default "inv_sqrt"
        alpha_t = alpha / sqrt(t) or alpha_t = alpha.

    Returns
    -------
    numpy.ndarray
        Gamma_2 .. Gamma_T, shape (..., T - 1).

    Raises
    ------
    ValueError
        If ``method`` is not simulated, or a hyperparameter or ``grads`` is out of range
        (the message names it).
    TypeError
        If an argument has the wrong type.

    Examples
    --------
    SGD's Gamma_t is positive; Adam's (here RMSProp's, beta1 = 0) turns negative after a
    large gradient:

    >>> bool((gamma("sgd", [1.0, 1.0, 1.0, 1.0]) > 0).all())
    True
    >>> gamma("adam", [3.0, -1.0, -1.0], beta1=0.0, beta2=0.5, step="constant").round(4)
    array([-0.463, -0.289])
    """
    inverse = inverse_learning_rates(
        method,
        grads,
        alpha=alpha,
        beta1=beta1,
        beta2=beta2,
        beta1_decay=beta1_decay,
        step=step,
    )
    return np.diff(inverse, axis=-1)


class GammaTracker:
    """Records, after each step, how many diagonal entries of Gamma_t are negative.

    Usage::

        tracker = GammaTracker(optimizer)
        for batch in data:
            ...; optimizer.step(); tracker.update()
        tracker.negative_fraction   # one number per step (from the second step on)

    The inverse learning rate is the one the update applies to the raw first moment
    (:meth:`GenericAdaptive.inverse_learning_rates`), so bias corrections and eps count.

    ``rtol``: an entry counts as negative only when the inverse learning rate falls by
    more than ``rtol`` times its previous value.  Where Gamma_t is 0 in exact arithmetic
    (a zero gradient at the step where Adam's bound (t+1) beta2 >= t is tight, say) the
    computed difference is rounding noise of either sign; ``rtol`` of a few ulps of the
    dtype keeps that noise out of the count.  The default 0 counts every negative entry.

    Parameters
    ----------
    optimizer : GenericAdaptive
        The optimizer to follow (any method of the package).
    rtol : float, default 0.0
        The relative tolerance above, finite and >= 0.

    Raises
    ------
    TypeError
        If ``optimizer`` is not a :class:`~adaptive_methods.framework.GenericAdaptive`.
    ValueError
        If ``rtol`` is negative or not finite.

    Examples
    --------
    Adam without bias correction, beta1 = 0, beta2 = 0.5, after a large gradient: the
    inverse learning rate falls at both later steps.

    >>> import torch
    >>> from adaptive_methods import Adam
    >>> x = torch.zeros(1, requires_grad=True)
    >>> optimizer = Adam([x], lr=0.1, betas=(0.0, 0.5), eps=0.0, bias_correction=False)
    >>> tracker = GammaTracker(optimizer)
    >>> for g in (3.0, -1.0, -1.0):
    ...     x.grad = torch.tensor([g])
    ...     optimizer.step()
    ...     _ = tracker.update()
    >>> tracker.negative_fraction
    [1.0, 1.0]
    """

    def __init__(self, optimizer: GenericAdaptive, *, rtol: float = 0.0):
        if not isinstance(optimizer, GenericAdaptive):
            raise TypeError(
                f"optimizer must be a GenericAdaptive, got {type(optimizer).__name__}"
            )
        self.rtol = check_eps(rtol, "rtol")
        self.optimizer = optimizer
        self._previous: list[torch.Tensor | None] | None = None
        self.negative_fraction: list[float] = []
        self.most_negative: list[float] = []

    @torch.no_grad()
    def update(self) -> float | None:
        """Call after each step; returns this step's fraction of negative entries."""
        current = [
            x.detach().clone() if x is not None else None
            for x in self.optimizer.inverse_learning_rates()
        ]
        previous, self._previous = self._previous, current
        if previous is None:
            return None
        negative, total, lowest = 0, 0, float("inf")
        for now, before in zip(current, previous):
            if now is None or before is None:
                continue
            diff = now - before
            negative += int((diff < -self.rtol * before.abs()).sum())
            total += diff.numel()
            lowest = min(lowest, float(diff.min()))
        if total == 0:
            return None
        fraction = negative / total
        self.negative_fraction.append(fraction)
        self.most_negative.append(lowest)
        return fraction
