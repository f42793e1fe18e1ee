"""Shared fixtures: a small MLP with fixed random data, trained in float64."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
# A citation in the book's Markdown: the text a reader sees, linked to the role and keys the
# book cites it with ([Reddi et al. (2018)](cite:t:reddi2018convergence); _ext/reader_texts.py)
CITATION = re.compile(r"\[(?P<text>[^\[\]]*)\]\(cite:(?P<form>[tp]):(?P<keys>[^)\s]+)\)")

# The tests train tiny models: one thread is faster than two fighting over a busy
# 2-core machine, and results do not depend on it.
torch.set_num_threads(1)


def make_mlp(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3)).double()


def make_data(seed: int = 1, n: int = 96):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 6, generator=g, dtype=torch.float64), torch.randn(n, 3, generator=g, dtype=torch.float64)


def train(model, optimizer, steps: int, data, *, start: int = 0, batch: int = 16, scheduler=None):
    """Minibatch regression on fixed data; batch i is a deterministic slice, so two runs
    see the same gradients whenever they have the same parameters."""
    X, Y = data
    n = X.shape[0] // batch
    for i in range(start, start + steps):
        sl = slice((i % n) * batch, (i % n + 1) * batch)
        optimizer.zero_grad()
        loss = ((model(X[sl]) - Y[sl]) ** 2).mean()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return model


def flat(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


@pytest.fixture
def data():
    return make_data()
