"""The methods of the paper as choices of phi, psi and alpha in Algorithm 1.

Each class only validates its hyperparameters and says which rules it uses; the update
itself is :class:`~adaptive_methods.framework.GenericAdaptive`'s, for every method.

Defaults reproduce PyTorch (``SGD(params, lr) == torch.optim.SGD(params, lr)`` and so
on, tested step by step); options give the paper's forms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .framework import (
    Constant,
    Debiased,
    GenericAdaptive,
    Identity,
    InverseSqrt,
    LastGradient,
    MeanOfSquares,
    MovingAverage,
    MovingAverageOfSquares,
    RescaledRunningMax,
    Rules,
    RunningMax,
    Schedule,
    SumOfSquares,
    check_beta,
    check_eps,
    check_lr,
)

__all__ = [
    "SGD",
    "Adagrad",
    "RMSProp",
    "Adam",
    "AMSGrad",
    "AdamNC",
    "AdamX",
    "AMSGRAD_VARIANTS",
    "ADAMNC_BETA1_DECAY",
    "ADAMX_BETA1_DECAY",
    "geometric_beta1",
]

#: lambda of beta1_t = beta1 * lambda^(t-1), the schedule of Corollaries 1 and 2, where
#: AdamNC and AdamX decay beta1 unless told otherwise.
ADAMNC_BETA1_DECAY = 0.99
ADAMX_BETA1_DECAY = 0.99

_STEPS = {"constant": Constant(), "inv_sqrt": InverseSqrt()}


def _check_step(step: str) -> str:
    if step not in _STEPS:
        raise ValueError(f"step must be one of {sorted(_STEPS)}, got {step!r}")
    return step


def _check_betas(betas, *, schedules: bool = False) -> tuple[Schedule, Schedule]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    if not schedules:
        for name, beta in zip(("betas[0]", "betas[1]"), betas):
            if callable(beta):
                raise TypeError(
                    f"{name} must be a number for this method, got a callable; AdamNC takes schedules"
                )
    return check_beta(betas[0], "betas[0]"), check_beta(betas[1], "betas[1]")


def _check_decay(decay) -> float:
    check_lr(decay, "beta1_decay")
    if not 0.0 < decay <= 1.0:
        raise ValueError(f"beta1_decay must be in (0, 1], got {decay}")
    return float(decay)


def geometric_beta1(beta1: float, decay: float | None) -> Schedule:
    """beta1_t = beta1 * decay^(t-1), the schedule of Corollary 1 of Reddi et al.

    Parameters
    ----------
    beta1 : float
        beta1_1, in [0, 1) (not checked here; the optimizers check it).
    decay : float or None
        lambda in (0, 1]; None or 1 gives the constant beta1.

    Returns
    -------
    float or callable
        ``beta1`` itself when the schedule is constant, else the function t -> beta1_t.

    Examples
    --------
    >>> schedule = geometric_beta1(0.9, 0.5)
    >>> [schedule(t) for t in (1, 2, 3)]
    [0.9, 0.45, 0.225]
    >>> geometric_beta1(0.9, None)
    0.9
    """
    if decay is None or decay == 1.0:
        return beta1
    return lambda t: beta1 * decay ** (t - 1)


class SGD(GenericAdaptive):
    """Online (projected) gradient descent: phi = g_t, psi = I in Algorithm 1 of Reddi et al.

    ``SGD(params, lr) == torch.optim.SGD(params, lr)``, step by step.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimise, or parameter groups (dicts with ``"params"`` and
        per-group hyperparameters), as for any ``torch.optim.Optimizer``.
    lr : float, default 1e-3
        The step size alpha (alpha_t = lr / sqrt(t) with ``step="inv_sqrt"``); finite, >= 0.
    step : {"constant", "inv_sqrt"}, default "constant"
        alpha_t = lr, or alpha_t = lr / sqrt(t) as in the paper's analysis.
    bounds : (float, float) or None, default None
        The box F = [lo, hi]^d onto which each step projects (lo < hi), or None for R^d.
    foreach, fused : bool or None, default None
        The code path: ``torch._foreach_*`` kernels (the default), or one compiled kernel
        per tensor (``fused=True``); not both True.

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type (the message names it).
    ValueError
        If a hyperparameter is out of its range (the message names it, its value and the range).

    Examples
    --------
    >>> import torch
    >>> x = torch.ones(1, requires_grad=True)
    >>> optimizer = SGD([x], lr=0.1)
    >>> x.grad = torch.tensor([2.0])
    >>> optimizer.step()
    >>> round(x.item(), 6)
    0.8
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        *,
        step: str = "constant",
        bounds=None,
        foreach=None,
        fused=None,
    ):
        super().__init__(
            params,
            lr,
            bounds=bounds,
            foreach=foreach,
            fused=fused,
            defaults=dict(step=_check_step(step)),
        )

    def rules(self, group):
        return Rules(phi=LastGradient(), psi=Identity(), alpha=_STEPS[group["step"]])


class Adagrad(GenericAdaptive):
    """phi = g_t, psi = diag(sum_i g_i^2) / t, alpha_t = alpha / sqrt(t).

    The per-coordinate learning rate is alpha / sqrt(sum_i g_i^2) (+ eps): written, as
    PyTorch does, with the running sum and a constant alpha (``form="pytorch"``), or, as
    the paper does, with the running mean and alpha / sqrt(t) (``form="paper"``).  The two
    agree exactly when eps = 0; with eps > 0 the paper form's step is
    alpha g_t / (sqrt(S_t) + sqrt(t) eps), i.e. the sum form with eps * sqrt(t).
    ``Adagrad(params, lr, eps=eps) == torch.optim.Adagrad(params, lr, eps=eps)``.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimise, or parameter groups (dicts with ``"params"`` and
        per-group hyperparameters), as for any ``torch.optim.Optimizer``.
    lr : float, default 1e-2
        The step size alpha (alpha_t = lr / sqrt(t) with ``step="inv_sqrt"``); finite, >= 0.
    eps : float, default 1e-10
        Added to sqrt(v_t) in the denominator; finite, >= 0.
    form : {"pytorch", "paper"}, default "pytorch"
        The sum form with a constant step (PyTorch's) or the mean form with lr / sqrt(t)
        (the paper's).
    bounds : (float, float) or None, default None
        The box F = [lo, hi]^d onto which each step projects (lo < hi), or None for R^d.
    foreach, fused : bool or None, default None
        The code path: ``torch._foreach_*`` kernels (the default), or one compiled kernel
        per tensor (``fused=True``); not both True.

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type (the message names it).
    ValueError
        If a hyperparameter is out of its range (the message names it, its value and the range).

    Examples
    --------
    The first step moves each coordinate by lr, whatever the size of its gradient:

    >>> import torch
    >>> x = torch.zeros(2, requires_grad=True)
    >>> optimizer = Adagrad([x], lr=0.1)
    >>> x.grad = torch.tensor([2.0, -0.5])
    >>> optimizer.step()
    >>> [round(v, 6) for v in x.tolist()]
    [-0.1, 0.1]
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        eps: float = 1e-10,
        *,
        form: str = "pytorch",
        bounds=None,
        foreach=None,
        fused=None,
    ):
        if form not in ("pytorch", "paper"):
            raise ValueError(f"form must be 'pytorch' or 'paper', got {form!r}")
        super().__init__(
            params,
            lr,
            eps=eps,
            bounds=bounds,
            foreach=foreach,
            fused=fused,
            defaults=dict(form=form),
        )

    def rules(self, group):
        if group["form"] == "paper":
            return Rules(phi=LastGradient(), psi=MeanOfSquares(), alpha=InverseSqrt())
        return Rules(phi=LastGradient(), psi=SumOfSquares(), alpha=Constant())


class RMSProp(GenericAdaptive):
    """phi = g_t, psi: v_t = beta2 v_{t-1} + (1 - beta2) g_t^2 (Adam with beta1 = 0, no
    bias correction).  ``RMSProp(params, lr, beta2, eps) == torch.optim.RMSprop(params, lr,
    alpha=beta2, eps=eps)``.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimise, or parameter groups (dicts with ``"params"`` and
        per-group hyperparameters), as for any ``torch.optim.Optimizer``.
    lr : float, default 1e-2
        The step size alpha (alpha_t = lr / sqrt(t) with ``step="inv_sqrt"``); finite, >= 0.
    beta2 : float, default 0.99
        The decay of the average of squared gradients, in [0, 1).
    eps : float, default 1e-8
        Added to sqrt(v_t) in the denominator; finite, >= 0.
    step : {"constant", "inv_sqrt"}, default "constant"
        alpha_t = lr, or alpha_t = lr / sqrt(t) as in the paper's analysis.
    bounds : (float, float) or None, default None
        The box F = [lo, hi]^d onto which each step projects (lo < hi), or None for R^d.
    foreach, fused : bool or None, default None
        The code path: ``torch._foreach_*`` kernels (the default), or one compiled kernel
        per tensor (``fused=True``); not both True.

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type (the message names it).
    ValueError
        If a hyperparameter is out of its range (the message names it, its value and the range).

    Examples
    --------
    After one step v_1 = (1 - beta2) g_1^2, so the step is lr g_1 / sqrt(v_1) = 10 lr:

    >>> import torch
    >>> x = torch.zeros(1, requires_grad=True)
    >>> optimizer = RMSProp([x], lr=0.01, beta2=0.99)
    >>> x.grad = torch.tensor([2.0])
    >>> optimizer.step()
    >>> round(x.item(), 6)
    -0.1
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        beta2: float = 0.99,
        eps: float = 1e-8,
        *,
        step: str = "constant",
        bounds=None,
        foreach=None,
        fused=None,
    ):
        if callable(beta2):
            raise TypeError("beta2 must be a number for RMSProp, got a callable")
        check_beta(beta2, "beta2")
        super().__init__(
            params,
            lr,
            eps=eps,
            bounds=bounds,
            foreach=foreach,
            fused=fused,
            defaults=dict(beta2=float(beta2), step=_check_step(step)),
        )

    def rules(self, group):
        return Rules(
            phi=LastGradient(),
            psi=MovingAverageOfSquares(group["beta2"]),
            alpha=_STEPS[group["step"]],
        )


class Adam(GenericAdaptive):
    """phi: m_t = beta1 m_{t-1} + (1 - beta1) g_t;  psi: v_t = beta2 v_{t-1} + (1 - beta2) g_t^2.

    With ``bias_correction=True`` (Kingma & Ba, PyTorch) both are divided by
    1 - beta^t; the paper analyses the uncorrected form (``bias_correction=False``), where
    ``beta1_decay`` may also make beta1 decrease: beta1_t = beta1 * beta1_decay^(t-1).
    ``Adam(params, lr, betas, eps) == torch.optim.Adam(params, lr, betas, eps)``.

    The paper's form of Adam is its Algorithm 1 with phi_t = (1 - beta1) sum_i beta1^(t-i) g_i
    and psi_t = (1 - beta2) diag(sum_i beta2^(t-i) g_i^2).

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimise, or parameter groups (dicts with ``"params"`` and
        per-group hyperparameters), as for any ``torch.optim.Optimizer``.
    lr : float, default 1e-3
        The step size alpha (alpha_t = lr / sqrt(t) with ``step="inv_sqrt"``); finite, >= 0.
    betas : (float, float), default (0.9, 0.999)
        (beta1, beta2), each in [0, 1).
    eps : float, default 1e-8
        Added to sqrt(v_t) in the denominator; finite, >= 0.
    bias_correction : bool, default True
        Divide m_t by 1 - beta1^t and v_t by 1 - beta2^t (Kingma & Ba; PyTorch).
    beta1_decay : float or None, default None
        lambda in (0, 1] of beta1_t = beta1 lambda^(t-1); needs ``bias_correction=False``.
    step : {"constant", "inv_sqrt"}, default "constant"
        alpha_t = lr, or alpha_t = lr / sqrt(t) as in the paper's analysis.
    bounds : (float, float) or None, default None
        The box F = [lo, hi]^d onto which each step projects (lo < hi), or None for R^d.
    foreach, fused : bool or None, default None
        The code path: ``torch._foreach_*`` kernels (the default), or one compiled kernel
        per tensor (``fused=True``); not both True.

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type (the message names it).
    ValueError
        If a hyperparameter is out of its range (the message names it, its value and the range).

    Examples
    --------
    With bias correction the first step has length lr, in the direction of -g_1:

    >>> import torch
    >>> x = torch.zeros(1, requires_grad=True)
    >>> optimizer = Adam([x], lr=0.1)
    >>> x.grad = torch.tensor([2.0])
    >>> optimizer.step()
    >>> round(x.item(), 6)
    -0.1
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        *,
        bias_correction: bool = True,
        beta1_decay: float | None = None,
        step: str = "constant",
        bounds=None,
        foreach=None,
        fused=None,
    ):
        betas = _check_betas(betas)
        if not isinstance(bias_correction, bool):
            raise TypeError(
                f"bias_correction must be True or False, got {bias_correction!r}"
            )
        if beta1_decay is not None:
            _check_decay(beta1_decay)
            if bias_correction:
                raise ValueError(
                    "beta1_decay needs bias_correction=False: 1 - beta1^t corrects only a constant beta1"
                )
        super().__init__(
            params,
            lr,
            eps=eps,
            bounds=bounds,
            foreach=foreach,
            fused=fused,
            defaults=dict(
                betas=betas,
                bias_correction=bias_correction,
                beta1_decay=beta1_decay,
                step=_check_step(step),
            ),
        )

    def rules(self, group):
        beta1, beta2 = group["betas"]
        phi, psi = (
            MovingAverage(geometric_beta1(beta1, group.get("beta1_decay"))),
            MovingAverageOfSquares(beta2),
        )
        if group["bias_correction"]:
            phi, psi = Debiased(phi), Debiased(psi)
        return Rules(phi=phi, psi=psi, alpha=_STEPS[group["step"]])


#: Where the running max sits relative to the bias correction, per variant.
AMSGRAD_VARIANTS = ("pytorch", "optax", "paper")


class AMSGrad(Adam):
    """Adam with a running max on psi: vhat_t = max(vhat_{t-1}, v_t).

    Three published algorithms carry the name; ``variant`` picks one:

    * ``"pytorch"`` (default): ``torch.optim.Adam(amsgrad=True)``: the max of the raw v_t,
      then bias correction and eps: m_t / (1 - beta1^t) / (sqrt(vhat_t / (1 - beta2^t)) + eps).
    * ``"optax"``: ``optax.amsgrad``: bias-correct first, then the max of the corrected
      v_t / (1 - beta2^t); update m_t / (1 - beta1^t) / (sqrt(vhat_t) + eps).
    * ``"paper"``: Algorithm 2 of Reddi et al.: no bias correction, eps = 0 by default,
      alpha_t = lr / sqrt(t), and optionally a decreasing beta1_t = beta1 * beta1_decay^(t-1)
      (Corollary 1) or any schedule ``t -> beta1_t`` given as ``beta1_schedule``.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimise, or parameter groups (dicts with ``"params"`` and
        per-group hyperparameters), as for any ``torch.optim.Optimizer``.
    lr : float, default 1e-3
        The step size alpha (alpha_t = lr / sqrt(t) with ``step="inv_sqrt"``); finite, >= 0.
    betas : (float, float), default (0.9, 0.999)
        (beta1, beta2), each in [0, 1).
    eps : float or None, default None
        Added to the denominator (finite, >= 0); None means 1e-8, or 0 for ``"paper"``.
    variant : {"pytorch", "optax", "paper"}, default "pytorch"
        Which of the three algorithms (above).
    beta1_decay : float or None, default None
        lambda in (0, 1] of beta1_t = beta1 lambda^(t-1) (Corollary 1); ``"paper"`` only.
    beta1_schedule : callable or None, default None
        Any schedule t -> beta1_t in [0, 1) (t = 1, 2, ...); ``"paper"`` only, not with
        ``beta1_decay``.
    step : {"constant", "inv_sqrt"} or None, default None
        alpha_t = lr or lr / sqrt(t); None means "inv_sqrt" for ``"paper"``, else "constant".
    bounds : (float, float) or None, default None
        The box F = [lo, hi]^d onto which each step projects (lo < hi), or None for R^d.
    foreach, fused : bool or None, default None
        The code path: ``torch._foreach_*`` kernels (the default), or one compiled kernel
        per tensor (``fused=True``); not both True.

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type (the message names it).
    ValueError
        If a hyperparameter is out of its range (the message names it, its value and the range).

    Examples
    --------
    Algorithm 2 on F = [-1, 1]: m_1 = (1 - beta1) g_1 = 0.2, vhat_1 = (1 - beta2) g_1^2 = 0.004,
    so the first step is lr * 0.2 / sqrt(0.004):

    >>> import torch
    >>> x = torch.zeros(1, requires_grad=True)
    >>> optimizer = AMSGrad([x], lr=0.1, betas=(0.9, 0.999), variant="paper",
    ...                     bounds=(-1.0, 1.0))
    >>> x.grad = torch.tensor([2.0])
    >>> optimizer.step()
    >>> round(x.item(), 4)
    -0.3162
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float | None = None,
        *,
        variant: str = "pytorch",
        beta1_decay: float | None = None,
        beta1_schedule: Callable[[int], float] | None = None,
        step: str | None = None,
        bounds=None,
        foreach=None,
        fused=None,
    ):
        if variant not in AMSGRAD_VARIANTS:
            raise ValueError(
                f"variant must be one of {AMSGRAD_VARIANTS}, got {variant!r}"
            )
        paper = variant == "paper"
        if not paper and (beta1_decay is not None or beta1_schedule is not None):
            raise ValueError(
                f"beta1_decay and beta1_schedule need variant='paper', got variant={variant!r}"
            )
        if beta1_decay is not None and beta1_schedule is not None:
            raise ValueError("give beta1_decay or beta1_schedule, not both")
        if beta1_decay is not None:
            _check_decay(beta1_decay)
        if beta1_schedule is not None and not callable(beta1_schedule):
            raise TypeError(
                f"beta1_schedule must be a callable t -> beta1_t, got {beta1_schedule!r}"
            )
        eps = (0.0 if paper else 1e-8) if eps is None else check_eps(eps)
        step = ("inv_sqrt" if paper else "constant") if step is None else step
        super().__init__(
            params,
            lr,
            betas,
            eps,
            bias_correction=not paper,
            beta1_decay=beta1_decay,
            step=step,
            bounds=bounds,
            foreach=foreach,
            fused=fused,
        )
        for group in self.param_groups:
            group.setdefault("variant", variant)
        self.defaults.update(variant=variant)
        self._beta1_schedule = beta1_schedule

    def rules(self, group):
        beta1, beta2 = group["betas"]
        variant = group["variant"]
        if variant == "paper":
            beta1_t = self._beta1_schedule or geometric_beta1(
                beta1, group["beta1_decay"]
            )
            return Rules(
                MovingAverage(beta1_t),
                RunningMax(MovingAverageOfSquares(beta2)),
                _STEPS[group["step"]],
            )
        phi = Debiased(MovingAverage(beta1))
        if variant == "pytorch":
            psi = Debiased(RunningMax(MovingAverageOfSquares(beta2)))
        else:  # optax
            psi = RunningMax(Debiased(MovingAverageOfSquares(beta2)))
        return Rules(phi, psi, _STEPS[group["step"]])


class AdamNC(GenericAdaptive):
    """Algorithm 3 of the paper: Adam with non-constant beta1_t and beta2_t, no bias
    correction, eps = 0, alpha_t = lr / sqrt(t).

    ``beta1`` and ``beta2`` are constants or schedules ``t -> value``.  The defaults are
    those of Corollary 2: beta1_t = 0.9 * 0.99^(t-1) and beta2_t = 1 - 1/t, which makes
    v_t the running mean of g_i^2, i.e. Adagrad's psi with momentum on phi.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimise, or parameter groups (dicts with ``"params"`` and
        per-group hyperparameters), as for any ``torch.optim.Optimizer``.
    lr : float, default 1e-3
        The step size alpha (alpha_t = lr / sqrt(t) with ``step="inv_sqrt"``); finite, >= 0.
    beta1 : float or callable or None, default None
        beta1_t: a constant in [0, 1) or a schedule t -> beta1_t; None means 0.9 * 0.99^(t-1).
    beta2 : float or callable or None, default None
        beta2_t: a constant in [0, 1) or a schedule t -> beta2_t; None means 1 - 1/t.
    eps : float, default 0.0
        Added to sqrt(v_t) in the denominator; finite, >= 0.
    step : {"constant", "inv_sqrt"}, default "inv_sqrt"
        alpha_t = lr, or alpha_t = lr / sqrt(t) as in the paper's analysis.
    bounds : (float, float) or None, default None
        The box F = [lo, hi]^d onto which each step projects (lo < hi), or None for R^d.
    foreach, fused : bool or None, default None
        The code path: ``torch._foreach_*`` kernels (the default), or one compiled kernel
        per tensor (``fused=True``); not both True.

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type (the message names it).
    ValueError
        If a hyperparameter is out of its range (the message names it, its value and the range).

    Examples
    --------
    With the defaults beta2_1 = 0, so v_1 = g_1^2, and m_1 = 0.1 g_1: the first step is 0.1 lr:

    >>> import torch
    >>> x = torch.zeros(1, requires_grad=True)
    >>> optimizer = AdamNC([x], lr=1.0)
    >>> x.grad = torch.tensor([2.0])
    >>> optimizer.step()
    >>> round(x.item(), 6)
    -0.1
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        beta1: Schedule | None = None,
        beta2: Schedule | None = None,
        eps: float = 0.0,
        *,
        step: str = "inv_sqrt",
        bounds=None,
        foreach=None,
        fused=None,
    ):
        beta1 = (
            geometric_beta1(0.9, ADAMNC_BETA1_DECAY)
            if beta1 is None
            else check_beta(beta1, "beta1")
        )
        beta2 = (
            (lambda t: 1.0 - 1.0 / t) if beta2 is None else check_beta(beta2, "beta2")
        )
        super().__init__(
            params,
            lr,
            eps=eps,
            bounds=bounds,
            foreach=foreach,
            fused=fused,
            defaults=dict(step=_check_step(step)),
        )
        self._betas = (beta1, beta2)

    def rules(self, group):
        beta1, beta2 = self._betas
        return Rules(
            MovingAverage(beta1), MovingAverageOfSquares(beta2), _STEPS[group["step"]]
        )


class AdamX(GenericAdaptive):
    """AdamX, Algorithm 2 of Tran & Phong (2019): AMSGrad whose running max follows beta1_t.

        m_t = beta1_t m_{t-1} + (1 - beta1_t) g_t,   v_t = beta2 v_{t-1} + (1 - beta2) g_t^2,
        vhat_1 = v_1,   vhat_t = max(((1 - beta1_t) / (1 - beta1_{t-1}))^2 vhat_{t-1}, v_t),
        x_{t+1} = Pi_F(x_t - alpha_t m_t / sqrt(vhat_t)),   alpha_t = lr / sqrt(t).

    No bias correction, eps = 0 by default.  beta1_t = beta1 * beta1_decay^(t-1), or any
    schedule ``t -> beta1_t`` given as ``beta1_schedule``; with neither, beta1_decay = 0.99
    (the geometric schedule of Corollary 1, as :class:`AdamNC` uses).  With beta1_decay = 1
    (a constant beta1) AdamX is ``AMSGrad(variant="paper")``.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimise, or parameter groups (dicts with ``"params"`` and
        per-group hyperparameters), as for any ``torch.optim.Optimizer``.
    lr : float, default 1e-3
        The step size alpha (alpha_t = lr / sqrt(t) with ``step="inv_sqrt"``); finite, >= 0.
    betas : (float, float), default (0.9, 0.999)
        (beta1, beta2), each in [0, 1).
    eps : float, default 0.0
        Added to sqrt(vhat_t) in the denominator; finite, >= 0.
    beta1_decay : float or None, default None
        lambda in (0, 1] of beta1_t = beta1 lambda^(t-1); None means 0.99 unless
        ``beta1_schedule`` is given.
    beta1_schedule : callable or None, default None
        Any schedule t -> beta1_t in [0, 1) (t = 1, 2, ...), not with ``beta1_decay``.
    step : {"constant", "inv_sqrt"}, default "inv_sqrt"
        alpha_t = lr, or alpha_t = lr / sqrt(t) as in the paper's analysis.
    bounds : (float, float) or None, default None
        The box F = [lo, hi]^d onto which each step projects (lo < hi), or None for R^d.
    foreach, fused : bool or None, default None
        The code path: ``torch._foreach_*`` kernels (the default), or one compiled kernel
        per tensor (``fused=True``); not both True.

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type (the message names it).
    ValueError
        If a hyperparameter is out of its range (the message names it, its value and the range).

    Examples
    --------
    At t = 1, vhat_1 = v_1: the first step is AMSGrad's (``variant="paper"``):

    >>> import torch
    >>> x = torch.zeros(1, requires_grad=True)
    >>> optimizer = AdamX([x], lr=0.1, betas=(0.9, 0.999))
    >>> x.grad = torch.tensor([2.0])
    >>> optimizer.step()
    >>> round(x.item(), 4)
    -0.3162
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 0.0,
        *,
        beta1_decay: float | None = None,
        beta1_schedule: Callable[[int], float] | None = None,
        step: str = "inv_sqrt",
        bounds=None,
        foreach=None,
        fused=None,
    ):
        betas = _check_betas(betas)
        if beta1_decay is not None and beta1_schedule is not None:
            raise ValueError("give beta1_decay or beta1_schedule, not both")
        if beta1_schedule is not None and not callable(beta1_schedule):
            raise TypeError(
                f"beta1_schedule must be a callable t -> beta1_t, got {beta1_schedule!r}"
            )
        if beta1_decay is not None:
            _check_decay(beta1_decay)
        elif beta1_schedule is None:
            beta1_decay = ADAMX_BETA1_DECAY
        super().__init__(
            params,
            lr,
            eps=eps,
            bounds=bounds,
            foreach=foreach,
            fused=fused,
            defaults=dict(betas=betas, beta1_decay=beta1_decay, step=_check_step(step)),
        )
        self._beta1_schedule = beta1_schedule

    def rules(self, group):
        beta1, beta2 = group["betas"]
        beta1_t = self._beta1_schedule or geometric_beta1(beta1, group["beta1_decay"])
        return Rules(
            MovingAverage(beta1_t),
            RescaledRunningMax(MovingAverageOfSquares(beta2)),
            _STEPS[group["step"]],
        )
