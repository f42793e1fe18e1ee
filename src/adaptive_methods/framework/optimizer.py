"""Algorithm 1 as a ``torch.optim.Optimizer``: the step is a short pipeline,

    m_t = phi(g)  ->  V_t = psi(g; m_t)  ->  u_t = V_t^{-1/2} m_t (with eps)
        ->  transforms of u_t  ->  x_t - alpha_t u_t  ->  projection onto F.

Three code paths compute the same update:

* :meth:`GenericAdaptive._step_reference`: one tensor at a time, written to be read next
  to the algorithm box;
* :meth:`GenericAdaptive._step_foreach` (the default): all tensors of a group at once
  with ``torch._foreach_*`` kernels, as ``torch.optim`` does;
* ``fused=True``: the rules' tensor arithmetic (:meth:`MomentRule.update`) compiled by
  ``torch.compile`` into one kernel per tensor, for any composition (:mod:`.compiled`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from . import compiled
from .rules import (
    Constant,
    MomentRule,
    Rules,
    StepContext,
    StepSchedule,
    preconditioned,
    sqrt_v,
)
from .validation import check_bounds, check_eps, check_lr

__all__ = ["GenericAdaptive", "project_box", "preconditioned"]

# Group entries that select an algorithm rather than tune it: a saved state whose groups
# say otherwise belongs to another method and is refused by load_state_dict.
_ALGORITHM_KEYS = ("variant", "form", "bias_correction", "eps_placement", "step")


def project_box(params: list[Tensor], bounds: tuple[float, float] | None) -> None:
    """Pi_{F, sqrt(V_t)} for a box F and diagonal V_t: a coordinate-wise clip.

    For diagonal A the weighted distance ||A^{1/2}(x - y)||^2 = sum_j a_j (x_j - y_j)^2
    separates over coordinates, each minimised over [lo, hi] by clipping y_j: the
    weights do not move the minimiser.  (For a non-diagonal V_t they would.)

    Parameters
    ----------
    params : list of torch.Tensor
        The iterates, clipped in place (all on one device, as ``torch._foreach_*``
        needs).
    bounds : (float, float) or None
        The box [lo, hi] with lo < hi (not checked here), or None: no projection.

    Examples
    --------
    >>> x = torch.tensor([-3.0, 0.5, 2.0])
    >>> project_box([x], (-1.0, 1.0))
    >>> x.tolist()
    [-1.0, 0.5, 1.0]
    """
    if bounds is None or not params:
        return
    torch._foreach_clamp_min_(params, bounds[0])
    torch._foreach_clamp_max_(params, bounds[1])


def _default_foreach(params: list[Tensor]) -> bool:
    """The multi-tensor path wherever its kernels exist: CUDA and the other native
    accelerators, as torch.optim, and also the CPU, where torch.optim loops over tensors
    but our multi-tensor step is the faster one (``benchmarks/bench_optimizer_step.py``)."""
    # the is_* flags, not p.device.type: a device object per tensor and step cost ~2 us
    # a tensor, a few percent of a CIFARNET-sized SGD step
    return all(
        (p.is_cpu or p.is_cuda or p.is_xpu or p.is_mps) and p.layout is torch.strided
        for p in params
    )


def _check_rules_args(phi, psi, alpha, post) -> Rules | None:
    if (phi is None) != (psi is None):
        raise TypeError(
            "phi and psi must be given together (or both left to a subclass's rules())"
        )
    if phi is None:
        if post:
            raise TypeError(
                "post needs phi and psi (a subclass's rules() returns its own transforms)"
            )
        return None
    for name, rule in (("phi", phi), ("psi", psi)):
        if not isinstance(rule, MomentRule):
            raise TypeError(f"{name} must be a MomentRule, got {type(rule).__name__}")
    if alpha is not None and not isinstance(alpha, StepSchedule):
        raise TypeError(f"alpha must be a StepSchedule, got {type(alpha).__name__}")
    return Rules(phi, psi, alpha or Constant(), tuple(post))


class GenericAdaptive(torch.optim.Optimizer):
    """Algorithm 1 as a ``torch.optim.Optimizer``.

    Each step computes, per parameter,

        m_t = phi(g_t),   V_t = psi(g_t; m_t),   u_t = V_t^{-1/2} m_t (with eps),
        u_t <- transforms(u_t),   x_{t+1} = Pi_F(x_t - alpha_t u_t),

    with the pseudo-inverse where V_t = 0 (the coordinate does not move).  Either give
    the rules directly (``phi``, ``psi``, ``alpha``, ``post``), or subclass and build
    them from each param group's hyperparameters in :meth:`rules` (the methods in
    :mod:`adaptive_methods.methods` do this, so that ``param_groups[i]["betas"]`` can
    differ between groups like in torch.optim).  A group's rules are built once, and
    again only when its hyperparameters change.

    Per-parameter state, created at the first step that parameter has a gradient:
    ``step`` (a Python int, as in the paper's t) and the rules' buffers only.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimise, or parameter groups (dicts with ``"params"`` and
        per-group options), as for any ``torch.optim.Optimizer``.
    lr : float, default 1e-3
        The step size alpha (alpha_t = lr * alpha.factor(t)); finite, >= 0.
    phi : MomentRule or None, default None
        The first-moment rule (m_t); given with ``psi``, or neither is given and a
        subclass's :meth:`rules` builds the rules.
    psi : MomentRule or None, default None
        The second-moment rule (V_t); given with ``phi``.
    alpha : StepSchedule or None, default None
        alpha_t / lr; None means :class:`Constant`.
    post : sequence of Transform, default ()
        Transforms of the preconditioned direction, applied in order; only with ``phi``
        and ``psi``.
    eps : float, default 0.0
        Added to sqrt(v_t) or to v_t (see ``eps_placement``); finite, >= 0.
    eps_placement : {"outside", "inside"}, default "outside"
        sqrt(v_t) + eps (PyTorch and optax), or sqrt(v_t + eps) (Theorem 6 of Reddi et
        al.).
    bounds : (float, float) or None, default None
        The box F = [lo, hi]^d onto which each step projects (lo < hi), or None for R^d.
    foreach : bool or None, default None
        The multi-tensor path (``torch._foreach_*`` kernels; None: wherever it exists,
        the CPU included) or, with False, one tensor at a time.
    fused : bool or None, default None
        True: the compiled path (the whole step of a group through ``torch.compile``),
        which warns with a :class:`CompiledPathWarning` and runs the foreach path where
        ``torch.compile`` cannot build the step.  Not with ``foreach=True``.
    defaults : dict or None, default None
        Further per-group hyperparameters, for a subclass's :meth:`rules` (they
        override the options above of the same name).

    Raises
    ------
    TypeError
        If ``phi`` and ``psi`` are not given together (or, without a subclass's
        :meth:`rules`, not at all), a rule is not of its kind, ``post`` is given
        without them, or an option has the wrong type; at a step, for a sparse
        gradient or a complex parameter.
    ValueError
        If an option is out of its range (the message names it, its value and the
        range), or ``foreach`` and ``fused`` are both True.

    Examples
    --------
    AMSGrad in the paper's form (Algorithm 2), from its rules: m_1 = 0.2 and
    vhat_1 = 0.04, so the first step is lr * 0.2 / sqrt(0.04):

    >>> from adaptive_methods.framework import (InverseSqrt, MovingAverage,
    ...                                         MovingAverageOfSquares, RunningMax)
    >>> x = torch.zeros(1, requires_grad=True)
    >>> optimizer = GenericAdaptive([x], lr=0.1, phi=MovingAverage(0.9),
    ...                             psi=RunningMax(MovingAverageOfSquares(0.99)),
    ...                             alpha=InverseSqrt(), bounds=(-1.0, 1.0))
    >>> x.grad = torch.tensor([2.0])
    >>> optimizer.step()
    >>> round(x.item(), 6)
    -0.1
    >>> sorted(optimizer.state[x])
    ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step']
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        *,
        phi: MomentRule | None = None,
        psi: MomentRule | None = None,
        alpha: StepSchedule | None = None,
        post=(),
        eps: float = 0.0,
        eps_placement: str = "outside",
        bounds: tuple[float, float] | None = None,
        foreach: bool | None = None,
        fused: bool | None = None,
        defaults: dict | None = None,
    ):
        self._fixed_rules = _check_rules_args(phi, psi, alpha, post)
        if self._fixed_rules is None and type(self).rules is GenericAdaptive.rules:
            raise TypeError(
                "GenericAdaptive needs phi and psi (or a subclass that defines rules())"
            )
        if eps_placement not in ("outside", "inside"):
            raise ValueError(
                f"eps_placement must be 'outside' or 'inside', got {eps_placement!r}"
            )
        for name, flag in (("foreach", foreach), ("fused", fused)):
            if flag is not None and not isinstance(flag, bool):
                raise TypeError(f"{name} must be None, True or False, got {flag!r}")
        if foreach and fused:
            raise ValueError(
                "foreach and fused cannot both be True: pick one code path"
            )
        base = dict(
            lr=check_lr(lr),
            eps=check_eps(eps),
            eps_placement=eps_placement,
            bounds=check_bounds(bounds),
            foreach=foreach,
            fused=fused,
        )
        base.update(defaults or {})
        self._built: dict[int, tuple[dict, Rules]] = {}
        super().__init__(params, base)

    # -- the rules of a group ------------------------------------------------------------

    def rules(self, group: dict) -> Rules:
        """The phi, psi and alpha rules of a param group (subclasses build them here)."""
        assert self._fixed_rules is not None
        return self._fixed_rules

    def rules_of(self, group: dict) -> Rules:
        """The group's rules, built once and rebuilt only when its hyperparameters change."""
        if self._fixed_rules is not None:
            return self._fixed_rules
        settings = {k: v for k, v in group.items() if k not in ("params", "lr")}
        built = self._built.get(id(group))
        if built is None or built[0] != settings:
            rules = self.rules(group)
            if not isinstance(rules, Rules):
                raise TypeError(
                    f"{type(self).__name__}.rules must return a Rules, got {type(rules).__name__}"
                )
            built = self._built[id(group)] = (settings, rules)
        return built[1]

    # -- the step ------------------------------------------------------------------------

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None):
        """One step of Algorithm 1 for every parameter that has a gradient.

        ``closure`` (optional) re-evaluates the loss, which is returned, as in
        ``torch.optim``.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            rules = self.rules_of(group)
            params, grads, states = self._collect(group, rules)
            if not params:
                continue
            if group.get("fused") and compiled.step(
                group, rules, params, grads, states
            ):
                continue
            foreach = group["foreach"]
            if foreach is None:
                foreach = _default_foreach(params)
            if foreach:
                self._step_foreach(group, rules, params, grads, states)
            else:
                self._step_reference(group, rules, params, grads, states)
        return loss

    def _collect(self, group: dict, rules: Rules):
        params, grads, states = [], [], []
        all_states = self.state
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            if grad.is_sparse:
                raise TypeError(
                    f"{type(self).__name__} does not support sparse gradients (param of shape {tuple(p.shape)})"
                )
            if p.dtype.is_complex:
                raise TypeError(
                    f"{type(self).__name__} does not support complex parameters (param of shape {tuple(p.shape)})"
                )
            state = all_states[p]
            if not state:
                state["step"] = 0
                state.update(rules.init(p))
            state["step"] += 1
            params.append(p)
            grads.append(grad)
            states.append(state)
        return params, grads, states

    def _step_reference(self, group, rules: Rules, params, grads, states) -> None:
        """Algorithm 1 for one tensor at a time, literally."""
        eps, inside = group["eps"], group["eps_placement"] == "inside"
        for p, g, state in zip(params, grads, states):
            ctx = StepContext(t=state["step"], phi=rules.phi, lr=group["lr"])
            ctx.m = rules.phi.apply(g, state, ctx)
            v = rules.psi.apply(g, state, ctx)
            u = ctx.m if v is None else preconditioned(ctx.m, sqrt_v(v, eps, inside))
            for transform in rules.post:
                u = transform.apply(u, p, state, ctx)
            p.add_(u, alpha=-group["lr"] * rules.alpha.factor(ctx.t))
            if group["bounds"] is not None:
                p.clamp_(*group["bounds"])

    def _step_foreach(self, group, rules: Rules, params, grads, states) -> None:
        """The same update with ``torch._foreach_*`` kernels, grouped by device, dtype and t."""
        buckets: dict[tuple, list[int]] = defaultdict(list)
        for i, (p, state) in enumerate(zip(params, states)):
            buckets[(p.device, p.dtype, state["step"])].append(i)
        for (_, _, t), idx in buckets.items():
            if len(idx) != len(params):
                ps, gs, ss = (
                    [params[i] for i in idx],
                    [grads[i] for i in idx],
                    [states[i] for i in idx],
                )
            else:
                ps, gs, ss = params, grads, states
            self._foreach_bucket(group, rules, ps, gs, ss, t)
            project_box(ps, group["bounds"])

    def _foreach_bucket(self, group, rules: Rules, ps, gs, ss, t: int) -> None:
        eps, inside = group["eps"], group["eps_placement"] == "inside"
        ctx = StepContext(t=t, phi=rules.phi, lr=group["lr"])
        ctx.m, ctx.m_divisor = rules.phi.apply_foreach(gs, ss, ctx)
        step_size = group["lr"] * rules.alpha.factor(t) / ctx.m_divisor
        if not eps and rules.psi.gives_root:
            # a rule that computes sqrt(V_t) itself: no squaring and no second root
            denom, positive = rules.psi.root_foreach(gs, ss, ctx), rules.psi.root_positive
        else:
            v, v_div = rules.psi.apply_foreach(gs, ss, ctx)
            denom = None if v is None else _foreach_sqrt_v(v, v_div, eps, inside)
            positive = bool(eps)
        if denom is None:
            if rules.post:
                u = self._transformed(rules, list(ctx.m), ps, ss, ctx)
                torch._foreach_add_(ps, u, alpha=-step_size)
            else:
                torch._foreach_add_(ps, ctx.m, alpha=-step_size)
            return
        if rules.post:
            decay = _decoupled_decay(rules, ctx)
            if decay is not None:
                # x - s (u + c x) as (x - s c x) - s u: u need not be formed (AdamW)
                torch._foreach_add_(ps, ps, alpha=-step_size * decay)
            else:
                u = (torch._foreach_div(ctx.m, denom) if positive
                     else [preconditioned(a, b) for a, b in zip(ctx.m, denom)])
                torch._foreach_add_(ps, self._transformed(rules, u, ps, ss, ctx), alpha=-step_size)
                return
        if not positive:
            # the paper's forms: sqrt(v_t) can be exactly 0, where the pseudo-inverse
            # does not move the coordinate; m_t / inf = 0 there (m_t is finite where
            # v_t = 0: a gradient that is not finite makes v_t so too)
            denom = _zeros_to_inf(denom)
        torch._foreach_addcdiv_(ps, ctx.m, denom, value=-step_size)

    @staticmethod
    def _transformed(
        rules: Rules, u: list[Tensor], ps, ss, ctx: StepContext
    ) -> list[Tensor]:
        for transform in rules.post:
            u = transform.apply_foreach(u, ps, ss, ctx)
        return u

    # -- inspection: what Gamma_t is made of -----------------------------------------------

    @torch.no_grad()
    def inverse_learning_rates(self) -> list[Tensor | None]:
        """Per parameter, the elementwise inverse learning rate after the last step.

        It is the factor by which the update divides the (raw) first moment m_t:
        ``sqrt(v_t / v_div) + eps`` times ``m_div / alpha_t``; without bias correction
        and eps it is the paper's sqrt(V_t) / alpha_t.  Gamma_{t+1} is the change of
        this quantity from one step to the next (see :mod:`adaptive_methods.gamma`).
        ``None`` for a parameter that has not been stepped yet.

        Evaluating a rule must not advance it, so this reads the stored buffers through
        :meth:`MomentRule.current` instead of calling ``apply``.
        """
        out: list[Tensor | None] = []
        for group in self.param_groups:
            rules = self.rules_of(group)
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

    # -- saving and loading ----------------------------------------------------------------

    def state_dict(self) -> dict:
        """torch.optim's state, plus the class that saved it (``"optimizer"``)."""
        saved = super().state_dict()
        saved["optimizer"] = f"{type(self).__module__}.{type(self).__qualname__}"
        return saved

    def load_state_dict(self, state_dict: dict) -> None:
        """torch.optim's loading, after checking that the state is this method's own.

        A state saved by another class (a ``torch.optim.Adam``, another method of the
        package) or by another variant of this one would make the next step read buffers
        that are not there, or run a different algorithm: it is refused here, with a
        ``ValueError`` naming what differs.
        """
        mine = f"{type(self).__module__}.{type(self).__qualname__}"
        theirs = state_dict.get("optimizer")
        if theirs is not None and theirs != mine:
            raise ValueError(
                f"this state was saved by {theirs}, not by {mine}: load it into a {theirs.rsplit('.', 1)[-1]}"
            )
        saved_groups = state_dict.get("param_groups", [])
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            missing = set(group) - set(saved)
            if missing:
                raise ValueError(
                    f"param group {i} of this state does not belong to a {type(self).__name__}: "
                    f"it lacks {sorted(missing)}"
                )
            differ = {
                k: (saved[k], group[k])
                for k in _ALGORITHM_KEYS
                if k in group and saved[k] != group[k]
            }
            if differ:
                listed = ", ".join(
                    f"{k}={a!r} (this optimizer: {b!r})" for k, (a, b) in differ.items()
                )
                raise ValueError(
                    f"param group {i} of this state is another algorithm: {listed}"
                )
        self._check_saved_buffers(state_dict)
        super().load_state_dict(state_dict)
        self._built.clear()

    def _check_saved_buffers(self, state_dict: dict) -> None:
        for i, group in enumerate(self.param_groups):
            expected = {"step", *self.rules_of(group).buffers}
            saved_group = (
                state_dict["param_groups"][i]
                if i < len(state_dict.get("param_groups", []))
                else None
            )
            for key in (saved_group or {}).get("params", []):
                entry = state_dict.get("state", {}).get(key)
                if entry and set(entry) != expected:
                    raise ValueError(
                        f"the state of parameter {key} holds {sorted(entry)}, but {type(self).__name__} "
                        f"keeps {sorted(expected)}: it was saved by another optimizer"
                    )


def _decoupled_decay(rules: Rules, ctx: StepContext) -> float | None:
    """c when the transforms together are u -> u + c x_t (a decoupled weight decay), else None."""
    weights = [transform.param_weight(ctx) for transform in rules.post]
    return None if any(w is None for w in weights) else sum(weights)


def _zeros_to_inf(denom: list[Tensor]) -> list[Tensor]:
    if denom[0].device.type == "cpu":
        # after the first steps no coordinate has sqrt(v_t) = 0: one read of each tensor
        # (and one look at the minima) says so, cheaper than writing and applying a mask;
        # on an accelerator the look would wait for the device, and the mask does not
        if not bool(torch.stack([d.amin() for d in denom if d.numel()] or [denom[0].new_ones(())]).eq(0).any()):
            return denom
    return [d.masked_fill_(d == 0, math.inf) for d in denom]


def _foreach_sqrt_v(
    v: list[Tensor], v_div: float, eps: float, inside: bool
) -> list[Tensor]:
    """sqrt(v / v_div) with eps, PyTorch's order of operations (sqrt first, then divide)."""
    if inside:  # sqrt(v / v_div + eps)
        if v_div != 1.0:
            denom = torch._foreach_div(v, v_div)
            torch._foreach_add_(denom, eps)
        else:
            denom = torch._foreach_add(v, eps)
        torch._foreach_sqrt_(denom)
        return denom
    denom = torch._foreach_sqrt(v)
    if v_div != 1.0:
        torch._foreach_div_(denom, math.sqrt(v_div))
    if eps:
        torch._foreach_add_(denom, eps)
    return denom
