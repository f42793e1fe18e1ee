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
    """Yogi (Zaheer, Reddi, Sachan, Kale & Kumar, 2018, Algorithm 2): Adam whose second
    moment moves additively, v_t = v_{t-1} - (1 - beta2) sign(v_{t-1} - g_t^2) g_t^2.

        x_{t+1} = x_t - alpha_t m_t / (sqrt(v_t) + eps),   m_0 = v_0 = 0.

    The paper's box has no bias correction and recommends eps = 1e-3 (the defaults here);
    ``bias_correction=True`` divides m_t and v_t by 1 - beta^t as Adam does.
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
    """AdaBound (Luo, Xiong, Liu & Sun, 2019): Adam whose learning rate is clipped into
    bounds that close on a final step size eta*,

        eta_l(t) = eta* (1 - 1 / (gamma t + 1)),   eta_u(t) = eta* (1 + 1 / (gamma t)).

    ``form="code"`` (default) is the authors' published PyTorch code: the clipped
    quantity is lr sqrt(1 - beta2^t) / ((1 - beta1^t)(sqrt(v_t) + eps)), it multiplies the
    raw m_t, and eta* = ``final_lr`` lr / (initial lr).  ``form="paper"`` is Algorithm 2 of
    the paper: eta = clip(alpha / sqrt(v_t), eta_l(t), eta_u(t)), x_{t+1} = Pi_F(x_t -
    eta / sqrt(t) m_t), no bias correction, eps = 0 by default.  ``final_lr=None`` makes
    eta* = lr; ``gamma=None`` is 1e-3 in the code form and 1 - beta2 in the paper form (the
    bounds of the paper's experiments).  AMSBound is :class:`AMSBound`.
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
    """AMSBound (Luo et al., 2019, Algorithm 3): AdaBound's clip around AMSGrad's running
    max, vhat_t = max(vhat_{t-1}, v_t).  Arguments as :class:`AdaBound`."""

    running_max = True


class AdaBelief(GenericAdaptive):
    """AdaBelief (Zhuang, Tang, Ding, Tatikonda, Dvornek, Papademetris & Duncan, 2020,
    Algorithm 2): Adam with the second moment of g_t - m_t,

        s_t = beta2 s_{t-1} + (1 - beta2)(g_t - m_t)^2 + eps,
        x_{t+1} = Pi_F(x_t - alpha m_t / (1 - beta1^t) / (sqrt(s_t / (1 - beta2^t)) + eps)).

    eps enters twice, inside s_t and in the denominator, as in the paper and the authors'
    code (whose default eps = 1e-16 is the default here).  ``bias_correction=False`` drops
    both 1 - beta^t.
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
    """RAdam (Liu, Jiang, He, Chen, Liu, Gao & Han, 2020): Adam whose adaptive learning
    rate is multiplied by the variance rectification r_t, and momentum SGD for the first
    steps, while the variance of the adaptive rate is not defined (rho_t <= 5).
    ``RAdam(params, lr, betas, eps) == torch.optim.RAdam(params, lr, betas, eps)``.
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
    """NAdam (Dozat, 2016): Adam with Nesterov momentum, phi = the look-ahead of
    :class:`~adaptive_methods.framework.NesterovMomentum`.
    ``NAdam(params, lr, betas, eps, momentum_decay) == torch.optim.NAdam(params, lr, betas,
    eps, momentum_decay=momentum_decay)``.
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
    """AdamW (Loshchilov & Hutter, 2019): Adam and a weight decay decoupled from the
    gradient, x_{t+1} = x_t - alpha_t (mhat_t / (sqrt(vhat_t) + eps) + lambda x_t).
    ``AdamW(params, lr, betas, eps, weight_decay) == torch.optim.AdamW(params, lr, betas, eps,
    weight_decay)``; the other arguments are :class:`~adaptive_methods.methods.Adam`'s.
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
