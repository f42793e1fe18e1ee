"""The rules of the methods that followed AMSGrad, in the same pipeline as the paper's.

Each is one change of Algorithm 1's phi or psi, or one transform of the preconditioned
direction:

* :class:`SignControlledSquares` -- Yogi's psi (Zaheer et al., 2018): an additive
  v_t = v_{t-1} - (1 - beta2) sign(v_{t-1} - g_t^2) g_t^2;
* :class:`BeliefSquares` -- AdaBelief's psi (Zhuang et al., 2020): the moving average of
  (g_t - m_t)^2 plus eps; the only rule that reads this step's m_t;
* :class:`BoundedLearningRate` -- AdaBound's and AMSBound's psi (Luo et al., 2019): sqrt(V_t)
  chosen so that the learning rate is clipped into [eta_l(t), eta_u(t)];
* :class:`Rectified` -- RAdam's psi (Liu et al., 2020): the variance rectification r_t,
  and V_t = I (momentum SGD) while the rectification is undefined;
* :class:`NesterovMomentum` -- NAdam's phi (Dozat, 2016): Nesterov's look-ahead with
  the momentum schedule mu_t;
* :class:`DecoupledWeightDecay` -- AdamW's transform (Loshchilov & Hutter, 2019).

The learning-rate changes (the clip of AdaBound, the rectification of RAdam) are written
as second moments, not as transforms: the learning rate of Algorithm 1 is
alpha_t / sqrt(V_t), so a rule that sets the learning rate sets sqrt(V_t), and Gamma_t
(:meth:`~adaptive_methods.framework.GenericAdaptive.inverse_learning_rates`) then sees the
learning rate the method really uses.  Such a rule takes eps itself (the group's eps is 0),
because the published updates put eps inside the quantity they clip or rectify.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .rules import MomentRule, StepContext, Transform, _Wrapper
from .validation import check_beta, check_eps, check_lr

__all__ = [
    "SignControlledSquares",
    "BeliefSquares",
    "BoundedLearningRate",
    "Rectified",
    "NesterovMomentum",
    "DecoupledWeightDecay",
]


def _constant_beta(beta, name: str) -> float:
    if callable(beta):
        raise TypeError(f"{name} must be a number for this rule, got a callable")
    return check_beta(beta, name)


def _as_tensor(number, like: Tensor) -> Tensor:
    """A number as a 0-d tensor (a 0-d tensor as it is): number / tensor as one division,
    where Python's number / tensor multiplies by the reciprocal."""
    return number if isinstance(number, Tensor) else torch.tensor(number, dtype=like.dtype, device=like.device)


class SignControlledSquares(MomentRule):
    """Yogi's psi: v_t = v_{t-1} - (1 - beta2) sign(v_{t-1} - g_t^2) g_t^2, v_0 = 0.

    Adam's v_t moves by (1 - beta2)(g_t^2 - v_{t-1}), a step proportional to the gap;
    Yogi's moves by (1 - beta2) g_t^2 in the direction of the gap.  When v_{t-1} is much
    larger than g_t^2, Adam's v_t shrinks by the factor beta2 per step and the learning
    rate grows fast; Yogi's shrinks by at most (1 - beta2) g_t^2.  v_t stays >= 0.

    Parameters
    ----------
    beta : float
        beta2, a constant in [0, 1).
    buffer : str, default "exp_avg_sq"
        The name of the state buffer holding v_t.

    Raises
    ------
    TypeError
        If ``beta`` is a schedule or not a real number.
    ValueError
        If ``beta`` is outside [0, 1).

    Examples
    --------
    After g_1 = 2, a small g_2 = 0.5 takes (1 - beta2) g_2^2 = 0.125 off v_1 = 2 (Adam's
    v_2 would be 1.125):

    >>> from adaptive_methods.framework import LastGradient
    >>> psi = SignControlledSquares(0.5)
    >>> state = psi.init(torch.zeros(1))
    >>> for t, g in enumerate([2.0, 0.5], start=1):
    ...     v = psi.apply(torch.tensor([g]), state, StepContext(t, LastGradient()))
    >>> v.tolist()
    [1.875]
    """

    _fields = ("beta",)

    def __init__(self, beta: float, buffer: str = "exp_avg_sq"):
        self.beta = _constant_beta(beta, "beta2")
        self.buffers = (buffer,)

    def coefficients(self, ctx):
        return (1.0 - self.beta,)

    def update(self, grad, state, coef, ctx):
        (one_minus_beta,) = coef
        v, square = state[self.buffers[0]], grad * grad
        return v.sub_((v - square).sign_() * square * one_minus_beta)

    def apply_foreach(self, grads, states, ctx):
        vs = [s[self.buffers[0]] for s in states]
        squares = torch._foreach_mul(grads, grads)
        signs = torch._foreach_sub(vs, squares)
        torch._foreach_sign_(signs)
        torch._foreach_addcmul_(vs, signs, squares, -(1.0 - self.beta))
        return vs, 1.0


class BeliefSquares(MomentRule):
    """AdaBelief's psi: s_t = beta2 s_{t-1} + (1 - beta2)(g_t - m_t)^2 + eps, s_0 = 0.

    m_t is this step's first moment as stored by phi (the moving average before any bias
    correction, as in the algorithm box of Zhuang et al.): the second moment of the
    gradient's deviation from its prediction, its "belief", instead of Adam's g_t^2.

    Parameters
    ----------
    beta : float
        beta2, a constant in [0, 1).
    eps : float
        Added to s_t at every step (part of AdaBelief's recurrence); finite, >= 0.
    buffer : str, default "exp_avg_var"
        The name of the state buffer holding s_t.

    Raises
    ------
    TypeError
        If ``beta`` is a schedule or not a real number, or ``eps`` is not a real number;
        at a step, if the first moment rule stores no m_t (:class:`LastGradient`).
    ValueError
        If ``beta`` is outside [0, 1), or ``eps`` is negative or not finite.

    Examples
    --------
    m_1 = 0.5 g_1 = 1, so s_1 = 0.5 (g_1 - m_1)^2 = 0.5:

    >>> from adaptive_methods.framework import MovingAverage
    >>> phi, psi = MovingAverage(0.5), BeliefSquares(0.5, eps=0.0)
    >>> state = {**phi.init(torch.zeros(1)), **psi.init(torch.zeros(1))}
    >>> ctx = StepContext(1, phi)
    >>> ctx.m = phi.apply(torch.tensor([2.0]), state, ctx)
    >>> psi.apply(torch.tensor([2.0]), state, ctx).tolist()
    [0.5]
    """

    _fields = ("beta", "eps")

    def __init__(self, beta: float, eps: float, buffer: str = "exp_avg_var"):
        self.beta = _constant_beta(beta, "beta2")
        self.eps = check_eps(eps)
        self.buffers = (buffer,)

    def coefficients(self, ctx):
        # eps is a coefficient, not an attribute read in update: the compiled step would
        # specialize on its value and compile again for every eps
        return (self.beta, 1.0 - self.beta, self.eps)

    def update(self, grad, state, coef, ctx):
        beta, one_minus_beta, eps = coef
        m = ctx.phi.current(state, ctx.t)[0]
        if m is None:
            raise TypeError(f"BeliefSquares needs a first moment that is stored (a moving average), got {ctx.phi!r}")
        residual = grad - m
        s = state[self.buffers[0]].mul_(beta).addcmul_(residual, residual * one_minus_beta)
        return s.add_(eps)

    def apply_foreach(self, grads, states, ctx):
        ms = [ctx.phi.current(s, ctx.t)[0] for s in states]
        if any(m is None for m in ms):
            raise TypeError(
                "BeliefSquares needs a first moment that is stored "
                f"(a moving average), got {ctx.phi!r}"
            )
        ss = [s[self.buffers[0]] for s in states]
        residuals = torch._foreach_sub(grads, ms)
        torch._foreach_mul_(ss, self.beta)
        torch._foreach_addcmul_(ss, residuals, residuals, 1.0 - self.beta)
        if self.eps:
            torch._foreach_add_(ss, self.eps)
        return ss, 1.0


class BoundedLearningRate(_Wrapper):
    """AdaBound's (and, around a running max, AMSBound's) psi: the learning rate clipped,

        eta_t = clip(c_t lr / (sqrt(v_t) + eps), eta_l(t), eta_u(t)),
        eta_l(t) = eta* (1 - 1 / (gamma t + 1)),   eta_u(t) = eta* (1 + 1 / (gamma t)),

    returned as the V_t whose learning rate it is: sqrt(V_t) = lr / eta_t, so that
    Algorithm 1's step lr m_t / sqrt(V_t) is eta_t m_t.  v_t is the wrapped rule's moment;
    c_t = sqrt(1 - beta2^t) / (1 - beta1^t) with ``bias_correction`` (Luo et al.'s code,
    where the clip sees the bias-corrected step) and 1 without (their Algorithm 2, whose
    alpha_t = alpha / sqrt(t) then scales the clipped rate).  eta* is ``final_lr`` times
    lr / ``base_lr``, so that a learning-rate scheduler moves the bounds with lr.  The
    first moment must be the raw moving average (the correction is in c_t).  sqrt(V_t) is
    kept in a buffer: the learning rate of the step, which Gamma_t reads.

    Parameters
    ----------
    inner : MomentRule
        The second moment v_t (a :class:`MovingAverageOfSquares`, or a
        :class:`RunningMax` of one for AMSBound); with ``bias_correction`` its beta is
        the beta2 of c_t.
    final_lr : float
        eta* at lr = ``base_lr``: the rate both bounds tend to; finite, >= 0.
    base_lr : float
        The lr at which the bounds are ``final_lr``'s; finite, > 0.
    gamma : float
        The speed at which the bounds close; finite, > 0.
    eps : float
        Added to sqrt(v_t) before the clip; finite, >= 0.
    bias_correction : bool
        Whether c_t corrects the step (needs ``beta1``).
    beta1 : float or None, default None
        The constant beta1 of the first moment, in [0, 1); needed with
        ``bias_correction``.
    buffer : str, default "bounded_sqrt_v"
        The name of the state buffer holding sqrt(V_t).

    Raises
    ------
    TypeError
        If ``inner`` is not a MomentRule, a number has the wrong type, ``beta1`` is a
        schedule, or ``bias_correction`` is set without ``beta1``.
    ValueError
        If a number is out of its range (the message names it, its value and the range).

    Examples
    --------
    At t = 1 with gamma = 1 the bounds are [eta*/2, 2 eta*]; the second coordinate's
    rate lr / sqrt(v_1) = 7.07 is clipped to 0.2:

    >>> from adaptive_methods.framework import LastGradient, MovingAverageOfSquares
    >>> psi = BoundedLearningRate(MovingAverageOfSquares(0.5), final_lr=0.1,
    ...                           base_lr=0.1, gamma=1.0, eps=0.0,
    ...                           bias_correction=False)
    >>> [round(bound, 6) for bound in psi.bounds(1, lr=0.1)]
    [0.05, 0.2]
    >>> state = psi.init(torch.zeros(2))
    >>> ctx = StepContext(1, LastGradient(), lr=0.1)
    >>> v = psi.apply(torch.tensor([2.0, 0.02]), state, ctx)
    >>> [round(rate, 4) for rate in (0.1 / v.sqrt()).tolist()]
    [0.0707, 0.2]
    """

    _fields = ("inner", "final_lr", "gamma", "eps", "bias_correction")

    def __init__(
        self,
        inner: MomentRule,
        *,
        final_lr: float,
        base_lr: float,
        gamma: float,
        eps: float,
        bias_correction: bool,
        beta1: float | None = None,
        buffer: str = "bounded_sqrt_v",
    ):
        super().__init__(inner)
        if bias_correction and beta1 is None:
            raise TypeError(
                "bias_correction=True needs beta1: the clip sees the step corrected by 1 - beta1^t"
            )
        self.beta1 = None if beta1 is None else _constant_beta(beta1, "beta1")
        self.final_lr = check_lr(final_lr, "final_lr")
        self.base_lr = check_lr(base_lr, "base_lr")
        if self.base_lr == 0.0:
            raise ValueError(
                "base_lr must be > 0: AdaBound's bounds scale with lr / base_lr"
            )
        self.gamma = check_lr(gamma, "gamma")
        if self.gamma == 0.0:
            raise ValueError("gamma must be > 0: with gamma = 0 the bounds never close")
        self.eps = check_eps(eps)
        self.bias_correction = bias_correction
        self.buffer = buffer

    @property
    def buffers(self):
        return self.inner.buffers + (self.buffer,)

    def init(self, param):
        return {
            **self.inner.init(param),
            self.buffer: torch.zeros_like(param, memory_format=torch.preserve_format),
        }

    def bounds(self, t: int, lr: float) -> tuple[float, float]:
        """(eta_l(t), eta_u(t)) at step t for the group's current lr."""
        final = self.final_lr * lr / self.base_lr
        return final * (1.0 - 1.0 / (self.gamma * t + 1.0)), final * (
            1.0 + 1.0 / (self.gamma * t)
        )

    @property
    def compilable(self):
        return self.inner.compilable

    def coefficients(self, ctx):
        t, lr = ctx.t, ctx.lr
        scale = lr
        if self.bias_correction:
            scale = lr * math.sqrt(1.0 - self.beta**t) / (1.0 - self.beta1**t)
        return (*self.inner.coefficients(ctx), scale, *self.bounds(t, lr), lr, self.eps)

    def update(self, grad, state, coef, ctx):
        *inner, scale, low, high, lr, eps = coef
        denom = self.inner.update(grad, state, tuple(inner), ctx).sqrt() + eps
        rate = torch.div(_as_tensor(scale, denom), denom).clamp_(low, high)
        sqrt_v = state[self.buffer]
        sqrt_v.copy_(torch.div(_as_tensor(lr, denom), rate))
        return sqrt_v * sqrt_v

    root_positive = True  # lr / eta_t with eta_t <= eta_u(t) finite and lr > 0

    def root_foreach(self, grads, states, ctx):
        vs, divisor = self.inner.apply_foreach(grads, states, ctx)
        t, lr = ctx.t, ctx.lr
        scale = lr
        if self.bias_correction:
            scale = lr * math.sqrt(1.0 - self.beta**t) / (1.0 - self.beta1**t)
        denom = torch._foreach_sqrt(vs)
        if divisor != 1.0:
            torch._foreach_div_(denom, math.sqrt(divisor))
        if self.eps:
            torch._foreach_add_(denom, self.eps)
        low, high = self.bounds(t, lr)
        # scale / 0 = inf: clipped to eta_u(t)
        scale, lr = (torch.tensor(x, dtype=denom[0].dtype, device=denom[0].device) for x in (scale, lr))
        sqrt_vs = [s[self.buffer] for s in states]
        for sqrt_v, d in zip(sqrt_vs, denom):
            torch.div(lr, torch.div(scale, d, out=d).clamp_(low, high), out=sqrt_v)
        return sqrt_vs

    def apply_foreach(self, grads, states, ctx):
        sqrt_vs = self.root_foreach(grads, states, ctx)
        return torch._foreach_mul(sqrt_vs, sqrt_vs), 1.0

    def current(self, state, t):
        sqrt_v = state[self.buffer]
        return sqrt_v * sqrt_v, 1.0


class Rectified(_Wrapper):
    """RAdam's psi: the adaptive learning rate times the variance rectification r_t,

        rho_inf = 2 / (1 - beta2) - 1,   rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t),
        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)),
        sqrt(V_t) = (sqrt(v_t) + eps) / (r_t sqrt(1 - beta2^t))   if rho_t > 5,
        V_t = I (momentum SGD)                                   otherwise.

    The wrapped rule is the raw moving average v_t of g_t^2 (PyTorch adds eps before the
    bias correction sqrt(1 - beta2^t), and so does this rule).

    Parameters
    ----------
    inner : MomentRule
        The raw moving average v_t of g_t^2: a :class:`MovingAverageOfSquares` with a
        constant beta2 in [0, 1), not bias-corrected.
    eps : float
        Added to sqrt(v_t); finite, >= 0.

    Raises
    ------
    TypeError
        If ``inner`` is not a MomentRule, has no beta or a scheduled one, or ``eps`` is
        not a real number; at a step, if ``inner`` gives a divisor (a bias correction).
    ValueError
        If ``eps`` is negative or not finite.

    Examples
    --------
    With beta2 = 0.999 the adaptive step starts at t = 6 (rho_t > 5):

    >>> from adaptive_methods.framework import MovingAverageOfSquares
    >>> psi = Rectified(MovingAverageOfSquares(0.999), eps=0.0)
    >>> [psi.rectification(t) is None for t in (1, 5, 6)]
    [True, True, False]
    """

    _fields = ("inner", "eps")

    def __init__(self, inner: MomentRule, eps: float):
        super().__init__(inner)
        self.beta2 = _constant_beta(self.beta, "beta2")
        self.eps = check_eps(eps)

    def rectification(self, t: int) -> float | None:
        """r_t sqrt(1 - beta2^t), or None while rho_t <= 5 (no adaptive step yet)."""
        b2 = self.beta2
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        correction = 1.0 - b2**t
        rho_t = rho_inf - 2.0 * t * (b2**t) / correction
        if not rho_t > 5.0:
            return None
        r = (
            (rho_t - 4)
            * (rho_t - 2)
            * rho_inf
            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        ) ** 0.5
        return r * correction**0.5

    @property
    def compilable(self):
        return self.inner.compilable

    def coefficients(self, ctx):
        factor = self.rectification(ctx.t)
        # (1, factor) once the rectification is defined, (0, 1) while V_t = I
        return (*self.inner.coefficients(ctx), 0.0 if factor is None else 1.0, factor or 1.0, self.eps)

    def update(self, grad, state, coef, ctx):
        *inner, adaptive, factor, eps = coef
        root = (self.inner.update(grad, state, tuple(inner), ctx).sqrt() + eps) / factor
        # adaptive is 1 or 0: V_t or I, exactly, without a branch the compiler would guard on
        return root * root * adaptive + (1.0 - adaptive)

    def _root(self, vs: list[Tensor], t: int) -> list[Tensor] | None:
        factor = self.rectification(t)
        if factor is None:
            return None
        denom = torch._foreach_sqrt(vs)
        if self.eps:
            torch._foreach_add_(denom, self.eps)
        torch._foreach_div_(denom, factor)
        return denom

    def _second_moment(self, vs: list[Tensor], t: int) -> list[Tensor]:
        denom = self._root(vs, t)
        if denom is None:
            return [torch.ones_like(v) for v in vs]
        return torch._foreach_mul(denom, denom)

    def _raw_average(self, grads, states, ctx) -> list[Tensor]:
        vs, divisor = self.inner.apply_foreach(grads, states, ctx)
        if divisor != 1.0:
            raise TypeError(
                f"Rectified needs the raw moving average of g^2 inside, got {self.inner!r}"
            )
        return vs

    def root_foreach(self, grads, states, ctx):
        return self._root(self._raw_average(grads, states, ctx), ctx.t)

    @property
    def root_positive(self) -> bool:
        return self.eps > 0

    def apply_foreach(self, grads, states, ctx):
        return self._second_moment(self._raw_average(grads, states, ctx), ctx.t), 1.0

    def current(self, state, t):
        v, _ = self.inner.current(state, t)
        return self._second_moment([v], t)[0], 1.0


class NesterovMomentum(MomentRule):
    """NAdam's phi (Dozat, 2016, as ``torch.optim.NAdam`` computes it):

        mu_t = beta1 (1 - 0.5 * 0.96^(t psi)),   m_t = beta1 m_{t-1} + (1 - beta1) g_t,
        phi_t = (1 - mu_t) / (1 - prod_{i<=t} mu_i) g_t + mu_{t+1} / (1 - prod_{i<=t+1} mu_i) m_t,

    with psi = ``momentum_decay``: the gradient of this step and the momentum of the next
    (Nesterov's look-ahead), each with its own bias correction.  The products of mu depend
    on t only; they are computed once, in float64.

    Parameters
    ----------
    beta : float
        beta1, a constant in [0, 1).
    momentum_decay : float
        psi of the schedule mu_t (PyTorch's default is 0.004); finite, >= 0.
    buffer : str, default "exp_avg"
        The name of the state buffer holding m_t.

    Raises
    ------
    TypeError
        If ``beta`` is a schedule or not a real number, or ``momentum_decay`` is not a
        real number.
    ValueError
        If ``beta`` is outside [0, 1), or ``momentum_decay`` is negative or not finite.

    Examples
    --------
    >>> phi = NesterovMomentum(0.9, momentum_decay=0.004)
    >>> [round(w, 4) for w in phi.weights(1)]  # of g_1 and of m_1
    [1.0, 0.5645]
    """

    _fields = ("beta", "momentum_decay")

    def __init__(self, beta: float, momentum_decay: float, buffer: str = "exp_avg"):
        self.beta = _constant_beta(beta, "beta1")
        self.momentum_decay = check_lr(momentum_decay, "momentum_decay")
        self.buffers = (buffer,)
        self._products = [1.0]

    def mu(self, t: int) -> float:
        """mu_t = beta1 (1 - 0.5 * 0.96^(t psi)), the momentum of step t."""
        return self.beta * (1.0 - 0.5 * 0.96 ** (t * self.momentum_decay))

    def product(self, t: int) -> float:
        """prod_{i<=t} mu_i, multiplied up in the order PyTorch does."""
        while len(self._products) <= t:
            self._products.append(self._products[-1] * self.mu(len(self._products)))
        return self._products[t]

    def weights(self, t: int) -> tuple[float, float]:
        """The weights of g_t and of m_t in phi_t."""
        mu, mu_next = self.mu(t), self.mu(t + 1)
        return (1.0 - mu) / (1.0 - self.product(t)), mu_next / (
            1.0 - self.product(t) * mu_next
        )

    def coefficients(self, ctx):
        return (1.0 - self.beta, *self.weights(ctx.t))

    def update(self, grad, state, coef, ctx):
        one_minus_beta, of_gradient, of_momentum = coef
        m = state[self.buffers[0]].lerp_(grad, one_minus_beta)
        return m * of_momentum + grad * of_gradient

    def apply_foreach(self, grads, states, ctx):
        ms = [s[self.buffers[0]] for s in states]
        torch._foreach_lerp_(ms, grads, 1.0 - self.beta)
        of_gradient, of_momentum = self.weights(ctx.t)
        # of_momentum m + of_gradient g = s lerp(m, g, of_gradient / s), s = the two weights'
        # sum: one pass over the tensors instead of two, and s joins the step's scalar
        s = of_momentum + of_gradient
        return torch._foreach_lerp(ms, grads, of_gradient / s), 1.0 / s


class DecoupledWeightDecay(Transform):
    """AdamW's weight decay, decoupled from the gradient (Loshchilov & Hutter, 2019):

        x_{t+1} = x_t - alpha_t (u_t + lambda x_t),

    i.e. the direction u_t gains lambda x_t after the preconditioning, where Adam with
    an L2 penalty would add lambda x_t to g_t before it (and divide it by sqrt(V_t)
    too).

    Parameters
    ----------
    weight_decay : float
        lambda, finite, >= 0.

    Raises
    ------
    TypeError
        If ``weight_decay`` is not a real number.
    ValueError
        If ``weight_decay`` is negative or not finite.

    Examples
    --------
    With a zero gradient only the decay moves x: x_2 = 1 - 0.1 * 0.5 * 1:

    >>> from adaptive_methods.framework import GenericAdaptive, Identity, LastGradient
    >>> x = torch.ones(1, requires_grad=True)
    >>> optimizer = GenericAdaptive([x], lr=0.1, phi=LastGradient(), psi=Identity(),
    ...                             post=(DecoupledWeightDecay(0.5),))
    >>> x.grad = torch.zeros(1)
    >>> optimizer.step()
    >>> round(x.item(), 6)
    0.95
    """

    def __init__(self, weight_decay: float):
        self.weight_decay = check_lr(weight_decay, "weight_decay")

    def apply(
        self, direction: Tensor, param: Tensor, state: dict, ctx: StepContext
    ) -> Tensor:
        # the foreach path divides the whole direction by m's divisor after this
        # transform
        return direction.add(param, alpha=self.weight_decay * ctx.m_divisor)

    def coefficients(self, ctx):
        return (self.weight_decay * ctx.m_divisor,)

    def update(self, direction, param, state, coef, ctx):
        (weight_decay,) = coef
        return direction + param * weight_decay

    def apply_foreach(self, directions, params, states, ctx):
        return torch._foreach_add(
            directions, params, alpha=self.weight_decay * ctx.m_divisor
        )

    def param_weight(self, ctx):
        return self.weight_decay * ctx.m_divisor

    def __repr__(self) -> str:
        return f"DecoupledWeightDecay(weight_decay={self.weight_decay!r})"
