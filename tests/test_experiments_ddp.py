"""DistributedDataParallel on the CPU: two processes on the gloo backend.

After training, the parameters must be identical on both ranks and equal (up to the
order of floating-point additions) to a single-process run with the same global batch; a
DDP run stopped and resumed must end bit-identical to an uninterrupted DDP run; and the
command line must run under ``torchrun``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from adaptive_methods.experiments import data as D
from adaptive_methods.experiments.training import RunConfig, RunInterrupted, train

from .test_experiments_training import make_data

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="torch.distributed with gloo is not available")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(root, **kw) -> RunConfig:
    # 203 training images and a global batch of 32: the last batch of each epoch has 11
    # images, split 6/5 over the two ranks, which the loss scaling must get right
    base = dict(model="mlp", dataset="fashion-mnist", data_root=str(root), download=False, fallback=False,
                optimizer="torch.amsgrad", lr=3e-3, batch_size=32, epochs=2, log_every=4, eval_train_limit=64,
                threads=1, device="cpu", validation_size=0)
    return RunConfig(**(base | kw))


def _rank_main(rank: int, world: int, port: int, root: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank), ADAPTIVE_METHODS_OFFLINE="1",
                      ADAPTIVE_METHODS_ACCEPT_UNPINNED="1")
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        c = config(root)
        result, model = train(c, progress=False, return_model=True)
        try:
            train(c, checkpoint_dir=Path(out) / "ckpt", stop_after=6, progress=False)
        except RunInterrupted:
            pass
        resumed = train(c, checkpoint_dir=Path(out) / "ckpt", progress=False)
        torch.save({"params": {k: v.detach().clone() for k, v in model.state_dict().items()},
                    "result": {k: result[k] for k in ("final", "metrics", "parameters_sha256", "distributed")},
                    "resumed": {k: resumed[k] for k in ("metrics", "parameters_sha256", "resumed_at_steps")}},
                   Path(out) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_ddp_two_ranks_match_each_other_and_a_single_process(tmp_path, monkeypatch):
    root = make_data(tmp_path / "data")
    monkeypatch.setenv("ADAPTIVE_METHODS_OFFLINE", "1")
    monkeypatch.setenv("ADAPTIVE_METHODS_ACCEPT_UNPINNED", "1")
    mp.start_processes(_rank_main, args=(2, free_port(), str(root), str(tmp_path)), nprocs=2, join=True,
                       start_method="spawn")
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=False)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=False)
    assert r0["result"]["distributed"] == {"world_size": 2, "backend": "gloo"}
    for name in r0["params"]:
        assert torch.equal(r0["params"][name], r1["params"][name]), f"{name} differs between ranks"
    assert r0["result"]["metrics"]["test_loss"] == r1["result"]["metrics"]["test_loss"]

    D.clear_memo()
    n = torch.get_num_threads()
    try:
        single, model = train(config(root), progress=False, return_model=True)
    finally:
        torch.set_num_threads(n)
    assert single["distributed"]["world_size"] == 1
    # Adam-type steps divide by sqrt(v): where a coordinate's gradient is nearly zero, the
    # different summation order of two ranks shows up in the last digits, hence atol 1e-5
    # (0.3% of one step of size lr = 3e-3)
    for name, value in model.state_dict().items():
        torch.testing.assert_close(r0["params"][name], value, rtol=1e-4, atol=1e-5)
    for key in ("test_loss", "train_loss", "batch_loss"):
        ddp_values, single_values = r0["result"]["metrics"][key], single["metrics"][key]
        assert [v is None for v in ddp_values] == [v is None for v in single_values]
        assert [v for v in ddp_values if v is not None] == pytest.approx(
            [v for v in single_values if v is not None], rel=1e-5)
    assert r0["result"]["metrics"]["step"] == single["metrics"]["step"]

    # stopped at step 6 and resumed on two ranks: exactly the uninterrupted two-rank run
    assert r0["resumed"]["resumed_at_steps"] == [6]
    assert r0["resumed"]["parameters_sha256"] == r0["result"]["parameters_sha256"]
    assert r0["resumed"]["metrics"]["test_loss"] == r0["result"]["metrics"]["test_loss"]


def test_command_line_under_torchrun(tmp_path):
    root = make_data(tmp_path / "data")
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), ADAPTIVE_METHODS_OFFLINE="1", OMP_NUM_THREADS="1",
               ADAPTIVE_METHODS_ACCEPT_UNPINNED="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
           "-m", "adaptive_methods.experiments", "run", "--model", "logreg", "--optimizer", "torch.adam",
           "--data-root", str(root), "--no-fallback", "--batch-size", "32", "--epochs", "1", "--log-every", "3",
           "--device", "auto", "--threads", "1", "--no-progress", "--out", str(tmp_path / "out"),
           "--checkpoint-dir", str(tmp_path / "ck")]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    files = list((tmp_path / "out").glob("*.json"))
    assert len(files) == 1
    result = json.loads(files[0].read_text())
    assert result["distributed"] == {"world_size": 2, "backend": "gloo"}
    assert result["environment"]["device"] == ("cuda:0" if torch.cuda.is_available() else "cpu")
    assert "torch.distributed.run" not in result["command"] or "adaptive_methods" in result["command"]
    assert out.stdout.count("test acc") == 1  # only rank 0 reports
