"""Our AMSGrad(variant="optax") against optax itself, where optax is installed.

The always-run check is the transcription in test_equivalence.py; this one compares with
the library (installed on the GPU machine the project borrows, not in CI)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from adaptive_methods import Adam, AMSGrad

optax = pytest.importorskip("optax")
jnp = pytest.importorskip("jax.numpy")
jax = pytest.importorskip("jax")


@pytest.mark.parametrize("lr,b1,b2,eps", [(1e-3, 0.9, 0.999, 1e-8), (0.05, 0.9, 0.99, 1e-3), (0.01, 0.5, 0.9, 1e-6)])
def test_optax_variant_equals_optax_amsgrad(lr, b1, b2, eps):
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(300, 7)) * rng.choice([1.0, 50.0], size=(300, 7), p=[0.95, 0.05])
    tx = optax.amsgrad(lr, b1=b1, b2=b2, eps=eps)
    params = jnp.zeros(7, dtype=jnp.float64)
    state = tx.init(params)
    p = torch.zeros(7, dtype=torch.float64, requires_grad=True)
    opt = AMSGrad([p], lr, (b1, b2), eps, variant="optax")
    for g in grads:
        updates, state = tx.update(jnp.asarray(g), state, params)
        params = optax.apply_updates(params, updates)
        p.grad = torch.from_numpy(g.copy())
        opt.step()
    np.testing.assert_allclose(p.detach().numpy(), np.asarray(params), rtol=1e-9, atol=1e-12)


def test_optax_adam_equals_our_adam():
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(1)
    grads = rng.normal(size=(200, 5))
    tx = optax.adam(1e-2)
    params = jnp.zeros(5, dtype=jnp.float64)
    state = tx.init(params)
    p = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt = Adam([p], 1e-2)
    for g in grads:
        updates, state = tx.update(jnp.asarray(g), state, params)
        params = optax.apply_updates(params, updates)
        p.grad = torch.from_numpy(g.copy())
        opt.step()
    np.testing.assert_allclose(p.detach().numpy(), np.asarray(params), rtol=1e-9, atol=1e-12)
