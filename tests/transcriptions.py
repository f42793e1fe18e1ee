"""Independent transcriptions of the published algorithms, one tensor at a time.

They share no code with the package on purpose: each is a reference that the package's
optimizers are tested against (see ``method_table.py``), written from its source -- the
paper's algorithm box, or the library's source file -- line by line.
"""

from __future__ import annotations

import math

import torch


class OptaxAMSGrad:
    """optax.scale_by_amsgrad + scale(-lr), transcribed from optax/_src/transform.py:
    mu_hat = mu / (1 - b1^t); nu_hat = nu / (1 - b2^t); nu_max = max(nu_max, nu_hat);
    update = -lr * mu_hat / (sqrt(nu_max + eps_root) + eps)."""

    def __init__(self, params, lr, b1, b2, eps, eps_root=0.0):
        self.params = list(params)
        self.lr, self.b1, self.b2, self.eps, self.eps_root = lr, b1, b2, eps, eps_root
        self.mu = [torch.zeros_like(p) for p in self.params]
        self.nu = [torch.zeros_like(p) for p in self.params]
        self.nu_max = [torch.zeros_like(p) for p in self.params]
        self.count = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.count += 1
        for i, p in enumerate(self.params):
            g = p.grad
            self.mu[i] = (1 - self.b1) * g + self.b1 * self.mu[i]
            self.nu[i] = (1 - self.b2) * g**2 + self.b2 * self.nu[i]
            mu_hat = self.mu[i] / (1 - self.b1**self.count)
            nu_hat = self.nu[i] / (1 - self.b2**self.count)
            self.nu_max[i] = torch.maximum(self.nu_max[i], nu_hat)
            p -= self.lr * mu_hat / (torch.sqrt(self.nu_max[i] + self.eps_root) + self.eps)


class PaperAlgorithm:
    """Algorithms 2 (AMSGrad) and 3 (AdamNC) of Reddi et al., transcribed:

        m_t = b1t m_{t-1} + (1 - b1t) g_t
        v_t = b2t v_{t-1} + (1 - b2t) g_t^2
        vhat_t = max(vhat_{t-1}, v_t)           (AMSGrad only; AdamNC uses v_t)
        x_{t+1} = Pi_F(x_t - alpha_t m_t / sqrt(vhat_t)),   alpha_t = alpha / sqrt(t)
    """

    def __init__(self, params, alpha, b1t, b2t, amsgrad, bounds=None):
        self.params = list(params)
        self.alpha, self.b1t, self.b2t, self.amsgrad, self.bounds = alpha, b1t, b2t, amsgrad, bounds
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.vhat = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        t = self.t
        b1, b2 = self.b1t(t), self.b2t(t)
        alpha_t = self.alpha / math.sqrt(t)
        for i, p in enumerate(self.params):
            g = p.grad
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            self.vhat[i] = torch.maximum(self.vhat[i], self.v[i])
            denom = self.vhat[i] if self.amsgrad else self.v[i]
            p -= alpha_t * self.m[i] / torch.sqrt(denom)
            if self.bounds is not None:
                p.clamp_(*self.bounds)


class AdamXTranscription:
    """Algorithm 2 of Tran & Phong, line by line, one tensor at a time (no shared code)."""

    def __init__(self, params, alpha, b1t, b2, bounds=None):
        self.params = list(params)
        self.alpha, self.b1t, self.b2, self.bounds = alpha, b1t, b2, bounds
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.vhat = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        t = self.t
        b1 = self.b1t(t)
        alpha_t = self.alpha / math.sqrt(t)
        for i, p in enumerate(self.params):
            g = p.grad
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = self.b2 * self.v[i] + (1 - self.b2) * g * g
            if t == 1:
                self.vhat[i] = self.v[i].clone()
            else:
                ratio = (1 - b1) ** 2 / (1 - self.b1t(t - 1)) ** 2
                self.vhat[i] = torch.maximum(ratio * self.vhat[i], self.v[i])
            p -= alpha_t * self.m[i] / torch.sqrt(self.vhat[i])
            if self.bounds is not None:
                p.clamp_(*self.bounds)


class YogiTranscription:
    """Algorithm 2 of Zaheer, Reddi, Sachan, Kale & Kumar (2018), Yogi, line by line:

        m_t = b1 m_{t-1} + (1 - b1) g_t
        v_t = v_{t-1} - (1 - b2) sign(v_{t-1} - g_t^2) g_t^2
        x_{t+1} = x_t - eta m_t / (sqrt(v_t) + eps),        m_0 = v_0 = 0

    and, with ``bias_correction``, m_t / (1 - b1^t) and v_t / (1 - b2^t) in the step.
    """

    def __init__(self, params, eta, b1, b2, eps, bias_correction=False):
        self.params = list(params)
        self.eta, self.b1, self.b2, self.eps, self.bias_correction = eta, b1, b2, eps, bias_correction
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        for i, p in enumerate(self.params):
            g = p.grad
            self.m[i] = self.b1 * self.m[i] + (1 - self.b1) * g
            self.v[i] = self.v[i] - (1 - self.b2) * torch.sign(self.v[i] - g * g) * g * g
            m, v = self.m[i], self.v[i]
            if self.bias_correction:
                m, v = m / (1 - self.b1**self.t), v / (1 - self.b2**self.t)
            p -= self.eta * m / (torch.sqrt(v) + self.eps)


class AdaBoundPaper:
    """Algorithms 2 (AdaBound) and 3 (AMSBound) of Luo, Xiong, Liu & Sun (2019):

        m_t = b1 m_{t-1} + (1 - b1) g_t,   v_t = b2 v_{t-1} + (1 - b2) g_t^2
        vhat_t = max(vhat_{t-1}, v_t)  (AMSBound),   V_t = diag(v_t or vhat_t)
        eta = Clip(alpha / sqrt(V_t), eta_l(t), eta_u(t)),   eta_t = eta / sqrt(t)
        x_{t+1} = Pi_{F, diag(eta_t^-1)}(x_t - eta_t * m_t)

    with the bounds of the authors' code, eta_l(t) = final (1 - 1/(gamma t + 1)) and
    eta_u(t) = final (1 + 1/(gamma t)).
    """

    def __init__(self, params, alpha, b1, b2, final, gamma, amsbound, bounds=None):
        self.params = list(params)
        self.alpha, self.b1, self.b2, self.final, self.gamma = alpha, b1, b2, final, gamma
        self.amsbound, self.bounds = amsbound, bounds
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.vhat = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        t = self.t
        lower = self.final * (1 - 1 / (self.gamma * t + 1))
        upper = self.final * (1 + 1 / (self.gamma * t))
        for i, p in enumerate(self.params):
            g = p.grad
            self.m[i] = self.b1 * self.m[i] + (1 - self.b1) * g
            self.v[i] = self.b2 * self.v[i] + (1 - self.b2) * g * g
            self.vhat[i] = torch.maximum(self.vhat[i], self.v[i])
            V = self.vhat[i] if self.amsbound else self.v[i]
            eta = torch.clamp(self.alpha / torch.sqrt(V), lower, upper)
            eta_t = eta / math.sqrt(t)
            p -= eta_t * self.m[i]
            if self.bounds is not None:
                p.clamp_(*self.bounds)


class AdaBoundCode:
    """The authors' PyTorch code (github.com/Luolc/AdaBound, adabound/adabound.py), the
    step of ``AdaBound(amsbound=...)`` with weight_decay = 0, transcribed."""

    def __init__(self, params, lr, b1, b2, final_lr, gamma, eps, amsbound):
        self.params = list(params)
        self.lr, self.base_lr, self.b1, self.b2 = lr, lr, b1, b2
        self.final_lr, self.gamma, self.eps, self.amsbound = final_lr, gamma, eps, amsbound
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.max_exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        for i, p in enumerate(self.params):
            grad = p.grad
            self.exp_avg[i].mul_(self.b1).add_(grad, alpha=1 - self.b1)
            self.exp_avg_sq[i].mul_(self.b2).addcmul_(grad, grad, value=1 - self.b2)
            if self.amsbound:
                torch.max(self.max_exp_avg_sq[i], self.exp_avg_sq[i], out=self.max_exp_avg_sq[i])
                denom = self.max_exp_avg_sq[i].sqrt().add_(self.eps)
            else:
                denom = self.exp_avg_sq[i].sqrt().add_(self.eps)
            bias_correction1 = 1 - self.b1**self.t
            bias_correction2 = 1 - self.b2**self.t
            step_size = self.lr * math.sqrt(bias_correction2) / bias_correction1
            final_lr = self.final_lr * self.lr / self.base_lr
            lower_bound = final_lr * (1 - 1 / (self.gamma * self.t + 1))
            upper_bound = final_lr * (1 + 1 / (self.gamma * self.t))
            step_size = torch.full_like(denom, step_size)
            step_size.div_(denom).clamp_(lower_bound, upper_bound).mul_(self.exp_avg[i])
            p.add_(-step_size)


class AdaBeliefTranscription:
    """Algorithm 2 of Zhuang et al. (2020), AdaBelief, line by line:

        m_t = b1 m_{t-1} + (1 - b1) g_t
        s_t = b2 s_{t-1} + (1 - b2) (g_t - m_t)^2 + eps
        mhat_t = m_t / (1 - b1^t),   shat_t = s_t / (1 - b2^t)
        x_{t+1} = Pi_{F, sqrt(shat_t)}(x_t - alpha mhat_t / (sqrt(shat_t) + eps))

    ``bias_correction=False`` uses m_t and s_t themselves.
    """

    def __init__(self, params, alpha, b1, b2, eps, bias_correction=True, step="constant", bounds=None):
        self.params = list(params)
        self.alpha, self.b1, self.b2, self.eps = alpha, b1, b2, eps
        self.bias_correction, self.inv_sqrt, self.bounds = bias_correction, step == "inv_sqrt", bounds
        self.m = [torch.zeros_like(p) for p in self.params]
        self.s = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        t = self.t
        alpha_t = self.alpha / math.sqrt(t) if self.inv_sqrt else self.alpha
        for i, p in enumerate(self.params):
            g = p.grad
            self.m[i] = self.b1 * self.m[i] + (1 - self.b1) * g
            self.s[i] = self.b2 * self.s[i] + (1 - self.b2) * (g - self.m[i]) ** 2 + self.eps
            m_hat, s_hat = self.m[i], self.s[i]
            if self.bias_correction:
                m_hat, s_hat = m_hat / (1 - self.b1**t), s_hat / (1 - self.b2**t)
            p -= alpha_t * m_hat / (torch.sqrt(s_hat) + self.eps)
            if self.bounds is not None:
                p.clamp_(*self.bounds)
