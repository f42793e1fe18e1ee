"""Algorithm 1 of Reddi, Kale & Kumar (2018): the generic adaptive method.

    g_t     = grad f_t(x_t)
    m_t     = phi_t(g_1, ..., g_t)              first moment  (a vector)
    V_t     = psi_t(g_1, ..., g_t)              second moment (diagonal: V_t = diag(v_t))
    x_{t+1} = Pi_{F, sqrt(V_t)}(x_t - alpha_t m_t / sqrt(v_t))

An optimizer is the choice of three small rules, in the spirit of optax's composable
gradient transformations:

* a **phi rule** (:class:`LastGradient`, :class:`MovingAverage`, wrapped in
  :class:`Debiased` for Adam's bias correction),
* a **psi rule** (:class:`Identity`, :class:`SumOfSquares`, :class:`MeanOfSquares`,
  :class:`MovingAverageOfSquares`, wrapped in :class:`Debiased` and/or
  :class:`RunningMax` -- the latter is all that separates AMSGrad from Adam),
* an **alpha schedule** (:class:`Constant`, :class:`InverseSqrt`),

composed by :class:`GenericAdaptive`, a ``torch.optim.Optimizer``.

Every rule returns its moment as a pair ``(tensor, divisor)``: the moment it stands for
is ``tensor / divisor``.  Bias corrections and Adagrad's ``1/t`` are per-step scalars, so
keeping them as divisors instead of dividing whole tensors saves a pass over memory
(PyTorch's own Adam folds them the same way); the reference path below divides
explicitly and is tested to agree with the fast path.

Two code paths compute the same update:

* :meth:`GenericAdaptive._step_reference`: one tensor at a time, written to be read next
  to the algorithm box;
* :meth:`GenericAdaptive._step_foreach`: all tensors of a group at once with
  ``torch._foreach_*`` kernels, as ``torch.optim`` does.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Union

import torch
from torch import Tensor

__all__ = [
    "Schedule",
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
    "StepSchedule",
    "Constant",
    "InverseSqrt",
    "Rules",
    "GenericAdaptive",
    "project_box",
    "check_lr",
    "check_beta",
    "check_eps",
    "check_bounds",
]

#: A hyperparameter that is a constant or a schedule ``t -> value`` (t = 1, 2, ...).
Schedule = Union[float, Callable[[int], float]]


# ---------------------------------------------------------------------------------------
# Validation: every message names the argument, the value and what is allowed.
# ---------------------------------------------------------------------------------------


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_lr(lr: Any, name: str = "lr") -> float:
    if not _is_real(lr):
        raise TypeError(f"{name} must be a real number, got {type(lr).__name__}: {lr!r}")
    if not math.isfinite(lr) or lr < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {lr}")
    return float(lr)


def check_beta(beta: Any, name: str) -> Schedule:
    """A constant in [0, 1), or a callable schedule (checked when it is evaluated)."""
    if callable(beta):
        return beta
    if not _is_real(beta):
        raise TypeError(f"{name} must be a real number in [0, 1) or a callable t -> value, got {type(beta).__name__}: {beta!r}")
    if not (0.0 <= beta < 1.0):  # NaN fails this comparison too
        raise ValueError(f"{name} must be in [0, 1), got {beta}")
    return float(beta)


def check_eps(eps: Any, name: str = "eps") -> float:
    if not _is_real(eps):
        raise TypeError(f"{name} must be a real number, got {type(eps).__name__}: {eps!r}")
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {eps}")
    return float(eps)


def check_bounds(bounds: Any, name: str = "bounds") -> tuple[float, float] | None:
    if bounds is None:
        return None
    if not isinstance(bounds, Sequence) or len(bounds) != 2 or not all(_is_real(b) for b in bounds):
        raise TypeError(f"{name} must be None or a pair (lo, hi) of real numbers, got {bounds!r}")
    lo, hi = float(bounds[0]), float(bounds[1])
    if math.isnan(lo) or math.isnan(hi) or not lo < hi:
        raise ValueError(f"{name} must satisfy lo < hi, got ({lo}, {hi})")
    return (lo, hi)


def _beta_at(beta: Schedule, t: int, name: str) -> float:
    if not callable(beta):
        return beta
    value = beta(t)
    if not _is_real(value) or not (0.0 <= value < 1.0):
        raise ValueError(f"{name} schedule must return values in [0, 1), got {value!r} at t={t}")
    return float(value)


# ---------------------------------------------------------------------------------------
# Moment rules (phi and psi).  ``apply`` is the readable single-tensor form;
# ``apply_foreach`` advances a list of tensors that all share the step count t.
# Neither may modify its input: it can be a parameter's .grad or another rule's buffer.
# ---------------------------------------------------------------------------------------


class MomentRule(ABC):
    """A phi or psi rule: maps the gradient history to a moment, one step at a time.

    ``buffers`` names the state tensors the rule keeps per parameter (created lazily
    by :meth:`init`, with the parameter's shape, dtype and device).
    """

    buffers: tuple[str, ...] = ()

    def init(self, param: Tensor) -> dict[str, Tensor]:
        return {name: torch.zeros_like(param, memory_format=torch.preserve_format) for name in self.buffers}

    def apply(self, grad: Tensor, state: dict, t: int) -> Tensor | None:
        """The moment at step t as a tensor (``None`` means the identity matrix)."""
        moment, divisor = self.apply_foreach([grad], [state], t)
        if moment is None:
            return None
        return moment[0] / divisor if divisor != 1.0 else moment[0]

    @abstractmethod
    def apply_foreach(self, grads: list[Tensor], states: list[dict], t: int) -> tuple[list[Tensor] | None, float]:
        """The moment at step t as ``(tensors, divisor)``: the moment is tensors / divisor."""

    def current(self, state: dict, t: int) -> tuple[Tensor | None, float]:
        """The moment after step t as ``(tensor, divisor)``, read from the state without
        advancing it (``None``: the moment is not stored, e.g. the last gradient or I)."""
        return (state[self.buffers[0]], 1.0) if self.buffers else (None, 1.0)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class LastGradient(MomentRule):
    """phi_t(g_1..g_t) = g_t: the first moment of SGD, Adagrad and RMSProp."""

    def apply(self, grad, state, t):
        return grad

    def apply_foreach(self, grads, states, t):
        return grads, 1.0


class MovingAverage(MomentRule):
    """phi_t: m_t = beta1_t m_{t-1} + (1 - beta1_t) g_t, m_0 = 0 (Adam's momentum).

    ``beta`` is a constant or a schedule ``t -> beta1_t`` (AMSGrad's theory uses a
    decreasing one, e.g. ``beta1 * lam ** (t - 1)``).
    """

    def __init__(self, beta: Schedule, buffer: str = "exp_avg"):
        self.beta = check_beta(beta, "beta1")
        self.buffers = (buffer,)

    def apply(self, grad, state, t):
        beta = _beta_at(self.beta, t, "beta1")
        m = state[self.buffers[0]]
        m.mul_(beta).add_(grad, alpha=1.0 - beta)
        return m

    def apply_foreach(self, grads, states, t):
        beta = _beta_at(self.beta, t, "beta1")
        ms = [s[self.buffers[0]] for s in states]
        # lerp_(g, 1 - beta) is m + (1 - beta)(g - m): the same average, one kernel
        torch._foreach_lerp_(ms, grads, 1.0 - beta)
        return ms, 1.0


class Identity(MomentRule):
    """psi_t = I: no preconditioning (SGD)."""

    def apply(self, grad, state, t):
        return None

    def apply_foreach(self, grads, states, t):
        return None, 1.0


class SumOfSquares(MomentRule):
    """psi_t = diag(sum_{i<=t} g_i^2): Adagrad as PyTorch writes it (with a constant alpha)."""

    buffers = ("sum",)

    def apply(self, grad, state, t):
        return state["sum"].addcmul_(grad, grad)

    def apply_foreach(self, grads, states, t):
        sums = [s["sum"] for s in states]
        torch._foreach_addcmul_(sums, grads, grads)
        return sums, 1.0


class MeanOfSquares(MomentRule):
    """psi_t = diag(sum_{i<=t} g_i^2) / t: Adagrad as the paper writes it.

    With alpha_t = alpha / sqrt(t) the learning rate alpha_t / sqrt(v_t) equals
    alpha / sqrt(sum_i g_i^2), the same as :class:`SumOfSquares` with a constant alpha.
    """

    buffers = ("sum",)

    def apply(self, grad, state, t):
        return state["sum"].addcmul_(grad, grad) / t

    def apply_foreach(self, grads, states, t):
        sums = [s["sum"] for s in states]
        torch._foreach_addcmul_(sums, grads, grads)
        return sums, float(t)

    def current(self, state, t):
        return state["sum"], float(t)


class MovingAverageOfSquares(MomentRule):
    """psi_t: v_t = beta2_t v_{t-1} + (1 - beta2_t) g_t^2, v_0 = 0 (RMSProp, Adam).

    ``beta`` is a constant or a schedule (AdamNC: beta2_t = 1 - 1/t makes v_t the running
    mean of g^2).
    """

    def __init__(self, beta: Schedule, buffer: str = "exp_avg_sq"):
        self.beta = check_beta(beta, "beta2")
        self.buffers = (buffer,)

    def apply(self, grad, state, t):
        beta = _beta_at(self.beta, t, "beta2")
        v = state[self.buffers[0]]
        v.mul_(beta).addcmul_(grad, grad, value=1.0 - beta)
        return v

    def apply_foreach(self, grads, states, t):
        beta = _beta_at(self.beta, t, "beta2")
        vs = [s[self.buffers[0]] for s in states]
        torch._foreach_mul_(vs, beta)
        torch._foreach_addcmul_(vs, grads, grads, 1.0 - beta)
        return vs, 1.0


class Debiased(MomentRule):
    """Adam's bias correction of a moving average: moment / (1 - beta^t).

    A moving average started at 0 underestimates its input by the factor 1 - beta^t;
    the correction is a scalar per step, so it only multiplies the divisor.
    """

    def __init__(self, inner: MomentRule, beta: float):
        if callable(beta):
            raise TypeError("beta of Debiased must be a constant: 1 - beta^t corrects only a constant-beta average")
        self.inner = inner
        self.beta = check_beta(beta, "beta")

    @property
    def buffers(self):  # type: ignore[override]
        return self.inner.buffers

    def init(self, param):
        return self.inner.init(param)

    def apply(self, grad, state, t):
        moment = self.inner.apply(grad, state, t)
        return moment / (1.0 - self.beta**t)

    def apply_foreach(self, grads, states, t):
        moment, divisor = self.inner.apply_foreach(grads, states, t)
        return moment, divisor * (1.0 - self.beta**t)

    def current(self, state, t):
        moment, divisor = self.inner.current(state, t)
        return moment, divisor * (1.0 - self.beta**t)


class RunningMax(MomentRule):
    """vhat_t = max(vhat_{t-1}, v_t), element-wise, vhat_0 = 0: AMSGrad's long-term memory.

    Wraps any psi rule. The learning rate alpha_t / sqrt(vhat_t) can then only shrink
    when alpha_t does, which is what Adam's convergence proof needed (Gamma_t >= 0).
    """

    def __init__(self, inner: MomentRule, buffer: str = "max_exp_avg_sq"):
        self.inner = inner
        self.buffer = buffer

    @property
    def buffers(self):  # type: ignore[override]
        return self.inner.buffers + (self.buffer,)

    def factor(self, t: int) -> float:
        """What vhat_{t-1} is multiplied by before the max: 1 for AMSGrad (see
        :class:`RescaledRunningMax` for a rule where it is not)."""
        return 1.0

    def apply(self, grad, state, t):
        v = self.inner.apply(grad, state, t)
        vhat = state[self.buffer]
        factor = self.factor(t)
        if factor != 1.0:
            vhat.mul_(factor)
        torch.maximum(vhat, v, out=vhat)
        return vhat

    def apply_foreach(self, grads, states, t):
        vs, divisor = self.inner.apply_foreach(grads, states, t)
        vhats = [s[self.buffer] for s in states]
        if divisor != 1.0:
            vs = torch._foreach_div(vs, divisor)
        factor = self.factor(t)
        if factor != 1.0:
            torch._foreach_mul_(vhats, factor)
        torch._foreach_maximum_(vhats, vs)
        return vhats, 1.0

    def current(self, state, t):
        return state[self.buffer], 1.0


class RescaledRunningMax(RunningMax):
    """AdamX's psi (Tran & Phong 2019, Algorithm 2): a running max that follows beta1_t,

        vhat_1 = v_1,   vhat_t = max(((1 - beta1_t) / (1 - beta1_{t-1}))^2 vhat_{t-1}, v_t).

    With a non-increasing beta1_t the factor is >= 1, so that sqrt(vhat_t) / (1 - beta1_t),
    and not only sqrt(vhat_t), never decreases: the monotonicity AMSGrad's regret proof
    uses and :class:`RunningMax` does not give.  A constant beta1 makes the factor 1, and
    the rule is :class:`RunningMax`.  ``beta1`` must be the schedule of the phi rule.
    """

    def __init__(self, inner: MomentRule, beta1: Schedule, buffer: str = "max_exp_avg_sq"):
        super().__init__(inner, buffer)
        self.beta1 = check_beta(beta1, "beta1")

    def factor(self, t: int) -> float:
        """((1 - beta1_t) / (1 - beta1_{t-1}))^2; 1 at t = 1, where vhat_0 = 0 anyway."""
        if t <= 1 or not callable(self.beta1):
            return 1.0
        return ((1.0 - _beta_at(self.beta1, t, "beta1")) / (1.0 - _beta_at(self.beta1, t - 1, "beta1"))) ** 2


# ---------------------------------------------------------------------------------------
# Step-size schedules alpha_t = lr * factor(t); lr stays in param_groups so that
# torch.optim.lr_scheduler works unchanged.
# ---------------------------------------------------------------------------------------


class StepSchedule(ABC):
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


@dataclass(frozen=True)
class Rules:
    """The three choices that make a method out of Algorithm 1."""

    phi: MomentRule
    psi: MomentRule
    alpha: StepSchedule = Constant()


def _divide(m: Tensor, sqrt_v: Tensor) -> Tensor:
    """m / sqrt(v), with 0 / 0 = 0.

    Without eps, sqrt(v_t) is 0 exactly where every gradient so far was 0 (for beta2 > 0);
    there m_t = 0 too and the right step is none.  Any other division by zero (m_t != 0
    with v_t = 0, possible when beta2 = 0) stays an inf, and a NaN gradient stays a NaN:
    nothing is silently repaired.
    """
    out = m / sqrt_v
    return out.masked_fill_((m == 0) & (sqrt_v == 0), 0.0)


def project_box(params: list[Tensor], bounds: tuple[float, float] | None) -> None:
    """Pi_{F, sqrt(V_t)} for a box F and diagonal V_t: a coordinate-wise clip.

    For diagonal A the weighted distance ||A^{1/2}(x - y)||^2 = sum_j a_j (x_j - y_j)^2
    separates over coordinates, each minimised over [lo, hi] by clipping y_j: the weights
    do not move the minimiser.  (For a non-diagonal V_t they would.)
    """
    if bounds is None or not params:
        return
    torch._foreach_clamp_min_(params, bounds[0])
    torch._foreach_clamp_max_(params, bounds[1])


def _default_foreach(params: list[Tensor]) -> bool:
    """Follow torch.optim: the multi-tensor path by default for CUDA (and other native
    accelerator) tensors, the single-tensor path on the CPU."""
    try:
        from torch.optim.optimizer import _default_to_fused_or_foreach

        return _default_to_fused_or_foreach(params, differentiable=False, use_fused=False)[1]
    except (ImportError, TypeError):  # private helper: fall back to its documented rule
        return all(p.is_cuda for p in params)


# ---------------------------------------------------------------------------------------
# The optimizer.
# ---------------------------------------------------------------------------------------


class GenericAdaptive(torch.optim.Optimizer):
    """Algorithm 1 as a ``torch.optim.Optimizer``.

    Either give the rules directly::

        GenericAdaptive(params, lr=0.1, phi=MovingAverage(0.9),
                        psi=RunningMax(MovingAverageOfSquares(0.99)), alpha=InverseSqrt())

    or subclass and build them from each param group's hyperparameters in
    :meth:`rules` (the methods in :mod:`adaptive_methods.methods` do this, so that
    ``param_groups[i]["betas"]`` can differ between groups like in torch.optim).

    Per-group options: ``lr``; ``eps`` added to sqrt(v_t) (``eps_placement="outside"``,
    PyTorch and optax) or to v_t under the root (``"inside"``, Theorem 6 of the paper);
    ``bounds=(lo, hi)`` to project onto the box F after each step.

    Per-parameter state, created at the first step that parameter has a gradient:
    ``step`` (a Python int, as in the paper's t) and the buffers of phi and psi only.
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        *,
        phi: MomentRule | None = None,
        psi: MomentRule | None = None,
        alpha: StepSchedule | None = None,
        eps: float = 0.0,
        eps_placement: str = "outside",
        bounds: tuple[float, float] | None = None,
        foreach: bool | None = None,
        defaults: dict | None = None,
    ):
        if (phi is None) != (psi is None):
            raise TypeError("phi and psi must be given together (or both left to a subclass's rules())")
        if phi is not None:
            if not isinstance(phi, MomentRule):
                raise TypeError(f"phi must be a MomentRule, got {type(phi).__name__}")
            if not isinstance(psi, MomentRule):
                raise TypeError(f"psi must be a MomentRule, got {type(psi).__name__}")
            if alpha is not None and not isinstance(alpha, StepSchedule):
                raise TypeError(f"alpha must be a StepSchedule, got {type(alpha).__name__}")
            self._fixed_rules: Rules | None = Rules(phi, psi, alpha or Constant())
        else:
            if type(self).rules is GenericAdaptive.rules:
                raise TypeError("GenericAdaptive needs phi and psi (or a subclass that defines rules())")
            self._fixed_rules = None
        if eps_placement not in ("outside", "inside"):
            raise ValueError(f"eps_placement must be 'outside' or 'inside', got {eps_placement!r}")
        if foreach is not None and not isinstance(foreach, bool):
            raise TypeError(f"foreach must be None, True or False, got {foreach!r}")
        base = dict(lr=check_lr(lr), eps=check_eps(eps), eps_placement=eps_placement, bounds=check_bounds(bounds), foreach=foreach)
        base.update(defaults or {})
        super().__init__(params, base)

    # -- hooks for subclasses --------------------------------------------------------------

    def rules(self, group: dict) -> Rules:
        """The phi, psi and alpha rules of a param group."""
        assert self._fixed_rules is not None
        return self._fixed_rules

    def _rules_of(self, group: dict) -> Rules:
        return self._fixed_rules if self._fixed_rules is not None else self.rules(group)

    # -- the step ----------------------------------------------------------------------------

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params, grads, states = self._collect(group)
            if not params:
                continue
            rules = self._rules_of(group)
            foreach = group["foreach"]
            if foreach is None:
                foreach = _default_foreach(params)
            if foreach:
                self._step_foreach(group, rules, params, grads, states)
            else:
                self._step_reference(group, rules, params, grads, states)
        return loss

    def _collect(self, group: dict):
        params, grads, states = [], [], []
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise TypeError(f"{type(self).__name__} does not support sparse gradients (param of shape {tuple(p.shape)})")
            if torch.is_complex(p):
                raise TypeError(f"{type(self).__name__} does not support complex parameters (param of shape {tuple(p.shape)})")
            state = self.state[p]
            if not state:
                rules = self._rules_of(group)
                state["step"] = 0
                state.update(rules.phi.init(p))
                state.update(rules.psi.init(p))
            state["step"] += 1
            params.append(p)
            grads.append(p.grad)
            states.append(state)
        return params, grads, states

    def _step_reference(self, group, rules: Rules, params, grads, states) -> None:
        """Algorithm 1 for one tensor at a time, literally."""
        eps, inside = group["eps"], group["eps_placement"] == "inside"
        for p, g, state in zip(params, grads, states):
            t = state["step"]
            alpha_t = group["lr"] * rules.alpha.factor(t)
            m = rules.phi.apply(g, state, t)
            v = rules.psi.apply(g, state, t)
            if v is None:  # V_t = I
                p.add_(m, alpha=-alpha_t)
            else:
                sqrt_v = (v + eps).sqrt() if inside else v.sqrt() + eps
                p.sub_(alpha_t * _divide(m, sqrt_v))
            if group["bounds"] is not None:
                p.clamp_(*group["bounds"])

    def _step_foreach(self, group, rules: Rules, params, grads, states) -> None:
        """The same update with ``torch._foreach_*`` kernels, grouped by device, dtype and t."""
        eps, inside = group["eps"], group["eps_placement"] == "inside"
        buckets: dict[tuple, list[int]] = defaultdict(list)
        for i, (p, state) in enumerate(zip(params, states)):
            buckets[(p.device, p.dtype, state["step"])].append(i)
        for (_, _, t), idx in buckets.items():
            ps = [params[i] for i in idx] if len(idx) != len(params) else params
            gs = [grads[i] for i in idx] if len(idx) != len(params) else grads
            ss = [states[i] for i in idx] if len(idx) != len(params) else states
            alpha_t = group["lr"] * rules.alpha.factor(t)
            m, m_div = rules.phi.apply_foreach(gs, ss, t)
            v, v_div = rules.psi.apply_foreach(gs, ss, t)
            step_size = alpha_t / m_div
            if v is None:
                torch._foreach_add_(ps, m, alpha=-step_size)
            else:
                if inside:  # sqrt(v / v_div + eps)
                    if v_div != 1.0:
                        denom = torch._foreach_div(v, v_div)
                        torch._foreach_add_(denom, eps)
                    else:
                        denom = torch._foreach_add(v, eps)
                    torch._foreach_sqrt_(denom)
                else:  # sqrt(v) / sqrt(v_div) + eps, PyTorch's order of operations
                    denom = torch._foreach_sqrt(v)
                    if v_div != 1.0:
                        torch._foreach_div_(denom, math.sqrt(v_div))
                    if eps:
                        torch._foreach_add_(denom, eps)
                if eps:
                    torch._foreach_addcdiv_(ps, m, denom, value=-step_size)
                else:  # the paper's forms: sqrt(v_t) can be exactly 0
                    torch._foreach_add_(ps, [_divide(a, b) for a, b in zip(m, denom)], alpha=-step_size)
            project_box(ps, group["bounds"])

    # -- inspection: what Gamma_t is made of ------------------------------------------------

    @torch.no_grad()
    def inverse_learning_rates(self) -> list[Tensor | None]:
        """Per parameter, the elementwise inverse learning rate after the last step.

        It is the factor by which the update divides the (raw) first moment m_t:
        ``sqrt(v_t / v_div) + eps`` times ``m_div / alpha_t``; without bias correction and
        eps it is the paper's sqrt(V_t) / alpha_t.  Gamma_{t+1} is the change of this
        quantity from one step to the next (see :mod:`adaptive_methods.gamma`).  ``None``
        for a parameter that has not been stepped yet.

        Evaluating a rule must not advance it, so this reads the stored buffers through
        :meth:`MomentRule.current` instead of calling ``apply``.
        """
        out: list[Tensor | None] = []
        for group in self.param_groups:
            rules = self._rules_of(group)
            eps, inside = group["eps"], group["eps_placement"] == "inside"
            for p in group["params"]:
                state = self.state.get(p)
                if not state:
                    out.append(None)
                    continue
                t = state["step"]
                alpha_t = group["lr"] * rules.alpha.factor(t)
                _, m_div = rules.phi.current(state, t)
                v, v_div = rules.psi.current(state, t)
                if v is None:
                    denom = torch.ones_like(p)
                elif inside:
                    denom = (v / v_div + eps).sqrt()
                else:
                    denom = v.sqrt() / math.sqrt(v_div) + eps
                out.append(denom * (m_div / alpha_t))
        return out

