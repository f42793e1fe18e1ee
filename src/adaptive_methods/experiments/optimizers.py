"""Optimizers by name, for the command line and the result files.

The package's own methods are named by the registry (:data:`adaptive_methods.registry.METHODS`):
``"adam"``, ``"amsgrad"``, ``"adamnc"``, ..., and ``NAME-VARIANT`` for each variant a method
declares (``"amsgrad-paper"``, ``"amsgrad-optax"``). ``"torch.<name>"`` is a class of
:mod:`torch.optim` (``"torch.adam"``; ``"torch.amsgrad"`` is ``torch.optim.Adam(amsgrad=True)``).

For the package's methods the step-size schedule and the bias correction are the optimizer's
own arguments (``step=``, ``bias_correction=``, ``variant=``; AdaBound's and AMSBound's
``form=``, named ``"adabound-paper"``, ...); left unset, each method keeps its own default
(AdamNC, AdamX and ``amsgrad-paper`` run ``alpha / sqrt(t)`` with eps 0, the others a
constant step). A ``torch.optim`` class has no such arguments, so
:class:`StepController` sets its groups' ``lr`` (and ``eps``) before every step, and refuses
what it cannot make exact. Either way the hyperparameters recorded for a run are read back
from the constructed optimizer (:func:`hyperparameters`), not from the request.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field

import torch

from ..registry import METHODS

__all__ = ["OptimizerSpec", "package_methods", "resolve_optimizer", "make_optimizer", "hyperparameters",
           "StepController", "step_size", "TORCH_ALIASES", "SCHEDULES"]

SCHEDULES = ("constant", "inv_sqrt")

TORCH_ALIASES = {"torch.amsgrad": ("Adam", {"amsgrad": True}), "torch.adam-amsgrad": ("Adam", {"amsgrad": True})}

# torch.optim classes whose update is Adam's (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps): switching
# their bias correction off is an exact change of lr and eps, see StepController.
_TORCH_ADAM_FORM = (torch.optim.Adam, torch.optim.AdamW)

# constructor arguments that the configuration's own fields set; an --opt override of one of
# them would be overwritten or contradicted, so it is refused with the field to use instead
_OWN_FIELDS = {"lr": "lr", "betas": "beta1/beta2", "beta1": "beta1", "beta2": "beta2", "alpha": "beta2",
               "eps": "eps", "bias_correction": "bias_correction", "step": "schedule", "amsgrad": "optimizer"}


def package_methods() -> dict[str, tuple[str, dict]]:
    """The package's optimizer names: name -> (registry name, fixed constructor arguments).

    Every method of :data:`adaptive_methods.registry.METHODS` under its own name, and each
    of its variants as ``NAME-VARIANT`` with the argument that picks the variant; built
    from the registry, so a new method is named here without an edit.

    Returns
    -------
    dict of str to (str, dict)
        In the registry's order.

    Examples
    --------
    >>> names = package_methods()
    >>> names["adam"], names["amsgrad-paper"]
    (('adam', {}), ('amsgrad', {'variant': 'paper'}))
    >>> names["adabound-paper"]
    ('adabound', {'form': 'paper'})
    """
    names = {}
    for name, info in METHODS.items():
        names[name] = (name, {})
        for variant in info.variants:
            names[f"{name}-{variant}"] = (name, {info.variant_argument: variant})
    return names


@dataclass
class OptimizerSpec:
    name: str
    cls: type
    fixed_kwargs: dict = field(default_factory=dict)

    @property
    def implementation(self) -> str:
        return f"{self.cls.__module__}.{self.cls.__qualname__}"

    @property
    def is_package(self) -> bool:
        return not self.name.startswith("torch.")


def _torch_classes() -> dict[str, type]:
    return {n.lower(): getattr(torch.optim, n) for n in dir(torch.optim)
            if isinstance(getattr(torch.optim, n), type) and issubclass(getattr(torch.optim, n), torch.optim.Optimizer)
            and getattr(torch.optim, n) is not torch.optim.Optimizer}


def _needs_closure(cls: type) -> bool:
    """True for a torch.optim class whose ``step`` must be given a closure (L-BFGS)."""
    closure = inspect.signature(cls.step).parameters.get("closure")
    return closure is not None and closure.default is inspect.Parameter.empty


def _torch_class(name: str, class_name: str) -> type:
    lookup = _torch_classes()
    usable = sorted("torch." + k for k, c in lookup.items() if not _needs_closure(c))
    if class_name.lower() not in lookup:
        raise ValueError(f"optimizer {name!r} is not a class of torch.optim; allowed: {usable}")
    cls = lookup[class_name.lower()]
    if _needs_closure(cls):
        raise ValueError(f"optimizer {name!r} needs a closure that re-evaluates the loss at every step, which the "
                         f"training loop does not give; allowed: {usable}")
    return cls


def resolve_optimizer(name: str) -> OptimizerSpec:
    """The class (and fixed options) that an optimizer name stands for.

    Parameters
    ----------
    name : str
        A name of :func:`package_methods` (``"adam"``, ``"amsgrad-paper"``, ...), or
        ``"torch.<name>"`` for a class of ``torch.optim`` that steps without a closure
        (``"torch.adam"``; ``"torch.amsgrad"`` is ``torch.optim.Adam(amsgrad=True)``).
        Case and surrounding spaces are ignored.

    Returns
    -------
    OptimizerSpec
        The normalised name, the class and the constructor arguments the name fixes.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If ``name`` is not an optimizer, or is a ``torch.optim`` class that needs a
        closure (L-BFGS); the message lists the names allowed.

    Examples
    --------
    >>> spec = resolve_optimizer("AMSGrad-paper")
    >>> spec.name, spec.cls.__name__, spec.fixed_kwargs
    ('amsgrad-paper', 'AMSGrad', {'variant': 'paper'})
    >>> resolve_optimizer("torch.amsgrad").implementation
    'torch.optim.adam.Adam'
    >>> resolve_optimizer("torch.lbfgs")
    Traceback (most recent call last):
    ...
    ValueError: optimizer 'torch.lbfgs' needs a closure that re-evaluates the loss ...
    """
    if not isinstance(name, str):
        raise TypeError(f"optimizer must be a string, got {type(name).__name__}")
    key = name.strip().lower()
    if key in TORCH_ALIASES:
        cls_name, fixed = TORCH_ALIASES[key]
        return OptimizerSpec(key, _torch_class(name, cls_name), dict(fixed))
    if key.startswith("torch."):
        return OptimizerSpec(key, _torch_class(name, key[len("torch."):]))
    names = package_methods()
    if key not in names:
        raise ValueError(f"optimizer must be one of {sorted(names)} or 'torch.<name>' "
                         f"(e.g. 'torch.adam', 'torch.amsgrad'), got {name!r}")
    method, fixed = names[key]
    return OptimizerSpec(key, METHODS[method].cls, dict(fixed))


def _accepts(cls: type, arg: str) -> bool:
    """Whether ``cls(...)`` takes ``arg``, also through a ``**options`` that an ``__init__``
    passes on to its base class (AdamW's ``**adam_options``)."""
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        parameters = inspect.signature(vars(klass)["__init__"]).parameters
        if arg in parameters:
            return True
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            return False
    return False


def _jsonable(value):
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    if callable(value):
        return f"<schedule {getattr(value, '__qualname__', type(value).__name__)}>"
    return repr(value)


def hyperparameters(optimizer: torch.optim.Optimizer) -> list[dict]:
    """The hyperparameters of every parameter group, read from the optimizer (what ran)."""
    return [{k: _jsonable(v) for k, v in group.items() if k != "params"} for group in optimizer.param_groups]


def _check_overrides(extra: dict) -> None:
    for key in extra:
        if key in _OWN_FIELDS:
            raise ValueError(f"optimizer argument {key!r} is a field of the run's configuration; set "
                             f"{_OWN_FIELDS[key]} instead of passing it as an extra argument (--opt)")


def _package_kwargs(spec: OptimizerSpec, *, lr, beta1, beta2, eps, bias_correction, schedule) -> dict:
    cls = spec.cls
    kwargs: dict = {"lr": lr}
    if beta1 is not None or beta2 is not None:
        if _accepts(cls, "betas"):
            default = inspect.signature(cls.__init__).parameters["betas"].default
            kwargs["betas"] = (default[0] if beta1 is None else beta1, default[1] if beta2 is None else beta2)
        else:
            for arg, value in (("beta1", beta1), ("beta2", beta2)):
                if value is None:
                    continue
                if not _accepts(cls, arg):
                    raise ValueError(f"optimizer {spec.name!r} has no {arg}; leave {arg} unset")
                kwargs[arg] = value
    if eps is not None:
        if not _accepts(cls, "eps"):
            raise ValueError(f"optimizer {spec.name!r} has no eps; leave eps unset")
        kwargs["eps"] = eps
    if schedule is not None and _accepts(cls, "step"):
        kwargs["step"] = schedule
    if bias_correction is not None and _accepts(cls, "bias_correction"):
        kwargs["bias_correction"] = bias_correction
    return kwargs


def _alpha_rule(optimizer, group: dict):
    """The step-size schedule (a framework StepSchedule) that a package optimizer runs."""
    return optimizer.rules(group).alpha


def _schedule_name(optimizer) -> str:
    factors = [_alpha_rule(optimizer, optimizer.param_groups[0]).factor(t) for t in (1, 4)]
    if factors == [1.0, 1.0]:
        return "constant"
    if factors == [1.0, 0.5]:
        return "inv_sqrt"
    raise ValueError(f"{type(optimizer).__name__} runs a step-size schedule that is neither constant nor "
                     f"alpha/sqrt(t): factors {factors} at t = 1, 4")


def _bias_corrected(optimizer) -> bool:
    return bool(optimizer.param_groups[0].get("bias_correction", False))


def make_optimizer(name: str, params, *, lr: float, beta1: float | None = None, beta2: float | None = None,
                   eps: float | None = None, bias_correction: bool | None = None, schedule: str | None = None,
                   extra: dict | None = None):
    """Build the optimizer ``name`` over ``params``; returns ``(optimizer, controller, info)``.

    For the package's methods the schedule and the bias correction are constructor
    arguments; a bias correction the named variant does not have picks the method's first
    variant that has it (``amsgrad`` without it is ``amsgrad-paper``'s Algorithm 2). A
    ``torch.optim`` class gets a :class:`StepController` that sets its step size (and,
    with the bias correction off, rescales lr and eps exactly) before every step.

    Parameters
    ----------
    name : str
        An optimizer name of :func:`resolve_optimizer`.
    params : iterable of torch.Tensor or of dict
        The parameters (or parameter groups) to optimise.
    lr : float
        The step size alpha.
    beta1, beta2 : float or None, default None
        None leaves the method's own (``torch.optim.RMSprop`` takes beta2 as ``alpha``).
    eps : float or None, default None
        None leaves the method's own.
    bias_correction : bool or None, default None
        Adam's bias correction on or off; None leaves the method's own.
    schedule : {"constant", "inv_sqrt"} or None, default None
        alpha_t = alpha or alpha / sqrt(t); None leaves the method's own.
    extra : dict or None, default None
        Further constructor arguments, not those the other arguments set.

    Returns
    -------
    optimizer : torch.optim.Optimizer
    controller : StepController or None
        What a ``torch.optim`` class needs before every step
        (``controller.before_step(t)``); None for the package's methods.
    info : dict
        What ran: the class, the constructor arguments, the hyperparameters read back from
        the parameter groups, and the schedule and bias correction.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If ``name`` is not an optimizer, the optimizer has no such hyperparameter (eps of
        SGD, a bias correction it never or always applies, another schedule), or ``extra``
        sets one that another argument sets.

    Examples
    --------
    >>> import torch
    >>> weights = [torch.nn.Parameter(torch.zeros(3))]
    >>> optimizer, controller, info = make_optimizer("amsgrad", weights, lr=0.1,
    ...                                              bias_correction=False)
    >>> type(optimizer).__name__, controller, info["kwargs"]["variant"]
    ('AMSGrad', None, 'paper')
    >>> optimizer, controller, info = make_optimizer("torch.adam", weights, lr=0.1,
    ...                                              schedule="inv_sqrt")
    >>> controller.before_step(4), info["bias_correction"]
    (0.05, True)
    >>> make_optimizer("sgd", weights, lr=0.1, eps=1e-8)
    Traceback (most recent call last):
    ...
    ValueError: optimizer 'sgd' has no eps; leave eps unset
    """
    spec = resolve_optimizer(name)
    extra = dict(extra or {})
    _check_overrides(extra)
    params = list(params)
    if spec.is_package:
        kwargs = _package_kwargs(spec, lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=bias_correction,
                                 schedule=schedule)
        kwargs.update(spec.fixed_kwargs)
        kwargs.update(extra)
        optimizer = spec.cls(params, **kwargs)
        if (bias_correction is not None and _bias_corrected(optimizer) != bias_correction
                and METHODS[_method_of(spec)].variant_argument not in kwargs):
            optimizer, kwargs = _variant_with(spec, params, kwargs, bias_correction) or (optimizer, kwargs)
        ran_schedule = _schedule_name(optimizer)
        ran_bc = _bias_corrected(optimizer)
        if bias_correction is not None and ran_bc != bias_correction:
            others = [k for k, v in package_methods().items() if v[0] == _method_of(spec) and k != spec.name]
            raise ValueError(f"optimizer {name!r} {'always' if ran_bc else 'never'} corrects the bias; got "
                             f"bias_correction={bias_correction}"
                             + (f" (the other names of its method: {', '.join(others)})" if others else ""))
        if schedule is not None and ran_schedule != schedule:
            raise ValueError(f"optimizer {name!r} runs the schedule {ran_schedule!r}; got schedule={schedule!r}")
        controller, mode = None, "native"
    else:
        optimizer, controller, kwargs = _torch_optimizer(spec, params, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                                                         bias_correction=bias_correction, schedule=schedule,
                                                         extra=extra)
        ran_schedule, ran_bc, mode = controller.schedule, controller.bias_correction, controller.mode
    info = {
        "requested": name,
        "class": spec.implementation,
        "kwargs": {k: _jsonable(v) for k, v in kwargs.items()},
        "param_groups": hyperparameters(optimizer),
        "schedule": ran_schedule,
        "bias_correction": ran_bc,
        "bias_correction_mode": mode,
    }
    return optimizer, controller, info


def _variant_with(spec: OptimizerSpec, params, kwargs: dict, bias_correction: bool):
    """The first variant of the method (registry order) that has the requested bias correction:
    ``amsgrad`` without it is AMSGrad's ``paper`` variant, Algorithm 2 of the paper."""
    first = spec.cls(params, **kwargs).param_groups[0]
    # the hyperparameters left to the default keep the requested variant's values (eps,
    # step), so that only the bias correction changes
    kept = {k: first[k] for k in ("eps", "step") if k not in kwargs and k in first}
    info = METHODS[_method_of(spec)]
    for variant in info.variants:
        optimizer = spec.cls(params, **kwargs, **kept, **{info.variant_argument: variant})
        if _bias_corrected(optimizer) == bias_correction:
            return optimizer, {**kwargs, **kept, info.variant_argument: variant}
    return None


def _method_of(spec: OptimizerSpec) -> str:
    return package_methods()[spec.name][0]


def _torch_optimizer(spec, params, *, lr, beta1, beta2, eps, bias_correction, schedule, extra):
    cls = spec.cls
    kwargs: dict = {"lr": lr}
    b1 = 0.9 if beta1 is None else beta1
    b2 = 0.999 if beta2 is None else beta2
    if _accepts(cls, "betas"):
        kwargs["betas"] = (b1, b2)
    elif beta1 is not None:
        raise ValueError(f"optimizer {spec.name!r} has no beta1; leave beta1 unset")
    elif beta2 is not None:
        if cls is torch.optim.RMSprop:
            kwargs["alpha"] = beta2
        else:
            raise ValueError(f"optimizer {spec.name!r} has no beta2; leave beta2 unset")
    if eps is not None:
        if not _accepts(cls, "eps"):
            raise ValueError(f"optimizer {spec.name!r} has no eps; leave eps unset")
        kwargs["eps"] = eps
    kwargs.update(spec.fixed_kwargs)
    kwargs.update(extra)
    adam_form = cls in _TORCH_ADAM_FORM
    if bias_correction is None:
        bias_correction = adam_form
    if bias_correction and not adam_form:
        raise ValueError(f"optimizer {spec.name!r} has no bias correction; got bias_correction=True")
    optimizer = cls(params, **kwargs)
    group = optimizer.param_groups[0]
    mode = "on" if bias_correction else ("rescaled-lr-eps" if adam_form else "none")
    controller = StepController(optimizer, lr=lr, schedule=schedule or "constant", bias_correction_mode=mode,
                                beta1=group["betas"][0] if adam_form else 0.9,
                                beta2=group["betas"][1] if adam_form else 0.999,
                                eps=group.get("eps", 0.0))
    return optimizer, controller, kwargs


class StepController:
    """Sets ``lr`` (and ``eps``) of every parameter group of a ``torch.optim`` optimizer
    before step ``t`` (1-based).

    ``schedule="inv_sqrt"`` gives ``alpha_t = lr / sqrt(t)`` (the paper's schedule for the
    logistic regression), ``"constant"`` gives ``alpha_t = lr``.

    With ``bias_correction_mode="rescaled-lr-eps"`` the controller turns torch.optim.Adam's
    update ``alpha_t/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps_t)`` into the uncorrected
    ``alpha_t * m / (sqrt(v) + eps)`` exactly (up to rounding) by setting
    ``lr_t = alpha_t (1-b1^t) / sqrt(1-b2^t)`` and ``eps_t = eps / sqrt(1-b2^t)``. That
    needs a constant beta1 and eps added to sqrt(v), i.e. Adam's own update form; anything
    else is refused when the controller is made.
    """

    MODES = ("on", "none", "rescaled-lr-eps")

    def __init__(self, optimizer, *, lr: float, schedule: str = "constant", bias_correction_mode: str = "on",
                 beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
        if bias_correction_mode not in self.MODES:
            raise ValueError(f"bias_correction_mode must be one of {self.MODES}, got {bias_correction_mode!r}")
        if bias_correction_mode == "rescaled-lr-eps":
            cls = type(optimizer)
            if cls not in _TORCH_ADAM_FORM:
                raise ValueError(f"bias_correction_mode 'rescaled-lr-eps' is exact only for Adam's update form "
                                 f"{[c.__name__ for c in _TORCH_ADAM_FORM]}, got {cls.__name__}")
            if any(group.get("weight_decay") for group in optimizer.param_groups):
                raise ValueError("bias correction off cannot be made exact with weight_decay > 0: rescaling lr "
                                 "would rescale the decay too")
        self.optimizer, self.lr, self.schedule = optimizer, lr, schedule
        self.mode, self.beta1, self.beta2, self.eps = bias_correction_mode, beta1, beta2, eps

    @property
    def bias_correction(self) -> bool:
        return self.mode == "on"

    def alpha(self, t: int) -> float:
        return self.lr / math.sqrt(t) if self.schedule == "inv_sqrt" else self.lr

    def before_step(self, t: int) -> float:
        """Set the groups for step ``t``; returns ``alpha_t``."""
        if t < 1:
            raise ValueError(f"t must be >= 1, got {t}")
        alpha = self.alpha(t)
        lr, eps = alpha, None
        if self.mode == "rescaled-lr-eps":
            c2 = math.sqrt(1.0 - self.beta2 ** t)
            lr = alpha * (1.0 - self.beta1 ** t) / c2
            eps = self.eps / c2
        for group in self.optimizer.param_groups:
            group["lr"] = lr
            if eps is not None:
                group["eps"] = eps
        return alpha


def step_size(optimizer, controller: StepController | None, t: int) -> float:
    """alpha_t of step ``t``: the controller's, or the package optimizer's own schedule."""
    if controller is not None:
        return controller.before_step(t)
    group = optimizer.param_groups[0]
    return group["lr"] * _alpha_rule(optimizer, group).factor(t)
