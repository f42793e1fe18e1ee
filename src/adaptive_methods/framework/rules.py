"""The small rules Algorithm 1 is made of: first moments (phi), second moments (psi),
transforms of the preconditioned direction, and step-size schedules (alpha_t).

A moment rule's ``apply`` is the readable single-tensor form; ``apply_foreach`` advances a
list of tensors that all share the step count t.  Neither may modify its input: it can be
a parameter's ``.grad`` or another rule's buffer.  Both receive the step's
:class:`StepContext`, which carries t, the first-moment rule, and -- for the second
moment and the transforms -- the first moment m_t of this step.

Every foreach rule returns its moment as a pair ``(tensors, divisor)``: the moment it
stands for is ``tensors / divisor``.  Bias corrections and Adagrad's ``1/t`` are per-step
scalars, so keeping them as divisors instead of dividing whole tensors saves a pass over
memory (PyTorch's own Adam folds them the same way).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from .steps import Constant, InverseSqrt, StepSchedule, Transform, preconditioned, sqrt_v
from .validation import Schedule, beta_at, check_beta

__all__ = [
    "StepContext",
    "MomentRule",
    "LastGradient",
    "MovingAverage",
    "Identity",
    "SumOfSquares",
    "MeanOfSquares",
    "MovingAverageOfSquares",
    "Debiased",
    "RunningMax",
    "RescaledRunningMax",
    "Transform",
    "sqrt_v",
    "preconditioned",
    "StepSchedule",
    "Constant",
    "InverseSqrt",
    "Rules",
]


@dataclass
class StepContext:
    """What a rule may read at step t besides its own buffers.

    The optimizer builds one for each step of a group (one per tensor on the reference
    path) and hands it to every rule; a rule only reads it.  No argument is checked.

    Parameters
    ----------
    t : int
        The step t = 1, 2, ... (the paper's t; one more than the steps taken before).
    phi : MomentRule
        The first-moment rule of the step (whose beta1_t a rule such as
        :class:`RescaledRunningMax` follows, and whose stored m_t
        :class:`~adaptive_methods.framework.BeliefSquares` reads).
    lr : float, default 0.0
        The group's step size before alpha_t's schedule.
    m : torch.Tensor or list of torch.Tensor or None, default None
        The first moment m_t: one tensor on the reference path, a list on the foreach
        path, each still to be divided by ``m_divisor``; None while the first moment
        itself is being computed.
    m_divisor : float, default 1.0
        The moment m_t stands for is ``m / m_divisor`` (a bias correction, kept as a
        scalar).

    Examples
    --------
    >>> phi = MovingAverage(0.9)
    >>> ctx = StepContext(t=1, phi=phi)
    >>> [round(c, 6) for c in phi.coefficients(ctx)], ctx.m is None
    ([0.9, 0.1], True)
    """

    t: int
    phi: MomentRule
    lr: float = 0.0
    m: Any = None
    m_divisor: float = 1.0


def _describe(rule: Any, fields: tuple[str, ...]) -> str:
    def show(value):
        return (
            "schedule"
            if callable(value) and not isinstance(value, MomentRule)
            else repr(value)
        )

    return f"{type(rule).__name__}({', '.join(f'{f}={show(getattr(rule, f))}' for f in fields)})"


class MomentRule(ABC):
    """A phi or psi rule: maps the gradient history to a moment, one step at a time.

    A phi rule gives Algorithm 1's m_t = phi_t(g_1, ..., g_t), a psi rule the diagonal
    of V_t = psi_t(g_1, ..., g_t) (or None for V_t = I).  Neither keeps the history: a
    rule advances running quantities, its state buffers, by one step at a time.

    ``buffers`` names the state tensors the rule keeps per parameter, created lazily by
    :meth:`init`; the default allocates zeros shaped like the parameter, and a rule that
    keeps a factored or otherwise shaped statistic overrides :meth:`init`.  A subclass
    defines :meth:`apply_foreach` (a list of tensors, the moment as
    ``(tensors, divisor)``); :meth:`apply` (one tensor) defaults to it, and a rule that
    also writes :meth:`coefficients` and :meth:`update` runs on the compiled path
    (``fused=True``).  No method may modify the gradients it receives.

    Examples
    --------
    A psi rule of one line, V_t = diag(g_t^2) (RMSProp with beta2 = 0):

    >>> class LastSquare(MomentRule):
    ...     def apply_foreach(self, grads, states, ctx):
    ...         return [g * g for g in grads], 1.0
    >>> ctx = StepContext(t=1, phi=LastGradient())
    >>> LastSquare().apply(torch.tensor([3.0, -2.0]), {}, ctx).tolist()
    [9.0, 4.0]
    >>> LastSquare().compilable
    False
    """

    buffers: tuple[str, ...] = ()
    _fields: tuple[str, ...] = ()

    def init(self, param: Tensor) -> dict[str, Tensor]:
        """The rule's state for one parameter: zeros shaped like it, one per buffer."""
        return {
            name: torch.zeros_like(param, memory_format=torch.preserve_format)
            for name in self.buffers
        }

    def coefficients(self, ctx: StepContext) -> tuple[float, ...]:
        """The per-step numbers :meth:`update` needs (beta_t, 1 - beta^t, ...), as floats."""
        return ()

    def update(
        self, grad: Tensor, state: dict, coef: tuple, ctx: StepContext
    ) -> Tensor | None:
        """Advance the buffers of one tensor and return its moment (``None``: the identity).

        Tensor arithmetic only: ``coef`` holds :meth:`coefficients` as floats, or as 0-d
        tensors on the compiled path, where the whole step becomes one kernel.  Every
        number comes from ``coef``: the compiled kernel is built once for the rules'
        structure, and later steps call it without reading the rule's attributes again.
        """
        moment, divisor = self.apply_foreach([grad], [state], _single(ctx))
        if moment is None:
            return None
        return moment[0] / divisor if divisor != 1.0 else moment[0]

    def apply(self, grad: Tensor, state: dict, ctx: StepContext) -> Tensor | None:
        """The moment at step t as a tensor (``None`` means the identity matrix)."""
        return self.update(grad, state, self.coefficients(ctx), ctx)

    @property
    def compilable(self) -> bool:
        """Whether :meth:`update` is written for the compiled path (tensor coefficients)."""
        return type(self).update is not MomentRule.update

    @abstractmethod
    def apply_foreach(
        self, grads: list[Tensor], states: list[dict], ctx: StepContext
    ) -> tuple[list[Tensor] | None, float]:
        """The moment at step t as ``(tensors, divisor)``: the moment is tensors / divisor."""

    #: Whether :meth:`root_foreach` never gives a 0 (then no pseudo-inverse is needed).
    root_positive: bool = False

    def root_foreach(self, grads: list[Tensor], states: list[dict], ctx: StepContext) -> list[Tensor] | None:
        """sqrt(V_t) for a rule that computes the root itself (a clipped or rectified
        learning rate), so that the foreach path does not square it to take the root
        again: the same step as :meth:`apply_foreach` followed by the root (``None``: the
        identity).  The caller may modify the tensors unless :attr:`root_positive`."""
        raise TypeError(f"{type(self).__name__} gives V_t, not its root")

    @property
    def gives_root(self) -> bool:
        """Whether the rule defines :meth:`root_foreach` (gives sqrt(V_t) itself)."""
        return type(self).root_foreach is not MomentRule.root_foreach

    def current(self, state: dict, t: int) -> tuple[Tensor | None, float]:
        """The moment after step t as ``(tensor, divisor)``, read from the state without
        advancing it (``None``: the moment is not stored, e.g. the last gradient or I)."""
        return (state[self.buffers[0]], 1.0) if self.buffers else (None, 1.0)

    def __repr__(self) -> str:
        return _describe(self, self._fields)


def _single(ctx: StepContext) -> StepContext:
    """The context of a one-tensor step seen by a foreach rule: m_t as a list."""
    if ctx.m is None or isinstance(ctx.m, list):
        return ctx
    return StepContext(ctx.t, ctx.phi, ctx.lr, [ctx.m], 1.0)


class LastGradient(MomentRule):
    """phi_t(g_1, ..., g_t) = g_t: the first moment of SGD, Adagrad and RMSProp.

    It keeps no buffer; its ``beta`` is 0 (m_t = g_t is the moving average with
    beta1 = 0).

    Examples
    --------
    >>> phi = LastGradient()
    >>> phi.apply(torch.tensor([1.0, -2.0]), {}, StepContext(t=1, phi=phi)).tolist()
    [1.0, -2.0]
    """

    beta = 0.0  # m_t = g_t is the moving average with beta1 = 0

    def update(self, grad, state, coef, ctx):
        return grad

    def apply_foreach(self, grads, states, ctx):
        return grads, 1.0


class MovingAverage(MomentRule):
    """phi_t: m_t = beta1_t m_{t-1} + (1 - beta1_t) g_t, m_0 = 0 (Adam's momentum).

    Unrolled, m_t = (1 - beta1) sum_{i<=t} beta1^(t-i) g_i for a constant beta1: the
    phi_t of Adam in Algorithm 1, and the m_t of AMSGrad's Algorithm 2.

    Parameters
    ----------
    beta : float or callable
        beta1 in [0, 1), or a schedule t -> beta1_t (t = 1, 2, ...) whose values are
        checked at each step (AMSGrad's theory uses a decreasing one, e.g.
        ``beta1 * lam ** (t - 1)``, Corollary 1).
    buffer : str, default "exp_avg"
        The name of the state buffer holding m_t.

    Raises
    ------
    TypeError
        If ``beta`` is neither a real number nor callable.
    ValueError
        If ``beta``, or a schedule's value, is outside [0, 1) (the message calls it
        beta1).

    Examples
    --------
    >>> phi = MovingAverage(0.5)
    >>> state = phi.init(torch.zeros(1))
    >>> for t, g in enumerate([2.0, 4.0], start=1):
    ...     m = phi.apply(torch.tensor([g]), state, StepContext(t, phi))
    >>> m.tolist()  # m_1 = 1, m_2 = 0.5 * 1 + 0.5 * 4
    [2.5]
    """

    _fields = ("beta",)

    def __init__(self, beta: Schedule, buffer: str = "exp_avg"):
        self.beta = check_beta(beta, "beta1")
        self.buffers = (buffer,)

    def coefficients(self, ctx):
        beta = beta_at(self.beta, ctx.t, "beta1")
        return (beta, 1.0 - beta)

    def update(self, grad, state, coef, ctx):
        beta, one_minus_beta = coef
        return state[self.buffers[0]].mul_(beta).add_(grad * one_minus_beta)

    def apply_foreach(self, grads, states, ctx):
        beta = beta_at(self.beta, ctx.t, "beta1")
        ms = [s[self.buffers[0]] for s in states]
        # lerp_(g, 1 - beta) is m + (1 - beta)(g - m), torch's own kernel; where
        # 1 - beta rounds to 1 it drops beta m_{t-1}, which update's
        # beta m + (1 - beta) g keeps
        torch._foreach_lerp_(ms, grads, 1.0 - beta)
        return ms, 1.0


class Identity(MomentRule):
    """psi_t = I: no preconditioning (SGD); its moment is None, the identity.

    Examples
    --------
    >>> ctx = StepContext(t=1, phi=LastGradient())
    >>> Identity().apply(torch.tensor([3.0]), {}, ctx) is None
    True
    """

    def update(self, grad, state, coef, ctx):
        return None

    def apply_foreach(self, grads, states, ctx):
        return None, 1.0


class SumOfSquares(MomentRule):
    """psi_t = diag(sum_{i<=t} g_i^2): Adagrad as PyTorch writes it (a constant alpha).

    The running sum is kept in the buffer ``"sum"``.

    Examples
    --------
    >>> psi = SumOfSquares()
    >>> state = psi.init(torch.zeros(1))
    >>> for t, g in enumerate([3.0, 1.0], start=1):
    ...     v = psi.apply(torch.tensor([g]), state, StepContext(t, LastGradient()))
    >>> v.tolist()
    [10.0]
    """

    buffers = ("sum",)

    def update(self, grad, state, coef, ctx):
        return state["sum"].addcmul_(grad, grad)

    def apply_foreach(self, grads, states, ctx):
        sums = [s["sum"] for s in states]
        torch._foreach_addcmul_(sums, grads, grads)
        return sums, 1.0


class MeanOfSquares(MomentRule):
    """psi_t = diag(sum_{i<=t} g_i^2) / t: Adagrad as the paper writes it.

    With alpha_t = alpha / sqrt(t) the learning rate alpha_t / sqrt(v_t) equals
    alpha / sqrt(sum_i g_i^2), the same as :class:`SumOfSquares` with a constant alpha.

    Examples
    --------
    >>> psi = MeanOfSquares()
    >>> state = psi.init(torch.zeros(1))
    >>> for t, g in enumerate([3.0, 1.0], start=1):
    ...     v = psi.apply(torch.tensor([g]), state, StepContext(t, LastGradient()))
    >>> v.tolist()  # (9 + 1) / 2
    [5.0]
    """

    buffers = ("sum",)

    def coefficients(self, ctx):
        return (float(ctx.t),)

    def update(self, grad, state, coef, ctx):
        (t,) = coef
        return state["sum"].addcmul_(grad, grad) / t

    def apply_foreach(self, grads, states, ctx):
        sums = [s["sum"] for s in states]
        torch._foreach_addcmul_(sums, grads, grads)
        return sums, float(ctx.t)

    def current(self, state, t):
        return state["sum"], float(t)


class MovingAverageOfSquares(MomentRule):
    """psi_t: v_t = beta2_t v_{t-1} + (1 - beta2_t) g_t^2, v_0 = 0 (RMSProp, Adam).

    Unrolled, v_t = (1 - beta2) sum_{i<=t} beta2^(t-i) g_i^2 for a constant beta2: the
    psi_t of RMSProp and Adam in Algorithm 1, and the v_t of AMSGrad's Algorithm 2.

    Parameters
    ----------
    beta : float or callable
        beta2 in [0, 1), or a schedule t -> beta2_t whose values are checked at each
        step (AdamNC, Corollary 2: beta2_t = 1 - 1/t makes v_t the running mean of g^2).
    buffer : str, default "exp_avg_sq"
        The name of the state buffer holding v_t.

    Raises
    ------
    TypeError
        If ``beta`` is neither a real number nor callable.
    ValueError
        If ``beta``, or a schedule's value, is outside [0, 1) (the message calls it
        beta2).

    Examples
    --------
    With beta2_t = 1 - 1/t, v_t is the mean of the squared gradients:

    >>> psi = MovingAverageOfSquares(lambda t: 1 - 1 / t)
    >>> state = psi.init(torch.zeros(1))
    >>> for t, g in enumerate([3.0, 1.0], start=1):
    ...     v = psi.apply(torch.tensor([g]), state, StepContext(t, LastGradient()))
    >>> v.tolist()  # (9 + 1) / 2
    [5.0]
    """

    _fields = ("beta",)

    def __init__(self, beta: Schedule, buffer: str = "exp_avg_sq"):
        self.beta = check_beta(beta, "beta2")
        self.buffers = (buffer,)

    def coefficients(self, ctx):
        beta = beta_at(self.beta, ctx.t, "beta2")
        return (beta, 1.0 - beta)

    def update(self, grad, state, coef, ctx):
        beta, one_minus_beta = coef
        return state[self.buffers[0]].mul_(beta).addcmul_(grad, grad * one_minus_beta)

    def apply_foreach(self, grads, states, ctx):
        beta = beta_at(self.beta, ctx.t, "beta2")
        vs = [s[self.buffers[0]] for s in states]
        torch._foreach_mul_(vs, beta)
        torch._foreach_addcmul_(vs, grads, grads, 1.0 - beta)
        return vs, 1.0


class _Wrapper(MomentRule):
    """A rule around another one: it keeps the inner rule's buffers (plus its own) and
    reads the inner rule's beta instead of taking it a second time."""

    _fields = ("inner",)

    def __init__(self, inner: MomentRule):
        if not isinstance(inner, MomentRule):
            raise TypeError(
                f"inner must be a MomentRule, got {type(inner).__name__}: {inner!r}"
            )
        self.inner = inner

    @property
    def beta(self) -> Schedule:
        beta = getattr(self.inner, "beta", None)
        if beta is None:
            raise TypeError(
                f"{type(self).__name__} needs a moving average inside (a rule with a beta), got {self.inner!r}"
            )
        return beta

    @property
    def buffers(self) -> tuple[str, ...]:
        return self.inner.buffers

    def init(self, param):
        return self.inner.init(param)


class Debiased(_Wrapper):
    """Adam's bias correction of a moving average: moment / (1 - beta^t).

    A moving average started at 0 underestimates its input by the factor 1 - beta^t; the
    correction is a scalar per step, so it only multiplies the divisor.  beta is the
    wrapped average's, and must be a constant: 1 - beta^t corrects nothing else.

    Parameters
    ----------
    inner : MomentRule
        The moving average to correct: a rule with a constant ``beta`` (a
        :class:`MovingAverage`, a :class:`MovingAverageOfSquares`, or a running max of
        one).

    Raises
    ------
    TypeError
        If ``inner`` is not a MomentRule, has no ``beta``, or its beta is a schedule.

    Examples
    --------
    >>> phi = Debiased(MovingAverage(0.9))
    >>> state = phi.init(torch.zeros(1))
    >>> m = phi.apply(torch.tensor([2.0]), state, StepContext(1, phi))
    >>> round(m.item(), 6)  # (1 - 0.9) * 2 / (1 - 0.9)
    2.0
    """

    def __init__(self, inner: MomentRule):
        super().__init__(inner)
        if callable(self.beta):
            raise TypeError(
                "Debiased needs a constant beta: 1 - beta^t corrects only a "
                f"constant-beta average, got {inner!r}"
            )

    def _correction(self, t: int) -> float:
        return 1.0 - self.beta**t

    def coefficients(self, ctx):
        # the reciprocal, so that update multiplies: on the compiled path a division per
        # coordinate is the slowest operation of the whole kernel
        return (*self.inner.coefficients(ctx), 1.0 / self._correction(ctx.t))

    def update(self, grad, state, coef, ctx):
        return self.inner.update(grad, state, coef[:-1], ctx) * coef[-1]

    @property
    def compilable(self):
        return self.inner.compilable

    def apply_foreach(self, grads, states, ctx):
        moment, divisor = self.inner.apply_foreach(grads, states, ctx)
        return moment, divisor * self._correction(ctx.t)

    def current(self, state, t):
        moment, divisor = self.inner.current(state, t)
        return moment, divisor * self._correction(t)


class RunningMax(_Wrapper):
    """vhat_t = max(vhat_{t-1}, v_t), elementwise, vhat_0 = 0: AMSGrad's memory.

    The line of Algorithm 2 of Reddi et al. that is the whole difference between
    AMSGrad and Adam.  Wraps any psi rule (v_t is its moment, divisor included).  With
    a non-increasing alpha_t the learning rate alpha_t / sqrt(vhat_t) can then only
    shrink, which is what Adam's convergence proof needed (Gamma_t >= 0).

    Parameters
    ----------
    inner : MomentRule
        The psi rule whose maximum is kept.
    buffer : str, default "max_exp_avg_sq"
        The name of the state buffer holding vhat_t.

    Raises
    ------
    TypeError
        If ``inner`` is not a MomentRule.

    Examples
    --------
    >>> psi = RunningMax(MovingAverageOfSquares(0.5))
    >>> state = psi.init(torch.zeros(1))
    >>> for t, g in enumerate([2.0, 0.0], start=1):
    ...     vhat = psi.apply(torch.tensor([g]), state, StepContext(t, LastGradient()))
    >>> state["exp_avg_sq"].tolist(), vhat.tolist()  # v_2 = 1 < vhat_2 = v_1 = 2
    ([1.0], [2.0])
    """

    def __init__(self, inner: MomentRule, buffer: str = "max_exp_avg_sq"):
        super().__init__(inner)
        self.buffer = buffer

    @property
    def buffers(self):
        return self.inner.buffers + (self.buffer,)

    def init(self, param):
        return {
            **self.inner.init(param),
            self.buffer: torch.zeros_like(param, memory_format=torch.preserve_format),
        }

    def factor(self, ctx: StepContext) -> float:
        """What vhat_{t-1} is multiplied by before the max: 1 for AMSGrad (see
        :class:`RescaledRunningMax` for a rule where it is not)."""
        return 1.0

    def coefficients(self, ctx):
        return (*self.inner.coefficients(ctx), self.factor(ctx))

    def update(self, grad, state, coef, ctx):
        v = self.inner.update(grad, state, coef[:-1], ctx)
        vhat = state[self.buffer]
        if type(self).factor is RunningMax.factor:
            # AMSGrad's factor is always 1: no multiply, and one number less to read
            return vhat.copy_(torch.maximum(vhat, v))
        return vhat.copy_(torch.maximum(vhat * coef[-1], v))

    @property
    def compilable(self):
        return self.inner.compilable

    def apply_foreach(self, grads, states, ctx):
        vs, divisor = self.inner.apply_foreach(grads, states, ctx)
        vhats = [s[self.buffer] for s in states]
        if divisor != 1.0:
            vs = torch._foreach_div(vs, divisor)
        factor = self.factor(ctx)
        if factor != 1.0:
            torch._foreach_mul_(vhats, factor)
        torch._foreach_maximum_(vhats, vs)
        return vhats, 1.0

    def current(self, state, t):
        return state[self.buffer], 1.0


class RescaledRunningMax(RunningMax):
    """AdamX's psi (Tran & Phong 2019, Algorithm 2): a running max that follows beta1_t,

        vhat_1 = v_1,
        vhat_t = max(((1 - beta1_t) / (1 - beta1_{t-1}))^2 vhat_{t-1}, v_t).

    With a non-increasing beta1_t the factor is >= 1, so that
    sqrt(vhat_t) / (1 - beta1_t), and not only sqrt(vhat_t), never decreases: the
    monotonicity AMSGrad's regret proof uses and :class:`RunningMax` does not give.
    beta1_t is read from the step's first moment rule; a constant beta1 makes the factor
    1, and the rule is :class:`RunningMax`.

    Parameters
    ----------
    inner : MomentRule
        The psi rule whose rescaled maximum is kept (v_t).
    buffer : str, default "max_exp_avg_sq"
        The name of the state buffer holding vhat_t.

    Raises
    ------
    TypeError
        If ``inner`` is not a MomentRule.

    Examples
    --------
    beta1_t = 0.9 * 0.5^(t - 1): at t = 2 the factor is ((1 - 0.45) / (1 - 0.9))^2:

    >>> phi = MovingAverage(lambda t: 0.9 * 0.5 ** (t - 1))
    >>> psi = RescaledRunningMax(MovingAverageOfSquares(0.99))
    >>> round(psi.factor(StepContext(2, phi)), 6)
    30.25
    """

    def factor(self, ctx: StepContext) -> float:
        """((1 - beta1_t) / (1 - beta1_{t-1}))^2; 1 at t = 1 (vhat_0 = 0 anyway)."""
        beta1 = getattr(ctx.phi, "beta", 0.0)
        if ctx.t <= 1 or not callable(beta1):
            return 1.0
        return (
            (1.0 - beta_at(beta1, ctx.t, "beta1"))
            / (1.0 - beta_at(beta1, ctx.t - 1, "beta1"))
        ) ** 2


@dataclass(frozen=True)
class Rules:
    """The choices that make a method out of Algorithm 1: phi, psi, alpha_t, and any
    transforms of the preconditioned direction.

    Parameters
    ----------
    phi : MomentRule
        The first moment m_t.
    psi : MomentRule
        The second moment V_t.
    alpha : StepSchedule, default Constant()
        alpha_t / lr.
    post : tuple of Transform, default ()
        Transforms of u_t = V_t^{-1/2} m_t, applied in order.

    Raises
    ------
    TypeError
        If a rule is not of its kind.
    ValueError
        If two rules' state buffers share a name, or one is named "step".

    Examples
    --------
    >>> rules = Rules(MovingAverage(0.9), RunningMax(MovingAverageOfSquares(0.99)),
    ...               alpha=InverseSqrt())
    >>> rules.buffers
    ('exp_avg', 'exp_avg_sq', 'max_exp_avg_sq')
    """

    phi: MomentRule
    psi: MomentRule
    alpha: StepSchedule = Constant()
    post: tuple[Transform, ...] = field(default=())

    def __post_init__(self):
        for name in ("phi", "psi"):
            if not isinstance(getattr(self, name), MomentRule):
                raise TypeError(
                    f"{name} must be a MomentRule, "
                    f"got {type(getattr(self, name)).__name__}"
                )
        if not isinstance(self.alpha, StepSchedule):
            raise TypeError(
                f"alpha must be a StepSchedule, got {type(self.alpha).__name__}"
            )
        if not all(isinstance(t, Transform) for t in self.post):
            raise TypeError(f"post must hold Transforms, got {self.post!r}")
        names = [
            *self.phi.buffers,
            *self.psi.buffers,
            *(b for t in self.post for b in t.buffers),
        ]
        if len(set(names)) != len(names) or "step" in names:
            raise ValueError(
                "the rules' state buffers must have distinct names other than "
                f"'step', got {names}"
            )

    @property
    def buffers(self) -> tuple[str, ...]:
        """Every state buffer the rules keep per parameter (besides the step count)."""
        return (
            *self.phi.buffers,
            *self.psi.buffers,
            *(b for t in self.post for b in t.buffers),
        )

    def init(self, param: Tensor) -> dict[str, Tensor]:
        """The state of one parameter: every rule's buffers, created by its ``init``."""
        return {
            **self.phi.init(param),
            **self.psi.init(param),
            **{k: v for t in self.post for k, v in t.init(param).items()},
        }
