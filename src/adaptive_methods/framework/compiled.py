"""The compiled code path (``fused=True``): the composed step, through ``torch.compile``.

The step of every composition is the same short function of its rules' tensor arithmetic
(:meth:`MomentRule.update`): first moment, second moment, preconditioning, transforms,
alpha_t, projection.  ``torch.compile`` turns it into one fused kernel over all tensors of
a group (one pass over each tensor's memory), so that paper AMSGrad, AdamNC, AdamX or a
later method run as fast as torch's hand-written fused Adam.  The per-step numbers
(beta_t, bias corrections, alpha_t) enter as one tensor, so the step compiles once, not
once per t.

The first compilation takes seconds; Inductor keeps its compiled kernels in its on-disk
cache (``TORCHINDUCTOR_CACHE_DIR``), so a later process only traces the step again.  Where
``torch.compile`` cannot build the step (no C++ compiler for the CPU backend, a rule
without :meth:`~MomentRule.update`), the group falls back to the foreach path, with a
warning saying why.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from .rules import Rules, StepContext, preconditioned, sqrt_v

__all__ = ["step", "compiled_step_function", "CompiledPathWarning"]


class CompiledPathWarning(UserWarning):
    """``fused=True`` could not compile the step; the foreach path runs instead.

    Warned once per group, whose ``"fused"`` is then set to False: where no C++
    compiler serves the CPU backend, the device is not supported, or a rule has no
    :meth:`~adaptive_methods.framework.MomentRule.update` (or
    :meth:`~adaptive_methods.framework.Transform.update`) for the compiled path.

    Examples
    --------
    A rule with no ``update`` cannot be compiled; the step runs all the same:

    >>> import warnings
    >>> from adaptive_methods.framework import GenericAdaptive, Identity, MomentRule
    >>> class Sign(MomentRule):
    ...     def apply_foreach(self, grads, states, ctx):
    ...         return [g.sign() for g in grads], 1.0
    >>> x = torch.zeros(1, requires_grad=True)
    >>> optimizer = GenericAdaptive([x], lr=0.1, phi=Sign(), psi=Identity(), fused=True)
    >>> x.grad = torch.tensor([3.0])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     optimizer.step()
    >>> caught[0].category.__name__, optimizer.param_groups[0]["fused"]
    ('CompiledPathWarning', False)
    >>> round(x.item(), 6)
    -0.1
    """


def _composed_step(rules: Rules, eps: float, inside: bool, bounds, params: list[Tensor], grads: list[Tensor],
                   buffers: list[dict], numbers: Tensor, sizes: tuple[int, ...]) -> None:
    """Algorithm 1 for a list of tensors, in tensor arithmetic only (what is compiled).

    ``numbers`` holds the rules' per-step coefficients one after the other (``sizes``
    of them for phi, psi and each transform) and alpha_t last: one input tensor, whatever
    the composition, so that a step's numbers cost one small copy and one guard."""
    split, start = [], 0
    for size in sizes:
        split.append(tuple(numbers[start + k] for k in range(size)))
        start += size
    phi_coef, psi_coef, *post_coef = split
    alpha_t = numbers[start]
    for p, g, state in zip(params, grads, buffers):
        ctx = StepContext(t=0, phi=rules.phi)
        ctx.m = rules.phi.update(g, state, phi_coef, ctx)
        v = rules.psi.update(g, state, psi_coef, ctx)
        u = ctx.m if v is None else preconditioned(ctx.m, sqrt_v(v, eps, inside))
        for transform, coef in zip(rules.post, post_coef):
            u = transform.update(u, p, state, coef, ctx)
        p.sub_(alpha_t * u)
        if bounds is not None:
            p.clamp_(bounds[0], bounds[1])


_compiled = None


def compiled_step_function():
    """The compiled :func:`_composed_step`, built on first use and shared afterwards.

    ``torch.compile(..., dynamic=False)`` of the composed step; building the wrapper
    compiles nothing, the first call with a composition does.

    Returns
    -------
    callable
        The compiled step, called as ``_composed_step`` is.

    Examples
    --------
    >>> compiled_step_function() is compiled_step_function()
    True
    """
    global _compiled
    if _compiled is None:
        _compiled = torch.compile(_composed_step, dynamic=False)
    return _compiled


def _why_not_compilable(rules: Rules) -> str | None:
    for name, rule in (("phi", rules.phi), ("psi", rules.psi), *(("post", t) for t in rules.post)):
        if not rule.compilable:
            return f"the {name} rule {rule!r} has no update() written for the compiled path"
    return None


def _fall_back(group: dict, reason: str) -> bool:
    warnings.warn(f"fused=True: {reason}; running the foreach path instead", CompiledPathWarning, stacklevel=4)
    group["fused"] = False
    return False


def step(group: dict, rules: Rules, params: list[Tensor], grads: list[Tensor], states: list[dict]) -> bool:
    """Run one compiled step of a group; False (after a warning) where it cannot.

    The tensors are bucketed by device, dtype and step t, and each bucket runs as one
    compiled call.  Where it cannot be compiled (a rule without ``update``, or
    ``torch.compile`` failing on the first bucket) the function warns with a
    :class:`CompiledPathWarning`, sets ``group["fused"] = False`` and returns False,
    and the caller runs the foreach path.

    Parameters
    ----------
    group : dict
        The param group (its ``"lr"``, ``"eps"``, ``"eps_placement"`` and ``"bounds"``).
    rules : Rules
        The group's rules.
    params, grads : list of torch.Tensor
        The parameters that have a gradient, and their gradients.
    states : list of dict
        Their states (``"step"`` already advanced to this step's t, and the rules'
        buffers).

    Returns
    -------
    bool
        True when the step ran compiled, False when the caller must run another path.

    Raises
    ------
    Exception
        Whatever ``torch.compile`` raises on a bucket after the first (earlier buckets
        have stepped: running the foreach path then would step them twice).

    Examples
    --------
    >>> import warnings
    >>> from adaptive_methods.framework import Identity, MomentRule
    >>> class Sign(MomentRule):
    ...     def apply_foreach(self, grads, states, ctx):
    ...         return [g.sign() for g in grads], 1.0
    >>> group = {"fused": True}
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", CompiledPathWarning)
    ...     step(group, Rules(Sign(), Identity()), [], [], [])
    False
    >>> group["fused"]
    False
    """
    reason = _why_not_compilable(rules)
    if reason is not None:
        return _fall_back(group, reason)
    buckets: dict[tuple, list[int]] = {}
    for i, (p, state) in enumerate(zip(params, states)):
        buckets.setdefault((p.device, p.dtype, state["step"]), []).append(i)
    eps, inside = group["eps"], group["eps_placement"] == "inside"
    names = rules.buffers
    for n, ((device, dtype, t), idx) in enumerate(buckets.items()):
        ctx = StepContext(t=t, phi=rules.phi, lr=group["lr"])
        numbers = [rules.phi.coefficients(ctx), rules.psi.coefficients(ctx), *(tr.coefficients(ctx) for tr in rules.post)]
        flat = [x for coef in numbers for x in coef] + [group["lr"] * rules.alpha.factor(t)]
        values = torch.tensor(flat, dtype=dtype, device=device)
        sizes = tuple(len(coef) for coef in numbers)
        ps = [params[i] for i in idx]
        buffers = [{k: states[i][k] for k in names} for i in idx]
        try:
            compiled_step_function()(rules, eps, inside, group["bounds"], ps, [grads[i] for i in idx], buffers,
                                     values, sizes)
        except Exception as exc:  # a backend that cannot build here: no compiler, no device support
            if n:  # earlier buckets have stepped: falling back now would step them twice
                raise
            return _fall_back(group, f"torch.compile could not build the step ({type(exc).__name__}: {exc})"[:500])
    return True
