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
    """sqrt(V_t) / alpha_t for t = 1..T, with alpha_t = alpha / sqrt(t) or alpha."""
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
    """Gamma_2 .. Gamma_T (diagonal entries) along a gradient sequence: shape (..., T-1)."""
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
