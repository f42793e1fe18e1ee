"""The methods that followed AMSGrad, as choices of phi, psi, alpha and transforms.

Like :mod:`adaptive_methods.methods`, each class only validates its hyperparameters and
picks rules (from :mod:`adaptive_methods.framework.later_rules`); the update is
:class:`~adaptive_methods.framework.GenericAdaptive`'s.  Where a method has a
``torch.optim`` counterpart the default form equals it (``RAdam``, ``NAdam``, ``AdamW``);
the others equal their authors' published algorithm (tested against transcriptions).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from .framework import (
    BeliefSquares,
    BoundedLearningRate,
    Debiased,
    DecoupledWeightDecay,
    GenericAdaptive,
    MovingAverage,
    MovingAverageOfSquares,
    NesterovMomentum,
    Rectified,
    Rules,
    RunningMax,
    SignControlledSquares,
    check_eps,
    check_lr,
)
from .methods import _STEPS, Adam, _check_betas, _check_step

__all__ = [
    "Yogi",
    "AdaBound",
    "AMSBound",
    "AdaBelief",
    "RAdam",
    "NAdam",
    "AdamW",
    "ADABOUND_FORMS",
    "NADAM_MOMENTUM_DECAY",
]

#: psi of NAdam's momentum schedule mu_t = beta1 (1 - 0.5 * 0.96^(t psi)), torch.optim.NAdam's default.
NADAM_MOMENTUM_DECAY = 4e-3


def _check_flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


class Yogi(GenericAdaptive):
    """Yogi (Zaheer, Reddi, Sachan, Kale & Kumar, 2018, Algorithm 2): an additive v_t.

    Adam whose second moment moves by at most (1 - beta2) g_t^2 per step, in the
    direction of g_t^2::

        m_t = beta1 m_{t-1} + (1 - beta1) g_t,
        v_t = v_{t-1} - (1 - beta2) sign(v_{t-1} - g_t^2) g_t^2,
        x_{t+1} = Pi_F(x_t - alpha_t m_t / (sqrt(v_t) + eps)),   m_0 = v_0 = 0.

    The paper's box has no bias correction and recommends eps = 1e-3 (the defaults
    here); ``bias_correction=True`` divides m_t and v_t by 1 - beta^t as Adam does.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimise, or parameter groups (dicts with ``"params"`` and
        per-group hyperparameters), as for any ``torch.optim.Optimizer``.
    lr : float, default 1e-2
        The step size alpha (alpha_t = lr / sqrt(t) with ``step="inv_sqrt"``);
        finite, >= 0.
    betas : (float, float), default (0.9, 0.999)
        (beta1, beta2), each in [0, 1).
    eps : float, default 1e-3
        Added to sqrt(v_t) in the denominator; finite, >= 0.
    bias_correction : bool, default False
        Divide m_t by 1 - beta1^t and v_t by 1 - beta2^t.
    step : {"constant", "inv_sqrt"}, default "constant"
        alpha_t = lr, or alpha_t = lr / sqrt(t) as in the paper's analysis.
    bounds : (float, float) or None, default None
        The box F = [lo, hi]^d onto which each step projects (lo < hi), or None for R^d.
    foreach, fused : bool or None, default None
        The code path: ``torch._foreach_*`` kernels (the default), or one compiled
        kernel per tensor (``fused=True``); not both True.

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type (the message names it).
    ValueError
        If a hyperparameter is out of its range (the message names it, its value and the
        range).

    Examples
    --------
    m_1 = 0.2 and v_1 = (1 - beta2) g_1^2 = 0.004, so with eps = 0 the first step is
    lr * 0.2 / sqrt(0.004), Adam's uncorrected one:

    >>> import torch
    >>> x = torch.zeros(1, requires_grad=True)
    >>> optimizer = Yogi([x], lr=0.1, eps=0.0)
    >>> x.grad = torch.tensor([2.0])
    >>> optimizer.step()
    >>> round(x.item(), 4)
    -0.3162
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-3,
        *,
        bias_correction: bool = False,
        step: str = "constant",
        bounds=None,
        foreach=None,
        fused=None,
    ):
        betas = _check_betas(betas)
        super().__init__(
            params,
            lr,
            eps=eps,
            bounds=bounds,
            foreach=foreach,
            fused=fused,
            defaults=dict(
                betas=betas,
                bias_correction=_check_flag(bias_correction, "bias_correction"),
                step=_check_step(step),
            ),
        )

    def rules(self, group):
        beta1, beta2 = group["betas"]
        phi, psi = MovingAverage(beta1), SignControlledSquares(beta2)
        if group["bias_correction"]:
            phi, psi = Debiased(phi), Debiased(psi)
        return Rules(phi=phi, psi=psi, alpha=_STEPS[group["step"]])


#: The two published forms of AdaBound and AMSBound.
ADABOUND_FORMS = ("code", "paper")


class AdaBound(GenericAdaptive):
    """AdaBound (Luo, Xiong, Liu & Sun, 2019): Adam with a clipped learning rate.

    The learning rate is clipped into bounds that close on a final step size eta*::

        eta_l(t) = eta* (1 - 1 / (gamma t + 1)),   eta_u(t) = eta* (1 + 1 / (gamma t)),

    with m_t = beta1 m_{t-1} + (1 - beta1) g_t, v_t = beta2 v_{t-1} + (1 - beta2) g_t^2.
    ``form="code"`` (default) is the authors' published PyTorch code: the clipped
    quantity is eta_t = clip(lr sqrt(1 - beta2^t) / ((1 - beta1^t)(sqrt(v_t) + eps)),
    eta_l(t), eta_u(t)), and x_{t+1} = Pi_F(x_t - eta_t m_t) with the raw m_t.
    ``form="paper"`` is Algorithm 2 of the paper: eta = clip(lr / (sqrt(v_t) + eps),
    eta_l(t), eta_u(t)), x_{t+1} = Pi_F(x_t - eta / sqrt(t) m_t), no bias correction,
    eps = 0 by default.  In both, eta* = ``final_lr`` lr / (the group's initial lr), so
    that a learning-rate scheduler moves the bounds with lr.  The learning rate is
    returned to Algorithm 1 as sqrt(V_t) = lr / eta_t, so that Gamma_t sees it.
    AMSBound is :class:`AMSBound`.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimise, or parameter groups (dicts with ``"params"`` and
        per-group hyperparameters), as for any ``torch.optim.Optimizer``.
    lr : float, default 1e-3
        The step size alpha; finite and > 0 (the bounds scale with lr / initial lr).
    betas : (float, float), default (0.9, 0.999)
        (beta1, beta2), each in [0, 1).
    final_lr : float or None, default 0.1
        eta* at the initial lr, finite and >= 0; None makes eta* = lr.
    gamma : float or None, default None
        The speed at which the bounds close, in (0, 1); None is 1e-3 in the code form
        and 1 - beta2 in the paper form (the bounds of the paper's experiments).
    eps : float or None, default None
        Added to sqrt(v_t) inside the clip; finite, >= 0; None is 1e-8 in the code form
        and 0 in the paper form.
    form : {"code", "paper"}, default "code"
        The authors' code or the paper's Algorithm 2 (above).
    bounds : (float, float) or None, default None
        The box F = [lo, hi]^d onto which each step projects (lo < hi), or None for R^d.
    foreach, fused : bool or None, default None
        The code path: ``torch._foreach_*`` kernels (the default), or one compiled
        kernel per tensor (``fused=True``); not both True.

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type (the message names it).
    ValueError
        If a hyperparameter is out of its range (the message names it, its value and the
        range).

    Examples
    --------
    The paper form with eta* = lr = 1 and gamma = 1 - beta2 = 0.5: at t = 1,
    lr / sqrt(v_1) = 1 / sqrt(2) lies in [eta_l(1), eta_u(1)] = [1/3, 3], and the step
    is 0.707 m_1 with m_1 = 0.2:

    >>> import torch
    >>> x = torch.zeros(1, requires_grad=True)
    >>> optimizer = AdaBound([x], lr=1.0, betas=(0.9, 0.5), final_lr=None, form="paper")
    >>> x.grad = torch.tensor([2.0])
    >>> optimizer.step()
    >>> round(x.item(), 4)
    -0.1414
    """

    running_max = False

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        final_lr: float | None = 0.1,
        gamma: float | None = None,
        eps: float | None = None,
        *,
        form: str = "code",
        bounds=None,
        foreach=None,
        fused=None,
    ):
        if form not in ADABOUND_FORMS:
            raise ValueError(f"form must be one of {ADABOUND_FORMS}, got {form!r}")
        betas = _check_betas(betas)
        paper = form == "paper"
        if check_lr(lr) == 0.0:
            raise ValueError(
                f"lr must be > 0 for {type(self).__name__}: its bounds scale with lr / initial lr, got 0.0"
            )
        final_lr = float(lr) if final_lr is None else check_lr(final_lr, "final_lr")
        if gamma is None:
            gamma = 1.0 - betas[1] if paper else 1e-3
        if not (
            isinstance(gamma, (int, float))
            and not isinstance(gamma, bool)
            and 0.0 < gamma < 1.0
        ):
            raise ValueError(f"gamma must be a number in (0, 1), got {gamma!r}")
        eps = (0.0 if paper else 1e-8) if eps is None else check_eps(eps)
        super().__init__(
            params,
            lr,
            eps=0.0,
            bounds=bounds,
            foreach=foreach,
            fused=fused,
            defaults=dict(
                betas=betas,
                final_lr=final_lr,
                gamma=float(gamma),
                rate_eps=eps,
                form=form,
                # read, not set: the code form divides by 1 - beta^t, the paper form does not
                bias_correction=not paper,
            ),
        )

    def add_param_group(self, param_group: dict) -> None:
        super().add_param_group(param_group)
        # the bounds follow lr / (the group's first lr), as in the authors' code
        self.param_groups[-1].setdefault("base_lr", self.param_groups[-1]["lr"])

    def rules(self, group):
        beta1, beta2 = group["betas"]
        paper = group["form"] == "paper"
        v = MovingAverageOfSquares(beta2)
        psi = BoundedLearningRate(
            RunningMax(v) if self.running_max else v,
            beta1=beta1,
            final_lr=group["final_lr"],
            base_lr=group["base_lr"],
            gamma=group["gamma"],
            eps=group["rate_eps"],
            bias_correction=not paper,
        )
        return Rules(
            phi=MovingAverage(beta1),
            psi=psi,
            alpha=_STEPS["inv_sqrt" if paper else "constant"],
        )


class AMSBound(AdaBound):
    """AMSBound (Luo et al., 2019, Algorithm 3): AdaBound's clip around AMSGrad's max.

    :class:`AdaBound` with vhat_t = max(vhat_{t-1}, v_t) in place of v_t in the clipped
    learning rate: eta_t = clip(lr / (sqrt(vhat_t) + eps), eta_l(t), eta_u(t)) in the
    paper form, clip(lr sqrt(1 - beta2^t) / ((1 - beta1^t)(sqrt(vhat_t) + eps)), ...) in
    the code form.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimise, or parameter groups (dicts with ``"params"`` and
        per-group hyperparameters), as for any ``torch.optim.Optimizer``.
    lr : float, default 1e-3
        The step size alpha; finite and > 0 (the bounds scale with lr / initial lr).
    betas : (float, float), default (0.9, 0.999)
        (beta1, beta2), each in [0, 1).
    final_lr : float or None, default 0.1
        eta* at the initial lr, finite and >= 0; None makes eta* = lr.
    gamma : float or None, default None
        The speed at which the bounds close, in (0, 1); None is 1e-3 in the code form
        and 1 - beta2 in the paper form.
    eps : float or None, default None
        Added to sqrt(vhat_t) inside the clip; finite, >= 0; None is 1e-8 in the code
        form and 0 in the paper form.
    form : {"code", "paper"}, default "code"
        The authors' code or the paper's Algorithm 3.
    bounds : (float, float) or None, default None
        The box F = [lo, hi]^d onto which each step projects (lo < hi), or None for R^d.
    foreach, fused : bool or None, default None
        The code path: ``torch._foreach_*`` kernels (the default), or one compiled
        kernel per tensor (``fused=True``); not both True.

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type (the message names it).
    ValueError
        If a hyperparameter is out of its range (the message names it, its value and the
        range).

    Examples
    --------
    After g = 2, 0 with beta2 = 0.5, v_2 = 1 but vhat_2 = 2: the second step is smaller
    than AdaBound's (which ends at -0.2687 here):

    >>> import torch
    >>> x = torch.zeros(1, requires_grad=True)
    >>> optimizer = AMSBound([x], lr=1.0, betas=(0.9, 0.5), final_lr=None, form="paper")
    >>> for g in (2.0, 0.0):
    ...     x.grad = torch.tensor([g])
    ...     optimizer.step()
    >>> round(x.item(), 4)
    -0.2314
    """

    running_max = True


class AdaBelief(GenericAdaptive):
    """AdaBelief (Zhuang, Tang, Ding, Tatikonda, Dvornek, Papademetris & Duncan, 2020).

    Algorithm 2 of the paper: Adam with the second moment of g_t - m_t::

        m_t = beta1 m_{t-1} + (1 - beta1) g_t,
        s_t = beta2 s_{t-1} + (1 - beta2)(g_t - m_t)^2 + eps,
        x_{t+1} = Pi_F(x_t - alpha_t mhat_t / (sqrt(shat_t) + eps)),
        mhat_t = m_t / (1 - beta1^t),   shat_t = s_t / (1 - beta2^t).

    eps enters twice, inside s_t and in the denominator, as in the paper and the
    authors' code (whose default eps = 1e-16 is the default here).
    ``bias_correction=False`` drops both 1 - beta^t.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimise, or parameter groups (dicts with ``"params"`` and
        per-group hyperparameters), as for any ``torch.optim.Optimizer``.
    lr : float, default 1e-3
        The step size alpha (alpha_t = lr / sqrt(t) with ``step="inv_sqrt"``);
        finite, >= 0.
    betas : (float, float), default (0.9, 0.999)
        (beta1, beta2), each in [0, 1).
    eps : float, default 1e-16
        Added to s_t and to sqrt(s_t) in the denominator; finite, >= 0.
    bias_correction : bool, default True
        Divide m_t by 1 - beta1^t and s_t by 1 - beta2^t.
    step : {"constant", "inv_sqrt"}, default "constant"
        alpha_t = lr, or alpha_t = lr / sqrt(t) as in the paper's analysis.
    bounds : (float, float) or None, default None
        The box F = [lo, hi]^d onto which each step projects (lo < hi), or None for R^d.
    foreach, fused : bool or None, default None
        The code path: ``torch._foreach_*`` kernels (the default), or one compiled
        kernel per tensor (``fused=True``); not both True.

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type (the message names it).
    ValueError
        If a hyperparameter is out of its range (the message names it, its value and the
        range).

    Examples
    --------
    m_1 = 0.2, so s_1 = (1 - beta2)(2 - 0.2)^2: corrected, the first step is
    lr * 2 / 1.8:

    >>> import torch
    >>> x = torch.zeros(1, requires_grad=True)
    >>> optimizer = AdaBelief([x], lr=0.1)
    >>> x.grad = torch.tensor([2.0])
    >>> optimizer.step()
    >>> round(x.item(), 4)
    -0.1111
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        *,
        bias_correction: bool = True,
        step: str = "constant",
        bounds=None,
        foreach=None,
        fused=None,
    ):
        betas = _check_betas(betas)
        super().__init__(
            params,
            lr,
            eps=eps,
            bounds=bounds,
            foreach=foreach,
            fused=fused,
            defaults=dict(
                betas=betas,
                bias_correction=_check_flag(bias_correction, "bias_correction"),
                step=_check_step(step),
            ),
        )

    def rules(self, group):
        beta1, beta2 = group["betas"]
        phi, psi = MovingAverage(beta1), BeliefSquares(beta2, group["eps"])
        if group["bias_correction"]:
            phi, psi = Debiased(phi), Debiased(psi)
        return Rules(phi=phi, psi=psi, alpha=_STEPS[group["step"]])


class RAdam(GenericAdaptive):
    """RAdam (Liu, Jiang, He, Chen, Liu, Gao & Han, 2020): a rectified learning rate.

    With mhat_t = m_t / (1 - beta1^t), rho_inf = 2 / (1 - beta2) - 1 and
    rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)::

        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)),
        x_{t+1} = Pi_F(x_t - alpha_t mhat_t r_t sqrt(1 - beta2^t) / (sqrt(v_t) + eps))
                                                                       if rho_t > 5,
        x_{t+1} = Pi_F(x_t - alpha_t mhat_t)   (momentum SGD)        otherwise,

    while the variance of the adaptive rate is not defined.  Always bias-corrected.
    ``RAdam(params, lr, betas, eps) == torch.optim.RAdam(params, lr, betas, eps)``.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimise, or parameter groups (dicts with ``"params"`` and
        per-group hyperparameters), as for any ``torch.optim.Optimizer``.
    lr : float, default 1e-3
        The step size alpha (alpha_t = lr / sqrt(t) with ``step="inv_sqrt"``);
        finite, >= 0.
    betas : (float, float), default (0.9, 0.999)
        (beta1, beta2), each in [0, 1).
    eps : float, default 1e-8
        Added to sqrt(v_t) before the rectification; finite, >= 0.
    step : {"constant", "inv_sqrt"}, default "constant"
        alpha_t = lr, or alpha_t = lr / sqrt(t) as in the paper's analysis.
    bounds : (float, float) or None, default None
        The box F = [lo, hi]^d onto which each step projects (lo < hi), or None for R^d.
    foreach, fused : bool or None, default None
        The code path: ``torch._foreach_*`` kernels (the default), or one compiled
        kernel per tensor (``fused=True``); not both True.

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type (the message names it).
    ValueError
        If a hyperparameter is out of its range (the message names it, its value and the
        range).

    Examples
    --------
    With beta2 = 0.999, rho_t <= 5 for the first five steps: they are momentum SGD,
    whose first step is lr * mhat_1 = lr g_1:

    >>> import torch
    >>> x = torch.zeros(1, requires_grad=True)
    >>> optimizer = RAdam([x], lr=0.1)
    >>> x.grad = torch.tensor([2.0])
    >>> optimizer.step()
    >>> round(x.item(), 4)
    -0.2
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        *,
        step: str = "constant",
        bounds=None,
        foreach=None,
        fused=None,
    ):
        betas = _check_betas(betas)
        super().__init__(
            params,
            lr,
            eps=0.0,
            bounds=bounds,
            foreach=foreach,
            fused=fused,
            # bias_correction is read, not set: RAdam always divides by 1 - beta^t
            defaults=dict(betas=betas, rate_eps=check_eps(eps), step=_check_step(step), bias_correction=True),
        )

    def rules(self, group):
        beta1, beta2 = group["betas"]
        return Rules(
            phi=Debiased(MovingAverage(beta1)),
            psi=Rectified(MovingAverageOfSquares(beta2), group["rate_eps"]),
            alpha=_STEPS[group["step"]],
        )


class NAdam(GenericAdaptive):
    """NAdam (Dozat, 2016): Adam with Nesterov momentum in the first moment.

    With the momentum schedule mu_t = beta1 (1 - 0.5 * 0.96^(t psi)), psi =
    ``momentum_decay``, as ``torch.optim.NAdam`` computes it::

        m_t = beta1 m_{t-1} + (1 - beta1) g_t,
        phi_t = (1 - mu_t) / (1 - prod_{i<=t} mu_i) g_t
                + mu_{t+1} / (1 - prod_{i<=t+1} mu_i) m_t,
        x_{t+1} = Pi_F(x_t - alpha_t phi_t / (sqrt(v_t / (1 - beta2^t)) + eps)),

    phi the look-ahead of :class:`~adaptive_methods.framework.NesterovMomentum`, v_t
    Adam's.  ``NAdam(params, lr, betas, eps, momentum_decay) ==
    torch.optim.NAdam(params, lr, betas, eps, momentum_decay=momentum_decay)``.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimise, or parameter groups (dicts with ``"params"`` and
        per-group hyperparameters), as for any ``torch.optim.Optimizer``.
    lr : float, default 2e-3
        The step size alpha (alpha_t = lr / sqrt(t) with ``step="inv_sqrt"``);
        finite, >= 0.
    betas : (float, float), default (0.9, 0.999)
        (beta1, beta2), each in [0, 1).
    eps : float, default 1e-8
        Added to sqrt(v_t / (1 - beta2^t)) in the denominator; finite, >= 0.
    momentum_decay : float, default 4e-3
        psi of the schedule mu_t (:data:`NADAM_MOMENTUM_DECAY`); finite, >= 0.
    step : {"constant", "inv_sqrt"}, default "constant"
        alpha_t = lr, or alpha_t = lr / sqrt(t) as in the paper's analysis.
    bounds : (float, float) or None, default None
        The box F = [lo, hi]^d onto which each step projects (lo < hi), or None for R^d.
    foreach, fused : bool or None, default None
        The code path: ``torch._foreach_*`` kernels (the default), or one compiled
        kernel per tensor (``fused=True``); not both True.

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type (the message names it).
    ValueError
        If a hyperparameter is out of its range (the message names it, its value and the
        range).

    Examples
    --------
    The first step, as ``torch.optim.NAdam`` takes it:

    >>> import torch
    >>> x = torch.zeros(1, requires_grad=True)
    >>> optimizer = NAdam([x], lr=0.1)
    >>> x.grad = torch.tensor([2.0])
    >>> optimizer.step()
    >>> round(x.item(), 4)
    -0.1056
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        momentum_decay: float = NADAM_MOMENTUM_DECAY,
        *,
        step: str = "constant",
        bounds=None,
        foreach=None,
        fused=None,
    ):
        betas = _check_betas(betas)
        super().__init__(
            params,
            lr,
            eps=eps,
            bounds=bounds,
            foreach=foreach,
            fused=fused,
            defaults=dict(
                betas=betas,
                momentum_decay=check_lr(momentum_decay, "momentum_decay"),
                step=_check_step(step),
                # read, not set: NAdam always divides by 1 - beta^t
                bias_correction=True,
            ),
        )

    def rules(self, group):
        beta1, beta2 = group["betas"]
        return Rules(
            phi=NesterovMomentum(beta1, group["momentum_decay"]),
            psi=Debiased(MovingAverageOfSquares(beta2)),
            alpha=_STEPS[group["step"]],
        )


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019): Adam with a decoupled weight decay.

    ::

        x_{t+1} = Pi_F(x_t - alpha_t (mhat_t / (sqrt(vhat_t) + eps) + lambda x_t)),

    mhat_t and vhat_t Adam's moments (bias-corrected by default), lambda =
    ``weight_decay``: the decay is added after the preconditioning, where an L2 penalty
    would enter g_t and be divided by sqrt(vhat_t) too.
    ``AdamW(params, lr, betas, eps, weight_decay) ==
    torch.optim.AdamW(params, lr, betas, eps, weight_decay)``.

    Parameters
    ----------
    params : iterable of torch.Tensor or of dict
        The parameters to optimise, or parameter groups (dicts with ``"params"`` and
        per-group hyperparameters), as for any ``torch.optim.Optimizer``.
    lr : float, default 1e-3
        The step size alpha (alpha_t = lr / sqrt(t) with ``step="inv_sqrt"``);
        finite, >= 0.
    betas : (float, float), default (0.9, 0.999)
        (beta1, beta2), each in [0, 1).
    eps : float, default 1e-8
        Added to sqrt(vhat_t) in the denominator; finite, >= 0.
    weight_decay : float, default 1e-2
        lambda; finite, >= 0.
    **adam_options
        The keyword arguments of :class:`~adaptive_methods.methods.Adam`
        (``bias_correction``, ``beta1_decay``, ``step``, ``bounds``, ``foreach``,
        ``fused``), checked as there.

    Raises
    ------
    TypeError
        If a hyperparameter has the wrong type (the message names it).
    ValueError
        If a hyperparameter is out of its range (the message names it, its value and the
        range).

    Examples
    --------
    With a zero gradient only the decay moves x: x_2 = x_1 - lr lambda x_1.

    >>> import torch
    >>> x = torch.ones(1, requires_grad=True)
    >>> optimizer = AdamW([x], lr=0.1, weight_decay=0.01)
    >>> x.grad = torch.tensor([0.0])
    >>> optimizer.step()
    >>> round(x.item(), 6)
    0.999
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        **adam_options,
    ):
        weight_decay = check_lr(weight_decay, "weight_decay")
        super().__init__(params, lr, betas, eps, **adam_options)
        for group in self.param_groups:
            group.setdefault("weight_decay", weight_decay)
        self.defaults.update(weight_decay=weight_decay)

    def rules(self, group):
        return dataclasses.replace(
            super().rules(group), post=(DecoupledWeightDecay(group["weight_decay"]),)
        )
