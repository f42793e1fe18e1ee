"""What Algorithm 1 does after the moments: precondition the first moment, transform the
direction, and scale it by the step size alpha_t.

:func:`preconditioned` forms V_t^{-1/2} m_t (the pseudo-inverse where V_t = 0),
:class:`Transform` changes the preconditioned direction before alpha_t scales it, and a
:class:`StepSchedule` gives alpha_t = lr * factor(t) (lr stays in ``param_groups``, so
``torch.optim.lr_scheduler`` works unchanged).
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from torch import Tensor

if TYPE_CHECKING:
    from .rules import StepContext

__all__ = ["sqrt_v", "preconditioned", "Transform", "StepSchedule", "Constant", "InverseSqrt"]


def sqrt_v(v: Tensor, eps: float, inside: bool) -> Tensor:
    """sqrt(V_t) with eps: inside the root, or added outside it.

    ``inside=True`` gives sqrt(v_t + eps), the placement of Reddi et al.'s Theorem 6;
    ``inside=False`` gives sqrt(v_t) + eps, as PyTorch and optax compute it.

    Parameters
    ----------
    v : torch.Tensor
        The diagonal v_t of V_t (entries >= 0).
    eps : float
        The constant, >= 0 (checked by the optimizer, not here).
    inside : bool
        Whether eps goes under the root.

    Returns
    -------
    torch.Tensor
        A new tensor, the shape of ``v``.

    Examples
    --------
    >>> import torch
    >>> v = torch.tensor([16.0, 0.0])
    >>> sqrt_v(v, 9.0, inside=True).tolist(), sqrt_v(v, 9.0, inside=False).tolist()
    ([5.0, 3.0], [13.0, 9.0])
    """
    return (v + eps).sqrt() if inside else v.sqrt() + eps


def preconditioned(m: Tensor, sqrt_v: Tensor) -> Tensor:
    """u_t = V_t^{-1/2} m_t, with the pseudo-inverse: 0 where sqrt(V_t) = 0.

    Without eps, sqrt(V_t) is 0 where every gradient V_t averages was 0; then the
    coordinate does not move, whatever m_t is (m_t can be non-zero there when beta2 = 0
    follows a non-zero gradient with a zero one).  The 1-D simulator obeys the same rule.
    A NaN gradient makes V_t NaN, not 0, and stays a NaN: nothing is silently repaired.

    Parameters
    ----------
    m : torch.Tensor
        The first moment m_t.
    sqrt_v : torch.Tensor
        sqrt(V_t) (its diagonal), the shape of ``m`` or broadcastable to it; entries
        >= 0.

    Returns
    -------
    torch.Tensor
        A new tensor m / sqrt_v, 0 where ``sqrt_v`` is 0; neither input is modified.

    Examples
    --------
    >>> import torch
    >>> preconditioned(torch.tensor([1.0, 2.0]), torch.tensor([4.0, 0.0])).tolist()
    [0.25, 0.0]
    """
    return (m / sqrt_v).masked_fill_(sqrt_v == 0, 0.0)


class Transform(ABC):
    """A change of the preconditioned direction u_t = V_t^{-1/2} m_t before alpha_t
    scales it (a clip of the per-coordinate learning rate, a decoupled weight decay...).

    The step becomes x_{t+1} = Pi_F(x_t - alpha_t transform(u_t)); a
    :class:`~adaptive_methods.framework.GenericAdaptive` applies its transforms
    (``post``) in order.  A subclass defines :meth:`apply` (one tensor);
    :meth:`apply_foreach` (a list) defaults to it, :meth:`update` is the form the
    compiled path needs, and :meth:`param_weight` lets the foreach path apply u + c x_t
    without forming u.  The context carries m_t, and ``param`` is x_t.
    ``buffers``/``init`` as for moment rules.  A transform takes no arguments of its own
    here; a subclass's constructor may.

    Examples
    --------
    A transform that clips each coordinate of the direction into [-1, 1]:

    >>> import torch
    >>> from adaptive_methods.framework import GenericAdaptive, Identity, LastGradient
    >>> class Clip(Transform):
    ...     def apply(self, direction, param, state, ctx):
    ...         return direction.clamp(-1.0, 1.0)
    >>> x = torch.zeros(2, requires_grad=True)
    >>> optimizer = GenericAdaptive([x], lr=0.1, phi=LastGradient(), psi=Identity(),
    ...                             post=(Clip(),))
    >>> x.grad = torch.tensor([5.0, 0.5])
    >>> optimizer.step()
    >>> [round(v, 6) for v in x.tolist()]
    [-0.1, -0.05]
    """

    buffers: tuple[str, ...] = ()

    def init(self, param: Tensor) -> dict[str, Tensor]:
        """The transform's state tensors for one parameter (none by default)."""
        return {}

    def coefficients(self, ctx: StepContext) -> tuple[float, ...]:
        """The per-step numbers :meth:`update` needs, as floats (see :class:`MomentRule`)."""
        return ()

    def update(
        self,
        direction: Tensor,
        param: Tensor,
        state: dict,
        coef: tuple,
        ctx: StepContext,
    ) -> Tensor:
        """:meth:`apply` in tensor arithmetic only, for the compiled path (``coef`` holds
        :meth:`coefficients` as 0-d tensors; the compiled path has no ``ctx.t``)."""
        raise TypeError(f"{type(self).__name__} has no update() for the compiled path")

    @property
    def compilable(self) -> bool:
        """Whether :meth:`update` is written for the compiled path."""
        return type(self).update is not Transform.update

    def param_weight(self, ctx: StepContext) -> float | None:
        """c where the transform is u -> u + c x_t (a decoupled weight decay), else None:
        the foreach path then moves x_t by -alpha_t c x_t without forming u."""
        return None

    @abstractmethod
    def apply(
        self, direction: Tensor, param: Tensor, state: dict, ctx: StepContext
    ) -> Tensor:
        """The direction to scale by alpha_t, for one tensor."""

    def apply_foreach(
        self,
        directions: list[Tensor],
        params: list[Tensor],
        states: list[dict],
        ctx: StepContext,
    ) -> list[Tensor]:
        """The directions to scale by alpha_t, for a list of tensors (by default
        :meth:`apply` on each, with its own m_t in the context)."""
        m = ctx.m if isinstance(ctx.m, list) else [None] * len(directions)
        return [
            self.apply(d, p, s, dataclasses.replace(ctx, m=mi))
            for d, p, s, mi in zip(directions, params, states, m)
        ]


class StepSchedule(ABC):
    """alpha_t as ``lr * factor(t)``: the step-size schedule of Algorithm 1.

    ``lr`` stays in the optimizer's ``param_groups`` (so ``torch.optim.lr_scheduler``
    works unchanged); a subclass defines :meth:`factor`.  A schedule takes no arguments
    of its own here; a subclass's constructor may.

    Examples
    --------
    >>> class InverseT(StepSchedule):
    ...     def factor(self, t):
    ...         return 1.0 / t
    >>> InverseT(), InverseT().factor(4)
    (InverseT(), 0.25)
    """

    @abstractmethod
    def factor(self, t: int) -> float:
        """alpha_t / lr at step t."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Constant(StepSchedule):
    """alpha_t = alpha: a constant step size (PyTorch's methods).

    Examples
    --------
    >>> [Constant().factor(t) for t in (1, 2, 100)]
    [1.0, 1.0, 1.0]
    """

    def factor(self, t: int) -> float:
        return 1.0


class InverseSqrt(StepSchedule):
    """alpha_t = alpha / sqrt(t): the schedule of Reddi et al.'s analysis.

    Examples
    --------
    >>> [InverseSqrt().factor(t) for t in (1, 4, 100)]
    [1.0, 0.5, 0.1]
    """

    def factor(self, t: int) -> float:
        return 1.0 / math.sqrt(t)
