"""The compiled code path (``fused=True``): the composed step, through ``torch.compile``.

The step of every composition is the same short function of its rules' tensor arithmetic
(:meth:`MomentRule.update`): first moment, second moment, preconditioning, transforms,
alpha_t, projection.  ``torch.compile`` turns it into one fused kernel over all tensors of
a group (one pass over each tensor's memory), so that paper AMSGrad, AdamNC, AdamX or a
later method run as fast as torch's hand-written fused Adam.  The numbers of a step
(beta_t, bias corrections, alpha_t, eps, the box's ends) enter as one tensor, so the step
compiles once per structure of the rules, not once per t or per hyperparameter value.

Once a group's step has run through ``torch.compile``, later steps call the graph Inductor
built for it directly (:class:`_Direct`): dynamo's entry into a compiled function (its
frame hooks, guards over every tensor and rule, and the wrapper layers around the graph)
costs a step ~20 us when the CPU caches hold it and ~150 us when other work has just
evicted them, as a forward and backward pass does: a tenth of CIFARNET's Adam step.  The
direct call checks only the tensors (dtype, device, shape, strides and autograd flags, with
torch's tensor guards, one C++ call), and a tensor that fails goes through
``torch.compile`` again.  What else the graph depends on is the group's rules: their
structure keys the graph, their numbers enter as a tensor, and dynamo's guards have
checked the rules object itself on its first step; so a rule's ``update`` reads no number
from its attributes (a changed attribute would not be seen), only from ``coef``.

The first compilation takes seconds; Inductor keeps its compiled kernels in its on-disk
cache (``TORCHINDUCTOR_CACHE_DIR``), so a later process only traces the step again.  Where
``torch.compile`` cannot build the step (no C++ compiler for the CPU backend, a rule
without :meth:`~MomentRule.update`), the group falls back to the foreach path, with a
warning saying why.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
import weakref

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


def _composed_step(rules: Rules, inside: bool, positive: bool, bounded: bool, sizes: tuple[int, ...],
                   names: tuple[str, ...], numbers: Tensor, tensors: list[Tensor]) -> None:
    """Algorithm 1 for a list of tensors, in tensor arithmetic only (what is compiled).

    ``tensors`` holds the n parameters, then their n gradients, then each parameter's
    buffers (``names``, in order): one flat list, so that the compiled graph's inputs are
    positions in it.  ``numbers`` holds the rules' per-step coefficients one after the
    other (``sizes`` of them for phi, psi and each transform), then alpha_t, eps and, when
    ``bounded``, the box's two ends: one input tensor, whatever the composition, so that a
    step's numbers cost one small copy and no guard on their values.  ``positive``:
    eps > 0, so that sqrt(V_t) + eps is never 0 and needs no pseudo-inverse."""
    split, start = [], 0
    for size in sizes:
        split.append(tuple(numbers[start + k] for k in range(size)))
        start += size
    phi_coef, psi_coef, *post_coef = split
    alpha_t, eps = numbers[start], numbers[start + 1]
    n, k = len(tensors) // (2 + len(names)), len(names)
    for i in range(n):
        p, g = tensors[i], tensors[n + i]
        state = {name: tensors[2 * n + i * k + j] for j, name in enumerate(names)}
        ctx = StepContext(t=0, phi=rules.phi)
        ctx.m = rules.phi.update(g, state, phi_coef, ctx)
        v = rules.psi.update(g, state, psi_coef, ctx)
        if v is None:
            u = ctx.m
        elif positive:
            u = ctx.m / sqrt_v(v, eps, inside)
        else:
            u = preconditioned(ctx.m, sqrt_v(v, eps, inside))
        for transform, coef in zip(rules.post, post_coef):
            u = transform.update(u, p, state, coef, ctx)
        p.sub_(alpha_t * u)
        if bounded:
            p.clamp_(numbers[start + 2], numbers[start + 3])


@dataclasses.dataclass(eq=False)
class _Graph:
    """One graph Inductor compiled for a structure: the callable it built, and which of
    the step's inputs ([numbers, *tensors]) it takes, in its order; ``order`` is None where
    the graph cannot be called directly (an input that is not one of the step's tensors,
    or outputs that dynamo would have to apply afterwards)."""

    run: object
    order: tuple[int, ...] | None


# the graphs compiled for each structure, in the order they were compiled
_graphs: dict[tuple, list[_Graph]] = {}


def _input_position(source) -> int | None:
    """Where a graph input comes from: 0 for ``numbers``, 1 + i for ``tensors[i]``."""
    name = source.name() if callable(source.name) else source.name
    if name == "L['numbers']":
        return 0
    match = re.fullmatch(r"L\['tensors'\]\[(\d+)\]", name)
    return None if match is None else 1 + int(match.group(1))


def _capture(gm, run) -> _Graph:
    try:
        order = tuple(_input_position(node.meta["grapharg"].source)
                      for node in gm.graph.nodes if node.op == "placeholder")
        outputs = [node.args[0] for node in gm.graph.nodes if node.op == "output"]
        if None in order or any(out not in ((), []) for out in outputs):
            order = None
    except (AttributeError, KeyError, TypeError):  # a torch whose graphs say it otherwise
        order = None
    return _Graph(run, order)


def _capturing_backend(key: tuple):
    """torch.compile's Inductor backend, keeping what it builds for ``key`` in ``_graphs``."""
    def backend(gm, example_inputs):
        from torch._inductor.compile_fx import compile_fx

        # Inductor's checks of the inputs' sizes are off: the caller has checked them
        # (dynamo's guards, or the direct path's tensor guards), and with dozens of
        # tensors they cost as much as a small kernel
        run = compile_fx(gm, example_inputs, config_patches={"size_asserts": False})
        _graphs.setdefault(key, []).append(_capture(gm, run))
        return run
    return backend


# The compiled step of each structure of the rules (the rules' types and buffers, eps
# inside or outside the root, eps > 0 or not, a box or none): every structure compiles
# once, in a region of its own, so that the methods of one process do not share one
# budget of recompilations; hyperparameter values never recompile, since they enter as
# numbers.
_compiled: dict[tuple, object] = {}


def _structure(rule) -> tuple:
    inner = getattr(rule, "inner", None)
    return (type(rule), rule.buffers, None if inner is None else _structure(inner))


def compiled_step_function(key: tuple = ()):
    """The compiled :func:`_composed_step` for one structure ``key``, built on first use.

    ``torch.compile(..., dynamic=False)`` of the composed step, one per structure of the
    rules (their types and buffers, eps inside or outside the root, eps > 0, a box or
    none), each with its own recompile budget: hyperparameter values reach the kernel
    as a tensor of numbers, so they never recompile it. Building the wrapper compiles
    nothing; its first call does.

    Parameters
    ----------
    key : tuple, default ()
        The structure the compiled step is for (any hashable tuple).

    Returns
    -------
    callable
        The compiled step, called as ``_composed_step`` is.

    Examples
    --------
    >>> compiled_step_function(("adam",)) is compiled_step_function(("adam",))
    True
    """
    if key not in _compiled:
        _compiled[key] = torch.compile(_composed_step, backend=_capturing_backend(key), dynamic=False,
                                       isolate_recompiles=True)
    return _compiled[key]


@dataclasses.dataclass(frozen=True)
class _Plan:
    """What a group's compiled step needs besides the tensors, found once per rules."""

    unfit: str | None  # why the rules cannot be compiled, or None
    structure: tuple
    buffers: tuple[str, ...]
    # the CPU tensor of each dtype that carries a step's numbers, rewritten in place each
    # step: a new tensor costs ~10 us, a tenth of the whole call's overhead
    numbers: dict = dataclasses.field(default_factory=dict, compare=False)
    # the graphs these rules' steps have run through torch.compile and now call directly,
    # per compiled key, device, dtype and number of tensors of a bucket, latest first
    direct: dict = dataclasses.field(default_factory=dict, compare=False)


@dataclasses.dataclass(eq=False)
class _Direct:
    """A compiled graph called without dynamo, and the check its inputs must pass:
    dtype, device, shape, strides and autograd flags of each tensor as when it was
    compiled (torch's tensor guards, which dynamo itself once used, one C++ call)."""

    graph: _Graph
    guards: object

    def arguments(self, inputs: list[Tensor]) -> list[Tensor] | None:
        """The graph's arguments taken from ``inputs`` ([numbers, *tensors]), or None
        where they are not the tensors it was compiled for."""
        args = [inputs[i] for i in self.graph.order]
        return args if self.guards.check(*args) else None


def _tensor_guards(args: list[Tensor]):
    from torch._C._dynamo.guards import TensorGuards

    return TensorGuards(*args, dynamic_dims_sizes=None, dynamic_dims_strides=None)


def _run_direct(directs: list[_Direct], inputs: list[Tensor]) -> bool:
    """Run the first of ``directs`` whose tensors ``inputs`` are; False where none is."""
    for direct in directs:
        args = direct.arguments(inputs)
        if args is not None:
            direct.graph.run(*args)
            return True
    return False


# the graph of each group's rules whose guards have been built, so that a later group
# of the same structure and tensors can find it
_directs: dict[tuple, list[_Direct]] = {}


def _learn(key: tuple, known: int, inputs: list[Tensor]) -> _Direct | None:
    """After a call through torch.compile, the graph that call ran, for direct calls.

    A graph compiled by this call ran it; where none was compiled, dynamo ran an earlier
    graph of this structure, the one whose tensor guards these inputs pass (None where
    not exactly one does).  None too where the graph cannot be called directly, or
    this torch has no tensor guards."""
    new = _graphs.get(key, [])[known:]
    if len(new) > 1 or (new and new[0].order is None):
        return None
    if not new:
        passing = [direct for direct in _directs.get(key, ()) if direct.arguments(inputs) is not None]
        return passing[0] if len(passing) == 1 else None
    args = [inputs[i] for i in new[0].order]
    try:
        direct = _Direct(new[0], _tensor_guards(args))
    except (ImportError, AttributeError, TypeError, RuntimeError):
        return None
    if direct.arguments(inputs) is None:  # guards that refuse their own example
        return None
    _directs.setdefault(key, []).append(direct)
    return direct


# dtypes whose CPU tensors numpy writes with torch.tensor's rounding of a Python float
# (float16 is left to torch.tensor, which may round through float32 first)
_NUMPY_DTYPES = (torch.float32, torch.float64)


def _numbers(plan: _Plan, flat: list[float], dtype: torch.dtype, device: torch.device) -> Tensor:
    """The step's numbers as one tensor on ``device`` (the kernel reads it before the
    call returns on the CPU, so that one tensor per dtype can be reused).  Inside a
    function that torch.compile traces, a new tensor: a write through numpy is not traced,
    and the traced step would read the numbers of the step it was traced at forever."""
    if device.type != "cpu" or dtype not in _NUMPY_DTYPES or torch.compiler.is_compiling():
        return torch.tensor(flat, dtype=dtype, device=device)
    cached = plan.numbers.get((dtype, len(flat)))
    if cached is None:
        tensor = torch.empty(len(flat), dtype=dtype)
        cached = plan.numbers[(dtype, len(flat))] = (tensor, tensor.numpy())
    cached[1][:] = flat
    return cached[0]


# one plan per Rules object (a group's rules are rebuilt when its hyperparameters change)
_plans: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _plan(rules: Rules) -> _Plan:
    plan = _plans.get(rules)
    if plan is None:
        structure = (_structure(rules.phi), _structure(rules.psi), tuple(map(_structure, rules.post)))
        plan = _plans[rules] = _Plan(_why_not_compilable(rules), structure, rules.buffers)
    return plan


def _why_not_compilable(rules: Rules) -> str | None:
    for name, rule in (("phi", rules.phi), ("psi", rules.psi), *(("post", t) for t in rules.post)):
        if not rule.compilable:
            return f"the {name} rule {rule!r} has no update() written for the compiled path"
    return None


_TINY: dict[torch.dtype, float] = {}


def _tiny(dtype: torch.dtype) -> float:
    """The dtype's smallest normal number (torch.finfo costs a microsecond or two a call)."""
    tiny = _TINY.get(dtype)
    if tiny is None:
        tiny = _TINY[dtype] = torch.finfo(dtype).tiny
    return tiny


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
    plan = _plan(rules)
    if plan.unfit is not None:
        return _fall_back(group, plan.unfit)
    keys = [(p.device, p.dtype, state["step"]) for p, state in zip(params, states)]
    if keys.count(keys[0]) == len(keys):  # the usual case: one bucket, nothing to split
        buckets = {keys[0]: range(len(keys))}
    else:
        buckets = {}
        for i, key in enumerate(keys):
            buckets.setdefault(key, []).append(i)
    inside, bounds, eps = group["eps_placement"] == "inside", group["bounds"], group["eps"]
    ends = () if bounds is None else tuple(bounds)
    names = plan.buffers
    for n, ((device, dtype, t), idx) in enumerate(buckets.items()):
        # eps below the dtype's smallest normal number may be flushed to 0 by the kernel
        positive = eps >= _tiny(dtype)
        ctx = StepContext(t=t, phi=rules.phi, lr=group["lr"])
        numbers = [rules.phi.coefficients(ctx), rules.psi.coefficients(ctx), *(tr.coefficients(ctx) for tr in rules.post)]
        flat = [x for coef in numbers for x in coef] + [group["lr"] * rules.alpha.factor(t), eps, *ends]
        values = _numbers(plan, flat, dtype, device)
        sizes = tuple(len(coef) for coef in numbers)
        if len(idx) == len(params):
            ps, gs, ss = params, grads, states
        else:
            ps, gs, ss = [params[i] for i in idx], [grads[i] for i in idx], [states[i] for i in idx]
        inputs = [values, *ps, *gs]
        inputs += [state[k] for state in ss for k in names]
        key = (plan.structure, inside, positive, bool(ends))
        place = (key, device, dtype, len(idx))
        if not torch.compiler.is_compiling() and _run_direct(plan.direct.get(place, ()), inputs):
            continue
        compiled_fn = compiled_step_function(key)
        known = len(_graphs.get(key, ()))
        try:
            compiled_fn(rules, inside, positive, bool(ends), sizes, names, values, inputs[1:])
        except Exception as exc:  # a backend that cannot build here: no compiler, no device support
            if n:  # earlier buckets have stepped: falling back now would step them twice
                raise
            return _fall_back(group, f"torch.compile could not build the step ({type(exc).__name__}: {exc})"[:500])
        if not torch.compiler.is_compiling():
            learned, directs = _learn(key, known, inputs), plan.direct.setdefault(place, [])
            if learned is not None and learned not in directs:
                directs.insert(0, learned)
    return True
