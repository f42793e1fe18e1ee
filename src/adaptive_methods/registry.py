"""The one list of the book's methods.

Every engine that runs a method reads it from here: the torch optimizers by class, the
1-D simulator (:mod:`adaptive_methods.online`) by the recurrence an entry declares,
Gamma_t (:mod:`adaptive_methods.gamma`), the experiments' command line, the figures
(label, colour, line style, marker) and the tests' tables.  A method is one
:class:`MethodInfo` in :data:`METHODS`; nothing else in the package lists method names.

The paper form of a method is the one the theorems analyse: no bias correction, no eps,
``alpha_t = alpha / sqrt(t)``, and the projection onto the box F.  :meth:`MethodInfo.paper`
builds that optimizer from the three hyperparameters the simulator knows (``beta1``,
``beta2``, ``beta1_decay``), so that one call gives the torch optimizer that
:func:`~adaptive_methods.online.simulate` claims to reproduce.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import MappingProxyType

from . import later_methods as _later
from . import methods as _m
from .framework import GenericAdaptive

__all__ = ["Recurrence", "MethodInfo", "METHODS", "method", "FIRST_MOMENTS", "SECOND_MOMENTS", "LOOP_KINDS"]

#: First-moment recurrences the simulator scans: m_t = g_t, or the moving average
#: m_t = beta1_t m_{t-1} + (1 - beta1_t) g_t with beta1_t = beta1 * beta1_decay^(t-1).
FIRST_MOMENTS = ("gradient", "moving_average")

#: Second-moment recurrences the simulator scans (V_t of Algorithm 1, diagonal):
#: "identity" V_t = 1; "mean_of_squares" V_t = (g_1^2 + ... + g_t^2) / t;
#: "moving_average" v_t = beta2 v_{t-1} + (1 - beta2) g_t^2;
#: "running_max" vhat_t = max(vhat_{t-1}, v_t);
#: "rescaled_running_max" vhat_t = max(((1 - beta1_t) / (1 - beta1_{t-1}))^2 vhat_{t-1}, v_t).
SECOND_MOMENTS = ("identity", "mean_of_squares", "moving_average", "running_max", "rescaled_running_max")

#: Steps of the later methods that :func:`adaptive_methods.later_loops.paper_loop` runs
#: where the simulator's scans do not reach: Yogi's sign-controlled v_t, AdaBound's clipped
#: learning rate (with AMSBound's running max), AdaBelief's belief in m_t, RAdam's
#: rectification, NAdam's Nesterov momentum, AdamW's decoupled weight decay.
LOOP_KINDS = ("sign_controlled", "bounded", "bounded_max", "belief", "rectified", "nesterov", "decoupled_decay")


@dataclass(frozen=True)
class Recurrence:
    """What the 1-D simulator computes for a method: its m_t and V_t recurrences.

    ``uses`` names the hyperparameters the recurrences read, out of ``beta1``, ``beta2``
    and ``beta1_decay`` (the others are ignored by the simulator).

    Parameters
    ----------
    first : str
        The m_t recurrence, one of :data:`FIRST_MOMENTS`.
    second : str
        The V_t recurrence, one of :data:`SECOND_MOMENTS`.

    Raises
    ------
    ValueError
        If ``first`` or ``second`` is not one of its kinds.

    Examples
    --------
    >>> recurrence = Recurrence("moving_average", "running_max")  # AMSGrad's
    >>> sorted(recurrence.uses)
    ['beta1', 'beta1_decay', 'beta2']
    >>> Recurrence("moving_average", "maximum")
    Traceback (most recent call last):
    ...
    ValueError: second must be one of (...), got 'maximum'
    """

    first: str
    second: str

    def __post_init__(self):
        if self.first not in FIRST_MOMENTS:
            raise ValueError(f"first must be one of {FIRST_MOMENTS}, got {self.first!r}")
        if self.second not in SECOND_MOMENTS:
            raise ValueError(f"second must be one of {SECOND_MOMENTS}, got {self.second!r}")

    @property
    def uses(self) -> frozenset[str]:
        """The hyperparameters the two recurrences read."""
        used = set()
        if self.first == "moving_average":
            used |= {"beta1", "beta1_decay"}
        if self.second in ("moving_average", "running_max", "rescaled_running_max"):
            used.add("beta2")
        if self.second == "rescaled_running_max":
            used |= {"beta1", "beta1_decay"}
        return frozenset(used)


@dataclass(frozen=True)
class MethodInfo:
    """One method of the book, as every engine and every figure sees it.

    ``paper_kwargs(beta1, beta2, beta1_decay)`` gives the constructor arguments of the
    paper form (besides ``lr`` and ``bounds``), with ``beta1_decay`` None for a constant
    beta1; the attribute ``beta1_decay`` is the paper form's default decay of beta1
    (None: a constant beta1).  ``recurrence`` is None for a method
    the simulator cannot scan, with ``not_simulated`` saying why; ``loop`` then names the
    kind of step :func:`adaptive_methods.later_loops.paper_loop` runs for it (one of
    :data:`LOOP_KINDS`).  ``variants`` are the values of the constructor argument
    ``variant_argument`` that the experiments name ``NAME-VARIANT``.  ``style`` is
    derived from the fields: the keyword arguments (color, linestyle, marker, label)
    that a matplotlib plot of the method takes.

    Parameters
    ----------
    name : str
        The lower-case name, the method's key in :data:`METHODS`.
    cls : type
        The optimizer class, a subclass of
        :class:`~adaptive_methods.framework.GenericAdaptive`.
    label : str
        The name figures show.
    color, linestyle, marker : str
        The figures' matplotlib colour, line style and marker
        (:func:`adaptive_methods.plotting.method_style`).
    paper_kwargs : callable
        (beta1, beta2, beta1_decay) -> dict: the paper form's constructor arguments.
    recurrence : Recurrence or None
        The recurrences the simulator scans, or None (then ``not_simulated`` says why).
    beta1_decay : float or None, default None
        The paper form's default lambda of beta1_t = beta1 lambda^(t-1); None: constant.
    variants : tuple of str, default ()
        The named variants of the method.
    variant_argument : str, default "variant"
        The constructor argument that picks a variant.
    not_simulated : str, default ""
        Why the simulator does not scan the method; given exactly when ``recurrence``
        is None.
    loop : str, default ""
        The kind of step :func:`~adaptive_methods.later_loops.paper_loop` runs, one of
        :data:`LOOP_KINDS`, or "" for none.
    summary : str, default ""
        One line saying what the method's rules are.

    Raises
    ------
    ValueError
        If ``recurrence`` and ``not_simulated`` are both given or both missing, or
        ``loop`` is not one of :data:`LOOP_KINDS`.

    Examples
    --------
    >>> info = METHODS["amsgrad"]
    >>> info.label, info.recurrence.second, info.variants
    ('AMSGrad', 'running_max', ('pytorch', 'optax', 'paper'))
    >>> sorted(info.style)
    ['color', 'label', 'linestyle', 'marker']
    """

    name: str
    cls: type[GenericAdaptive]
    label: str
    color: str
    linestyle: str
    marker: str
    paper_kwargs: Callable[[float, float, float | None], dict]
    recurrence: Recurrence | None
    beta1_decay: float | None = None
    variants: tuple[str, ...] = ()
    variant_argument: str = "variant"
    not_simulated: str = ""
    loop: str = ""
    summary: str = ""
    style: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "style", MappingProxyType(
            {"color": self.color, "linestyle": self.linestyle, "marker": self.marker, "label": self.label}))
        if (self.recurrence is None) == (not self.not_simulated):
            raise ValueError(f"{self.name}: give a recurrence, or say in not_simulated why there is none")
        if self.loop and self.loop not in LOOP_KINDS:
            raise ValueError(f"{self.name}: loop must be one of {LOOP_KINDS}, got {self.loop!r}")

    def paper(self, params: Iterable, lr: float, *, beta1: float = 0.9, beta2: float = 0.99,
              beta1_decay: float | None = None, bounds=(-1.0, 1.0), **overrides) -> GenericAdaptive:
        """The paper form of the method as a torch optimizer (what the simulator runs).

        The form the theorems analyse (for the paper's methods: no bias correction, no
        eps, alpha_t = lr / sqrt(t)), with the projection onto the box F.

        Parameters
        ----------
        params : iterable of torch.Tensor or of dict
            The parameters to optimise, or parameter groups.
        lr : float
            The step size alpha; finite, >= 0.
        beta1, beta2 : float, default 0.9 and 0.99
            In [0, 1).
        beta1_decay : float or None, default None
            lambda in (0, 1] of beta1_t = beta1 lambda^(t-1); None takes the method's
            own default (:attr:`beta1_decay`), 1.0 is a constant beta1.  A method
            without beta1 ignores it; the later methods take no decay (only None or
            1.0).
        bounds : (float, float) or None, default (-1.0, 1.0)
            The box F = [lo, hi]^d (lo < hi), or None for R^d.
        **overrides
            Constructor arguments replacing those of the paper form.

        Returns
        -------
        GenericAdaptive
            An instance of :attr:`cls`.

        Raises
        ------
        TypeError, ValueError
            As the constructor of :attr:`cls` does for an argument of the wrong type or
            out of its range; ValueError for a beta1 decay of a later method.

        Examples
        --------
        Adam's paper form: m_1 = 0.2 and v_1 = 0.04, so the first step is
        lr * 0.2 / sqrt(0.04):

        >>> import torch
        >>> x = torch.zeros(1, requires_grad=True)
        >>> optimizer = METHODS["adam"].paper([x], lr=0.1)
        >>> x.grad = torch.tensor([2.0])
        >>> optimizer.step()
        >>> round(x.item(), 6)
        -0.1
        """
        decay = self.beta1_decay if beta1_decay is None else beta1_decay
        kwargs = self.paper_kwargs(beta1, beta2, None if decay == 1.0 else decay)
        kwargs.update(overrides)
        return self.cls(params, lr, bounds=bounds, **kwargs)


# Okabe & Ito's colour-blind-safe palette (yellow left out: too light on white), with a
# line style and a marker per method so that no figure relies on colour alone.
_METHODS = (
    MethodInfo(
        "sgd", _m.SGD, "SGD", "#000000", ":", "x",
        lambda b1, b2, decay: dict(step="inv_sqrt"),
        Recurrence("gradient", "identity"),
        summary="phi = g_t, psi = I",
    ),
    MethodInfo(
        "adagrad", _m.Adagrad, "Adagrad", "#009E73", "-.", "s",
        lambda b1, b2, decay: dict(form="paper", eps=0.0),
        Recurrence("gradient", "mean_of_squares"),
        summary="phi = g_t, psi = diag(sum_i g_i^2) / t",
    ),
    MethodInfo(
        "rmsprop", _m.RMSProp, "RMSProp", "#56B4E9", "--", "v",
        lambda b1, b2, decay: dict(beta2=b2, eps=0.0, step="inv_sqrt"),
        Recurrence("gradient", "moving_average"),
        summary="phi = g_t, psi = moving average of g_t^2",
    ),
    MethodInfo(
        "adam", _m.Adam, "Adam", "#E69F00", "-", "o",
        lambda b1, b2, decay: dict(betas=(b1, b2), eps=0.0, bias_correction=False, step="inv_sqrt",
                                   beta1_decay=decay),
        Recurrence("moving_average", "moving_average"),
        summary="moving averages of g_t and g_t^2",
    ),
    MethodInfo(
        "amsgrad", _m.AMSGrad, "AMSGrad", "#0072B2", "-", "^",
        lambda b1, b2, decay: dict(betas=(b1, b2), variant="paper", beta1_decay=decay),
        Recurrence("moving_average", "running_max"),
        variants=_m.AMSGRAD_VARIANTS,
        summary="Adam with a running max on psi",
    ),
    MethodInfo(
        "adamnc", _m.AdamNC, "AdamNC", "#CC79A7", "--", "D",
        lambda b1, b2, decay: dict(beta1=_m.geometric_beta1(b1, decay)),
        Recurrence("moving_average", "mean_of_squares"),
        beta1_decay=_m.ADAMNC_BETA1_DECAY,
        summary="beta1_t = beta1 lambda^(t-1), beta2_t = 1 - 1/t",
    ),
    MethodInfo(
        "adamx", _m.AdamX, "AdamX", "#D55E00", "-.", "P",
        lambda b1, b2, decay: dict(betas=(b1, b2), beta1_decay=1.0 if decay is None else decay),
        Recurrence("moving_average", "rescaled_running_max"),
        beta1_decay=_m.ADAMX_BETA1_DECAY,
        summary="AMSGrad whose running max follows beta1_t",
    ),
)



def _constant_beta1(name: str, decay: float | None) -> dict:
    """The later methods' paper forms keep beta1 constant: a decay is refused, not ignored."""
    if decay is not None:
        raise ValueError(f"{name} has no beta1 schedule: beta1_decay must be None or 1.0, got {decay}")
    return {}


_SIGN_RECURRENCE = ("its v_t moves by the sign of v_{t-1} - g_t^2, a non-linear recurrence "
                    "that no scanned kind covers")
_CLIP_RECURRENCE = "its learning rate is clipped into bounds that depend on t and on lr"

# The methods that came after AMSGrad (chapter 7).  Their paper forms are the published
# algorithms with eps = 0 (AdaBelief keeps its eps, which is part of its recurrence),
# no bias correction where the method has one to drop, alpha_t = alpha / sqrt(t) and the
# projection onto F.
_LATER_METHODS = (
    MethodInfo(
        "yogi", _later.Yogi, "Yogi", "#009E73", "--", "*",
        lambda b1, b2, decay: dict(betas=(b1, b2), eps=0.0, step="inv_sqrt", **_constant_beta1("yogi", decay)),
        None, not_simulated=_SIGN_RECURRENCE,
        loop="sign_controlled",
        summary="Adam with v_t = v_{t-1} - (1 - beta2) sign(v_{t-1} - g_t^2) g_t^2",
    ),
    MethodInfo(
        "adabound", _later.AdaBound, "AdaBound", "#56B4E9", "-", "<",
        lambda b1, b2, decay: dict(betas=(b1, b2), final_lr=None, form="paper", **_constant_beta1("adabound", decay)),
        None, not_simulated=_CLIP_RECURRENCE,
        loop="bounded", variants=_later.ADABOUND_FORMS, variant_argument="form",
        summary="Adam with the learning rate clipped into [eta_l(t), eta_u(t)]",
    ),
    MethodInfo(
        "amsbound", _later.AMSBound, "AMSBound", "#0072B2", ":", ">",
        lambda b1, b2, decay: dict(betas=(b1, b2), final_lr=None, form="paper", **_constant_beta1("amsbound", decay)),
        None, not_simulated=_CLIP_RECURRENCE,
        loop="bounded_max", variants=_later.ADABOUND_FORMS, variant_argument="form",
        summary="AMSGrad with the learning rate clipped into [eta_l(t), eta_u(t)]",
    ),
    MethodInfo(
        "adabelief", _later.AdaBelief, "AdaBelief", "#CC79A7", "-", "h",
        lambda b1, b2, decay: dict(betas=(b1, b2), eps=1e-8, bias_correction=False, step="inv_sqrt",
                                   **_constant_beta1("adabelief", decay)),
        None, not_simulated="its V_t averages (g_t - m_t)^2, which depends on m_t: not a scanned kind",
        loop="belief",
        summary="Adam with the moving average of (g_t - m_t)^2 + eps",
    ),
    MethodInfo(
        "radam", _later.RAdam, "RAdam", "#D55E00", "--", "X",
        lambda b1, b2, decay: dict(betas=(b1, b2), eps=0.0, step="inv_sqrt", **_constant_beta1("radam", decay)),
        None, not_simulated="its rectification switches from momentum SGD to Adam at a step that depends on beta2",
        loop="rectified",
        summary="Adam times the variance rectification r_t; momentum SGD while rho_t <= 5",
    ),
    MethodInfo(
        "nadam", _later.NAdam, "NAdam", "#E69F00", ":", "d",
        lambda b1, b2, decay: dict(betas=(b1, b2), eps=0.0, step="inv_sqrt", **_constant_beta1("nadam", decay)),
        None, not_simulated="its first moment mixes g_t and m_t with the weights of the momentum schedule mu_t",
        loop="nesterov",
        summary="Adam with Nesterov momentum (the mu_t schedule)",
    ),
    MethodInfo(
        "adamw", _later.AdamW, "AdamW", "#000000", "-.", "p",
        lambda b1, b2, decay: dict(betas=(b1, b2), eps=0.0, bias_correction=False, step="inv_sqrt",
                                   weight_decay=1e-2, **_constant_beta1("adamw", decay)),
        None, not_simulated="its step reads the iterate x_t (the weight decay), not only the gradients",
        loop="decoupled_decay",
        summary="Adam with a weight decay decoupled from the gradient",
    ),
)

#: Every method of the book, name -> :class:`MethodInfo`, in the book's order (the paper's
#: methods, then the later methods of chapter 9).
#:
#: :meta hide-value:
METHODS: MappingProxyType[str, MethodInfo] = MappingProxyType({info.name: info for info in _METHODS + _LATER_METHODS})


def method(name: str) -> MethodInfo:
    """The registry entry of a method, by its name ("adam", "amsgrad", ...).

    Parameters
    ----------
    name : str
        A key of :data:`METHODS`, in any case.

    Returns
    -------
    MethodInfo
        ``METHODS[name.lower()]``.

    Raises
    ------
    TypeError
        If ``name`` is not a str.
    ValueError
        If no method has that name (the message lists the names).

    Examples
    --------
    >>> method("AMSGrad").cls.__name__
    'AMSGrad'
    >>> method("adamm")
    Traceback (most recent call last):
    ...
    ValueError: method must be one of ..., got 'adamm'
    """
    if not isinstance(name, str):
        raise TypeError(f"method must be a str, one of {', '.join(map(repr, METHODS))}; got {type(name).__name__}: {name!r}")
    try:
        return METHODS[name.lower()]
    except KeyError:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {name!r}") from None
