"""Optimizers by name, for the command line and the result files.

``"adam"``, ``"amsgrad"``, ``"amsgrad-optax"``, ``"amsgrad-paper"``, ``"sgd"``, ``"adagrad"``,
``"rmsprop"`` and ``"adamnc"`` are the package's own methods, imported by name from
:mod:`adaptive_methods.methods` only when first used. ``"torch.<name>"`` is a class of
:mod:`torch.optim` (``"torch.adam"``, ``"torch.sgd"``; ``"torch.amsgrad"`` is
``torch.optim.Adam(amsgrad=True)``). Every result file records which class really ran.

The step-size schedule (``alpha / sqrt(t)`` or constant) and Adam's bias correction being
switched off are applied by :class:`StepController`, which sets each parameter group's
``lr`` (and, for the bias correction, ``eps``) before every step; see its docstring.
"""

from __future__ import annotations

import importlib
import inspect
import math
import warnings
from dataclasses import dataclass, field

import torch

__all__ = ["OptimizerSpec", "resolve_optimizer", "make_optimizer", "StepController", "PACKAGE_METHODS",
           "TORCH_ALIASES"]

#: package name -> (class name in adaptive_methods.methods, fixed keyword arguments)
PACKAGE_METHODS = {
    "sgd": ("SGD", {}),
    "adagrad": ("Adagrad", {}),
    "rmsprop": ("RMSProp", {}),
    "adam": ("Adam", {}),
    "amsgrad": ("AMSGrad", {"variant": "pytorch"}),
    "amsgrad-pytorch": ("AMSGrad", {"variant": "pytorch"}),
    "amsgrad-optax": ("AMSGrad", {"variant": "optax"}),
    "amsgrad-paper": ("AMSGrad", {"variant": "paper"}),
    "adamnc": ("AdamNC", {}),
}

#: torch.optim stand-ins that the design document pins as equal to the package's defaults;
#: used only while ``adaptive_methods.methods`` does not exist yet.
_TORCH_EQUIVALENT = {
    "sgd": ("SGD", {}),
    "adagrad": ("Adagrad", {}),
    "rmsprop": ("RMSprop", {}),
    "adam": ("Adam", {}),
    "amsgrad": ("Adam", {"amsgrad": True}),
    "amsgrad-pytorch": ("Adam", {"amsgrad": True}),
}

TORCH_ALIASES = {"torch.amsgrad": ("Adam", {"amsgrad": True}), "torch.adam-amsgrad": ("Adam", {"amsgrad": True})}

# Optimizers whose update is torch.optim.Adam's (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps):
# switching their bias correction off is an exact change of lr and eps, see StepController.
_TORCH_ADAM_FORM = {"adam", "amsgrad", "amsgrad-pytorch", "torch.adam", "torch.amsgrad", "torch.adam-amsgrad"}


@dataclass
class OptimizerSpec:
    name: str
    cls: type
    fixed_kwargs: dict = field(default_factory=dict)
    note: str = ""

    @property
    def implementation(self) -> str:
        return f"{self.cls.__module__}.{self.cls.__qualname__}"


def _torch_class(class_name: str) -> type:
    lookup = {n.lower(): getattr(torch.optim, n) for n in dir(torch.optim)
              if isinstance(getattr(torch.optim, n), type) and issubclass(getattr(torch.optim, n), torch.optim.Optimizer)}
    if class_name.lower() not in lookup:
        raise ValueError(f"optimizer 'torch.{class_name}' is not a class of torch.optim; "
                         f"allowed: {sorted('torch.' + k for k in lookup)}")
    return lookup[class_name.lower()]


def resolve_optimizer(name: str) -> OptimizerSpec:
    """The class (and fixed options) that an optimizer name stands for."""
    if not isinstance(name, str):
        raise TypeError(f"optimizer must be a string, got {type(name).__name__}")
    key = name.strip().lower()
    if key in TORCH_ALIASES:
        cls_name, fixed = TORCH_ALIASES[key]
        return OptimizerSpec(key, _torch_class(cls_name), dict(fixed))
    if key.startswith("torch."):
        return OptimizerSpec(key, _torch_class(key[len("torch."):]))
    if key not in PACKAGE_METHODS:
        raise ValueError(f"optimizer must be one of {sorted(PACKAGE_METHODS)} or 'torch.<name>' "
                         f"(e.g. 'torch.adam', 'torch.amsgrad'), got {name!r}")
    cls_name, fixed = PACKAGE_METHODS[key]
    try:
        module = importlib.import_module("adaptive_methods.methods")
    except ModuleNotFoundError as exc:
        if exc.name != "adaptive_methods.methods" or key not in _TORCH_EQUIVALENT:
            raise
        torch_name, torch_fixed = _TORCH_EQUIVALENT[key]
        note = (f"adaptive_methods.methods is not available, so torch.optim.{torch_name}"
                f"{'(amsgrad=True)' if torch_fixed else ''} ran; the package pins its {cls_name} "
                f"defaults to be equal to it")
        warnings.warn(note, stacklevel=2)
        return OptimizerSpec(key, _torch_class(torch_name), dict(torch_fixed), note)
    return OptimizerSpec(key, getattr(module, cls_name), dict(fixed))


def _accepts(cls: type, arg: str) -> bool:
    return arg in inspect.signature(cls.__init__).parameters


def make_optimizer(name: str, params, *, lr: float, beta1: float = 0.9, beta2: float = 0.999,
                   eps: float | None = 1e-8, bias_correction: bool = True, extra: dict | None = None):
    """Build the optimizer ``name`` over ``params``; returns ``(optimizer, info)``.

    ``beta1``, ``beta2`` and ``eps`` go to whatever the class calls them (``betas``,
    ``beta2``, torch's RMSprop ``alpha``) and are dropped for a class that has none.
    ``info`` records the class, the keyword arguments and how the bias correction was set.
    """
    spec = resolve_optimizer(name)
    kwargs: dict = {"lr": lr}
    if _accepts(spec.cls, "betas"):
        kwargs["betas"] = (beta1, beta2)
    else:
        if _accepts(spec.cls, "beta1"):
            kwargs["beta1"] = beta1
        if _accepts(spec.cls, "beta2"):
            kwargs["beta2"] = beta2
        elif spec.cls is torch.optim.RMSprop:
            kwargs["alpha"] = beta2
    if eps is not None and _accepts(spec.cls, "eps"):
        kwargs["eps"] = eps
    kwargs.update(spec.fixed_kwargs)
    kwargs.update(extra or {})
    mode = "on"
    if not bias_correction:
        if _accepts(spec.cls, "bias_correction"):
            kwargs["bias_correction"] = False
            mode = "native"
        elif spec.name in _TORCH_ADAM_FORM and "betas" in kwargs:
            mode = "rescaled-lr-eps"
        else:
            raise ValueError(f"bias_correction=False needs an optimizer with a 'bias_correction' argument or "
                             f"torch.optim.Adam's update form ({sorted(_TORCH_ADAM_FORM)}), got {name!r}")
    optimizer = spec.cls(params, **kwargs)
    info = {
        "requested": name,
        "class": spec.implementation,
        "kwargs": {k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()},
        "bias_correction": bool(bias_correction),
        "bias_correction_mode": mode,
    }
    if spec.note:
        info["note"] = spec.note
    return optimizer, info


class StepController:
    """Sets ``lr`` (and ``eps``) of every parameter group before step ``t`` (1-based).

    ``schedule="inv_sqrt"`` gives ``alpha_t = lr / sqrt(t)`` (the paper's schedule for the
    logistic regression), ``"constant"`` gives ``alpha_t = lr``.

    With ``bias_correction_mode="rescaled-lr-eps"`` the controller turns torch.optim.Adam's
    update ``alpha_t/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps_t)`` into the uncorrected
    ``alpha * m / (sqrt(v) + eps)`` exactly (up to rounding) by setting
    ``lr_t = alpha_t (1-b1^t) / sqrt(1-b2^t)`` and ``eps_t = eps / sqrt(1-b2^t)``.
    """

    def __init__(self, optimizer, *, lr: float, schedule: str = "constant", bias_correction_mode: str = "on",
                 beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        if schedule not in ("constant", "inv_sqrt"):
            raise ValueError(f"schedule must be 'constant' or 'inv_sqrt', got {schedule!r}")
        if bias_correction_mode not in ("on", "native", "rescaled-lr-eps"):
            raise ValueError(f"bias_correction_mode must be 'on', 'native' or 'rescaled-lr-eps', "
                             f"got {bias_correction_mode!r}")
        self.optimizer, self.lr, self.schedule = optimizer, lr, schedule
        self.mode, self.beta1, self.beta2, self.eps = bias_correction_mode, beta1, beta2, eps

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
