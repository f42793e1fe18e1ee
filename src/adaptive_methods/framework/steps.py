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
    """sqrt(V_t) with eps inside the root (Theorem 6 of the paper) or added outside (PyTorch)."""
    return (v + eps).sqrt() if inside else v.sqrt() + eps


def preconditioned(m: Tensor, sqrt_v: Tensor) -> Tensor:
    """u = m / sqrt(V), where V^{-1/2} is the pseudo-inverse: 0 where sqrt(V) = 0.

    Without eps, sqrt(V_t) is 0 where every gradient V_t averages was 0; then the
    coordinate does not move, whatever m_t is (m_t can be non-zero there when beta2 = 0
    follows a non-zero gradient with a zero one).  The 1-D simulator obeys the same rule.
    A NaN gradient makes V_t NaN, not 0, and stays a NaN: nothing is silently repaired.
    """
    return (m / sqrt_v).masked_fill_(sqrt_v == 0, 0.0)


class Transform(ABC):
    """A change of the preconditioned direction u_t = V_t^{-1/2} m_t before alpha_t
    scales it (a clip of the per-coordinate learning rate, a decoupled weight decay...).

    ``apply`` returns the new direction for one tensor, ``apply_foreach`` for a list; the
    context carries m_t, and ``param`` is x_t.  ``buffers``/``init`` as for moment rules.
    """

    buffers: tuple[str, ...] = ()

    def init(self, param: Tensor) -> dict[str, Tensor]:
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
        m = ctx.m if isinstance(ctx.m, list) else [None] * len(directions)
        return [
            self.apply(d, p, s, dataclasses.replace(ctx, m=mi))
            for d, p, s, mi in zip(directions, params, states, m)
        ]


class StepSchedule(ABC):
    """alpha_t as ``lr * factor(t)``."""

    @abstractmethod
    def factor(self, t: int) -> float:
        """alpha_t / lr at step t."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Constant(StepSchedule):
    """alpha_t = alpha."""

    def factor(self, t: int) -> float:
        return 1.0


class InverseSqrt(StepSchedule):
    """alpha_t = alpha / sqrt(t): the schedule of the paper's analysis."""

    def factor(self, t: int) -> float:
        return 1.0 / math.sqrt(t)
