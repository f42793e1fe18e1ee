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
