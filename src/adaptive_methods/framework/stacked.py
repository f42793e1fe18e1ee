"""The foreach step of many optimizers at once, over stacked tensors (the batched grids).

A batched grid (:mod:`adaptive_methods.experiments.batched`) holds each parameter of its
runs as one tensor of shape ``(copies, settings, *shape)``, and optimizer ``h`` of the
package updates the views ``stacked[:, h]``. Stepping the optimizers one after the other
costs a few kernel launches per setting and tensor; :class:`StackedStep` runs the same
step once over the stacked tensors, each setting's per-step numbers (1 - beta1_t, beta2_t,
1 - beta2_t, the bias corrections, alpha_t, eps) entering as a tensor of shape
``(1, settings, 1, ...)`` that broadcasts over its slice.

It is the foreach path of :meth:`GenericAdaptive._foreach_bucket
<adaptive_methods.framework.GenericAdaptive>`, operation for operation: the numbers come
from the rules themselves (:meth:`MomentRule.coefficients`, :meth:`StepSchedule.factor`),
the kernels are the same (``lerp``, ``mul``, ``addcmul``, ``maximum``, ``sqrt``, ``div``,
``add``, ``addcdiv``), and where the foreach path multiplies by a number inside a kernel
(``addcmul``'s and ``addcdiv``'s ``value``) the product is formed first, as that kernel
forms it. Where the foreach path skips an operation for a setting (no bias correction:
no division; eps = 0: no addition) the stacked step applies it with the neutral number
(a division by 1, an addition of 0), which changes no bit. So every run's update equals,
bit for bit, what its own optimizer computes (``tests/test_stacked_step.py``, float32 and
float64, every kind below).

It covers the compositions of Adam and AMSGrad (and AdamNC's), on the foreach path, with
eps outside the root, no projection and no transforms: phi a :class:`MovingAverage`
(constant or scheduled beta1), alone or :class:`Debiased`; psi a :class:`MovingAverageOfSquares`,
alone, :class:`Debiased`, under a :class:`RunningMax` (``Debiased`` or not, the max of
the raw v_t: PyTorch's and the paper's AMSGrad) or a :class:`RunningMax` of the
``Debiased`` average (optax's); any :class:`StepSchedule`. :func:`unsupported` says why
another optimizer is not covered; its setting keeps its own optimizer.

The state stays in the optimizers: each optimizer's buffers are views into the stacked
buffers (and its ``step`` count is kept), so that ``state_dict`` and ``load_state_dict``
work as for the optimizers alone; after a ``load_state_dict`` call :meth:`link` to bring
the loaded state into the stacked buffers.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .optimizer import GenericAdaptive, _default_foreach, _zeros_to_inf
from .rules import Debiased, MomentRule, MovingAverage, MovingAverageOfSquares, Rules, RunningMax, StepContext

__all__ = ["PSI_KINDS", "StackedStep", "unsupported", "psi_kind"]

#: The kinds of psi the stacked step runs (:func:`psi_kind`) -- the second moment as it
#: is (Adam), the running max of the raw average (PyTorch's and the paper's AMSGrad), of
#: the debiased one (optax's).
PSI_KINDS = ("average", "max-of-average", "max-of-debiased")
_BUFFER_KEYS = ("m", "v", "vhat")


def _unwrap(rule: MomentRule, wrapper: type) -> tuple[MomentRule, bool]:
    if type(rule) is wrapper:
        return rule.inner, True
    return rule, False


def psi_kind(psi: MomentRule) -> str | None:
    """Which of :data:`PSI_KINDS` a psi rule is, or None for a rule the step does not run.

    Parameters
    ----------
    psi : MomentRule
        A second-moment rule, as an optimizer's ``rules_of(group).psi`` gives it.

    Returns
    -------
    str or None
        ``"average"`` for a
        :class:`~adaptive_methods.framework.MovingAverageOfSquares`, alone or
        :class:`~adaptive_methods.framework.Debiased`; ``"max-of-average"`` for a
        :class:`~adaptive_methods.framework.RunningMax` of it (``Debiased`` outside
        the max or not); ``"max-of-debiased"`` for a ``RunningMax`` of the
        ``Debiased`` average; None for any other rule.

    Examples
    --------
    >>> from adaptive_methods.framework import (
    ...     Debiased, MovingAverageOfSquares, RunningMax, SumOfSquares)
    >>> v = MovingAverageOfSquares(0.99)
    >>> rules = Debiased(v), RunningMax(v), RunningMax(Debiased(v))
    >>> [psi_kind(rule) for rule in rules]
    ['average', 'max-of-average', 'max-of-debiased']
    >>> psi_kind(SumOfSquares()) is None
    True
    """
    inner, debiased_outside = _unwrap(psi, Debiased)
    inner, maximum = _unwrap(inner, RunningMax)
    inner, debiased_inside = _unwrap(inner, Debiased)
    if type(inner) is not MovingAverageOfSquares or (debiased_outside and debiased_inside):
        return None
    if not maximum:
        return None if debiased_inside else "average"
    return "max-of-debiased" if debiased_inside else "max-of-average"


def unsupported(optimizer) -> str | None:
    """Why :class:`StackedStep` does not run ``optimizer`` (None: it does).

    Parameters
    ----------
    optimizer : object
        Any optimizer; only a :class:`~adaptive_methods.framework.GenericAdaptive`
        with one parameter group, on the foreach path, with eps outside the root, no
        bounds, no transforms, a moving average as phi (debiased or not) and a psi of
        :data:`PSI_KINDS` is run.

    Returns
    -------
    str or None
        The first reason found, as a phrase ("it does not run the foreach path"), or
        None where the stacked step runs the optimizer.

    Examples
    --------
    >>> import torch
    >>> from adaptive_methods import Adam, Adagrad
    >>> x = torch.zeros(3)
    >>> unsupported(Adam([x])) is None
    True
    >>> unsupported(Adagrad([x]))
    'its first moment LastGradient() is not a moving average (debiased or not)'
    >>> unsupported(torch.optim.SGD([x], lr=0.1))
    'SGD is not an optimizer of the package'
    """
    if not isinstance(optimizer, GenericAdaptive):
        return f"{type(optimizer).__name__} is not an optimizer of the package"
    if len(optimizer.param_groups) != 1:
        return f"it has {len(optimizer.param_groups)} parameter groups, not one"
    group = optimizer.param_groups[0]
    if group.get("fused") or group["foreach"] is False or not _default_foreach(group["params"]):
        return "it does not run the foreach path"
    if group["eps_placement"] != "outside" or group["bounds"] is not None:
        return "its eps is inside the root or it projects onto a box"
    rules = optimizer.rules_of(group)
    if rules.post:
        return f"it transforms the direction ({', '.join(type(t).__name__ for t in rules.post)})"
    phi, _ = _unwrap(rules.phi, Debiased)
    if type(phi) is not MovingAverage:
        return f"its first moment {rules.phi!r} is not a moving average (debiased or not)"
    if psi_kind(rules.psi) is None:
        return f"its second moment {rules.psi!r} is not one of the stacked kinds {PSI_KINDS}"
    return None


def _divisor(rule: MomentRule, ctx: StepContext) -> float:
    """The divisor the foreach path gives a moment: a Debiased rule's correction
    1 - beta^t (as its ``apply_foreach`` returns it), else 1."""
    return rule._correction(ctx.t) if type(rule) is Debiased else 1.0


def _numbers(rules: Rules, group: dict, t: int) -> tuple[float, ...]:
    """One setting's numbers at step t, as ``_foreach_bucket`` computes them: the lerp
    weight 1 - beta1_t, -alpha_t / m_divisor, beta2_t, 1 - beta2_t, the divisor of v_t
    before the max (optax's), the root of the divisor after it, and eps."""
    ctx = StepContext(t=t, phi=rules.phi, lr=group["lr"])
    phi, _ = _unwrap(rules.phi, Debiased)
    lerp_weight = phi.coefficients(ctx)[1]
    step_size = group["lr"] * rules.alpha.factor(t) / _divisor(rules.phi, ctx)
    outer, _ = _unwrap(rules.psi, Debiased)
    inner, maximum = _unwrap(outer, RunningMax)
    average, _ = _unwrap(inner, Debiased)
    beta2, one_minus_beta2 = average.coefficients(ctx)
    before_max = _divisor(inner, ctx) if maximum else 1.0
    after_max = _divisor(rules.psi, ctx)
    return (lerp_weight, -step_size, beta2, one_minus_beta2, before_max, math.sqrt(after_max), group["eps"])


def _runs(values: list) -> list[tuple[int, int, object]]:
    """The maximal runs of equal consecutive values, as (start, stop, value)."""
    runs, start = [], 0
    for h in range(1, len(values) + 1):
        if h == len(values) or values[h] != values[start]:
            runs.append((start, h, values[start]))
            start = h
    return runs


class StackedStep:
    """The step of the optimizers ``optimizers[h]``, each over the views ``s[:, h]`` of
    the tensors ``stacked`` (in the order of its parameters), run at once.

    Every optimizer must be covered (:func:`unsupported` returns None for it) and hold the
    views as its only parameters; the states of the optimizers must be at the same step.
    ``optimizers[h]`` may be None: the settings ``h`` whose optimizer steps on its own.
    :meth:`step` takes the gradients as stacked tensors (the shapes of ``stacked``).

    Parameters
    ----------
    optimizers : list of GenericAdaptive or None
        One entry per setting h (the second axis of the stacked tensors), at least one
        of them an optimizer; each optimizer covered (:func:`unsupported` is None) and
        holding exactly the views ``s[:, h]`` of ``stacked``, in order, as its
        parameters.
    stacked : list of torch.Tensor
        The stacked parameters, each of shape ``(copies, settings, *shape)``, at least
        one, all of one dtype and device.

    Raises
    ------
    ValueError
        If there is no optimizer or no stacked tensor, an optimizer is not covered
        (the message gives its index and the reason) or does not hold the views of
        its column, or the optimizers' states are at different steps.

    Examples
    --------
    Two settings of Adam, learning rates 0.1 and 0.01, over one stacked parameter:

    >>> import torch
    >>> from adaptive_methods import Adam
    >>> stacked = torch.zeros(1, 2, 3)  # 1 copy, 2 settings, a parameter of 3
    >>> optimizers = [Adam([stacked[:, h]], lr=lr) for h, lr in enumerate((0.1, 0.01))]
    >>> step = StackedStep(optimizers, [stacked])
    >>> step.step([torch.ones(1, 2, 3)])
    >>> stacked[0, :, 0]  # Adam's first step is lr times the sign of the gradient
    tensor([-0.1000, -0.0100])
    >>> (view,) = optimizers[0].param_groups[0]["params"]
    >>> optimizers[0].state[view]["step"], optimizers[0].state[view]["exp_avg"]
    (1, tensor([[0.1000, 0.1000, 0.1000]]))
    """

    def __init__(self, optimizers: list, stacked: list[Tensor]):
        if not stacked or not any(o is not None for o in optimizers):
            raise ValueError("StackedStep needs at least one optimizer and one stacked tensor")
        for h, optimizer in enumerate(optimizers):
            if optimizer is None:
                continue
            reason = unsupported(optimizer)
            if reason is not None:
                raise ValueError(f"optimizer {h} ({type(optimizer).__name__}) cannot be stacked: {reason}")
            params = optimizer.param_groups[0]["params"]
            if len(params) != len(stacked) or not all(_is_view(p, s, h) for p, s in zip(params, stacked)):
                raise ValueError(f"optimizer {h} must hold the views s[:, {h}] of the stacked tensors, in order")
        self.optimizers, self.stacked = list(optimizers), list(stacked)
        self.columns = [h for h, o in enumerate(optimizers) if o is not None]
        kinds = [None if o is None else psi_kind(self._rules(o).psi) for o in self.optimizers]
        self.segments = [run for run in _runs(kinds) if run[2] is not None]
        self.buffers = {key: [torch.zeros_like(s) for s in stacked] for key in _BUFFER_KEYS
                        if key != "vhat" or any(k not in ("average", None) for k in kinds)}
        self.work = [(torch.empty_like(s), torch.empty_like(s)) for s in stacked]
        self.table = torch.zeros((len(_NEUTRAL), len(optimizers)), dtype=stacked[0].dtype,
                                 device=stacked[0].device)
        # the tensors' blocks, each of one kind and small enough that all it touches stays
        # in the cache between the operations: their views are made once, here
        self.blocks = [[self._block(i, block) for block in _blocks(s, self.segments)] for i, s in enumerate(stacked)]
        self.link()

    @staticmethod
    def _rules(optimizer) -> Rules:
        return optimizer.rules_of(optimizer.param_groups[0])

    def _names(self, rules: Rules) -> dict[str, str]:
        """Our buffer -> the optimizer's state key."""
        names = {"m": rules.phi.buffers[0], "v": rules.psi.buffers[0]}
        if len(rules.psi.buffers) > 1:
            names["vhat"] = rules.psi.buffers[1]
        return names

    def link(self) -> None:
        """Point every optimizer's state at the stacked buffers: a state it already has
        (loaded with ``load_state_dict``) is copied in first, a missing one is the rules'
        ``init``.

        Raises
        ------
        ValueError
            If the optimizers' states are at different steps.

        Examples
        --------
        >>> import copy
        >>> import torch
        >>> from adaptive_methods import Adam
        >>> stacked = torch.zeros(1, 2, 3)
        >>> optimizers = [Adam([stacked[:, h]], lr=0.1) for h in range(2)]
        >>> step = StackedStep(optimizers, [stacked])
        >>> step.step([torch.ones(1, 2, 3)])
        >>> saved = copy.deepcopy(optimizers[1].state_dict())
        >>> step.step([torch.ones(1, 2, 3)])
        >>> optimizers[1].load_state_dict(saved)  # setting 1 back at step 1
        >>> step.link()
        Traceback (most recent call last):
        ...
        ValueError: the optimizers' states are at different steps [1, 2]; ...
        """
        steps = set()
        for h in self.columns:
            optimizer = self.optimizers[h]
            rules = self._rules(optimizer)
            for i, p in enumerate(optimizer.param_groups[0]["params"]):
                state = optimizer.state[p]
                if not state:
                    state.update(step=0, **rules.init(p))
                for ours, theirs in self._names(rules).items():
                    view = self.buffers[ours][i][:, h]
                    view.copy_(state[theirs])
                    state[theirs] = view
                steps.add(state["step"])
        if len(steps) != 1:
            raise ValueError(f"the optimizers' states are at different steps {sorted(steps)}; they must be at one")
        self.t = steps.pop()

    def _block(self, i: int, block: tuple) -> dict:
        """The views of stacked tensor i, its buffers and the per-setting numbers that a
        block (copies c0..c1-1, settings a..b-1, one kind) of the step reads and writes."""
        c0, c1, a, b, kind = block
        cut = (slice(c0, c1), slice(a, b))
        shape = (1, -1) + (1,) * (self.stacked[i].dim() - 2)
        views = {name: tensors[i][cut] for name, tensors in self.buffers.items()}
        views.update(p=self.stacked[i][cut], scaled=self.work[i][0][cut], denom=self.work[i][1][cut])
        views.update(zip(_NUMBERS, (row[a:b].view(shape) for row in self.table)))
        return dict(views, cut=cut, kind=kind)

    @torch.no_grad()
    def step(self, grads: list[Tensor]) -> None:
        """One step of every optimizer, with ``grads[i]`` the stacked gradient of
        ``stacked[i]`` (the columns without an optimizer are left alone).

        Parameters
        ----------
        grads : list of torch.Tensor
            One gradient per stacked tensor, of its shape, dtype and device.

        Examples
        --------
        >>> import torch
        >>> from adaptive_methods import AMSGrad
        >>> stacked = torch.zeros(2, 2, 1)  # 2 copies, 2 settings
        >>> optimizers = [AMSGrad([stacked[:, 0]], lr=0.1), None]
        >>> step = StackedStep(optimizers, [stacked])
        >>> step.step([torch.ones(2, 2, 1)])
        >>> stacked[:, :, 0]  # setting 1 has no optimizer here: it is left alone
        tensor([[-0.1000,  0.0000],
                [-0.1000,  0.0000]])
        """
        t = self.t + 1
        numbers = [_NEUTRAL if o is None else _numbers(self._rules(o), o.param_groups[0], t)
                   for o in self.optimizers]
        columns = [numbers[h] for h in self.columns]
        flags = dict(divide=any(n[5] != 1.0 for n in columns), add_eps=any(n[6] for n in columns),
                     no_eps=not all(n[6] for n in columns))
        self.table.copy_(torch.tensor(numbers, dtype=self.table.dtype).T)
        for i, g in enumerate(grads):
            for block in self.blocks[i]:
                _update(block, g[block["cut"]], flags)
        for h in self.columns:
            for p in self.optimizers[h].param_groups[0]["params"]:
                self.optimizers[h].state[p]["step"] = t
        self.t = t


def _update(x: dict, g: Tensor, flags: dict) -> None:
    """The step of one block: ``_foreach_bucket``'s operations in its order, each setting's
    numbers broadcast over its slice."""
    m, v, scaled, denom = x["m"], x["v"], x["scaled"], x["denom"]
    m.lerp_(g, x["lerp_weight"])
    v.mul_(x["beta2"])
    # addcmul's value multiplies tensor1 first: (c2 g) g, as in the foreach path
    v.addcmul_(torch.mul(g, x["one_minus_beta2"], out=scaled), g)
    source = v
    if x["kind"] == "max-of-debiased":
        source = torch.div(v, x["before_max"], out=denom)
    if x["kind"] != "average":
        torch._foreach_maximum_([x["vhat"]], [source])
        source = x["vhat"]
    torch.sqrt(source, out=denom)
    if flags["divide"]:
        denom.div_(x["root"])
    if flags["add_eps"]:
        denom.add_(x["eps"])
    if flags["no_eps"]:
        _zeros_to_inf([denom])
    # addcdiv's value multiplies tensor1 before the division: (-alpha_t m) / denom
    x["p"].addcdiv_(torch.mul(m, x["neg_step"], out=scaled), denom)


#: bytes of one tensor's block: the seven tensors a block touches (7 MB) stay in the
#: last-level cache from one operation to the next, where a whole MLP's (260 MB) would
#: come from memory every time (the update of fashion-mlp-full's 120 runs about 1.5 times
#: faster, measured with the caches flushed between steps); smaller blocks cost more
#: launches than they save
_BLOCK_BYTES = 1024 * 1024


def _blocks(s: Tensor, segments: list) -> list[tuple]:
    """The blocks of a stacked tensor: (c0, c1, a, b, kind), within one segment of one kind,
    a few settings of one copy, or a few copies of a whole segment."""
    per_setting = max(1, s[0, 0].numel() * s.element_size())
    blocks = []
    for a, b, kind in segments:
        settings = max(1, _BLOCK_BYTES // per_setting)
        if settings >= b - a:
            copies = max(1, _BLOCK_BYTES // (per_setting * (b - a)))
            blocks += [(c, min(c + copies, len(s)), a, b, kind) for c in range(0, len(s), copies)]
        else:
            blocks += [(c, c + 1, a0, min(a0 + settings, b), kind) for c in range(len(s))
                       for a0 in range(a, b, settings)]
    return blocks


#: the per-setting numbers of a step, in the order of :func:`_numbers`
_NUMBERS = ("lerp_weight", "neg_step", "beta2", "one_minus_beta2", "before_max", "root", "eps")
#: the numbers of a column without an optimizer (never applied: no block covers it)
_NEUTRAL = (0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0)


def _is_view(p: Tensor, s: Tensor, h: int) -> bool:
    view = s[:, h]
    return (p.untyped_storage().data_ptr() == s.untyped_storage().data_ptr() and p.shape == view.shape
            and p.stride() == view.stride() and p.storage_offset() == view.storage_offset())
