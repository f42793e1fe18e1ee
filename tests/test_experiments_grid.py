"""The grid runner under crashes (issue 12): a SIGKILLed worker costs only its run (retried
once, then reported), a SIGKILLed grid leaves no process behind, and two grids on one folder
never do the same run twice (claim files, broken when their process is dead)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from adaptive_methods.experiments.grid import PRESETS, Claim, expand, pending_runs, run_grid

from .test_experiments_training import REPO, data_root, keep_threads  # noqa: F401

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads processes from /proc")


def grid_configs(root, lrs=(1e-2, 2e-2)):
    spec = PRESETS["reduced-logreg"].with_overrides(
        dict(dataset="fashion-mnist", data_root=str(root), download=False, train_limit=None, test_limit=None, eval_train_limit=50,
             epochs=1, accept_unpinned_data=True),
        dict(lr=list(lrs), beta2=[0.99], optimizer=["adam"]))
    return expand(spec)


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the live processes whose parent is ``pid``."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append((int(stat.parent.name), cmdline))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_worker_is_retried_once_then_reported_and_the_grid_goes_on(data_root, tmp_path):
    """The run at lr 0.01 is killed once and finishes on its retry; the run at lr 0.02 is
    killed twice and is reported; neither stops the grid."""
    configs = grid_configs(data_root)
    victim = configs[1]
    kills = {"0.01": [], "0.02": []}
    wanted = {"0.01": 1, "0.02": 2}

    def killer():
        deadline = time.time() + 120
        while time.time() < deadline and any(len(kills[k]) < wanted[k] for k in kills):
            for pid, cmd in children(os.getpid()):
                for lr, done in kills.items():
                    if "experiments.worker" in cmd and f'"lr": {lr}' in cmd and pid not in done \
                            and len(done) < wanted[lr]:
                        os.kill(pid, signal.SIGKILL)
                        done.append(pid)
            time.sleep(0.01)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    lines = []
    summary = run_grid(configs, tmp_path / "out", checkpoint_dir=tmp_path / "ck", workers=2, threads=1,
                       experiment="t", log=lines.append)
    thread.join(5)
    assert {k: len(v) for k, v in kills.items()} == wanted
    assert summary["finished"] == 1 and [f[0] for f in summary["failed"]] == [victim.run_id]
    assert "killed by signal 9" in summary["failed"][0][1]
    assert sum("retrying it once" in line for line in lines) == 2
    assert [c.run_id for c in pending_runs([c.replace(threads=1) for c in configs], tmp_path / "out")] == [victim.run_id]
    assert not list((tmp_path / "out" / ".claims").glob("*.claim"))  # released after the failure


GRID_SCRIPT = """
import json, sys
from adaptive_methods.experiments.grid import run_grid
from adaptive_methods.experiments.config import RunConfig
configs = [RunConfig.from_dict(c) for c in json.loads(sys.argv[1])]
summary = run_grid(configs, sys.argv[2], checkpoint_dir=sys.argv[3], workers=1, threads=1, experiment="t")
print("SUMMARY", json.dumps({"finished": summary["finished"], "skipped": summary["skipped"]}))
"""


def start_grid(configs, out, ckpt):
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    return subprocess.Popen([sys.executable, "-c", GRID_SCRIPT, json.dumps([c.to_dict() for c in configs]), str(out),
                             str(ckpt)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_a_killed_grid_leaves_no_process_behind(data_root, tmp_path):
    grid = start_grid(grid_configs(data_root, lrs=(1e-2,)), tmp_path / "out", tmp_path / "ck")
    deadline = time.time() + 60
    workers = []
    while time.time() < deadline and not workers and grid.poll() is None:
        workers = [pid for pid, cmd in children(grid.pid) if "experiments.worker" in cmd]
        time.sleep(0.01)
    assert workers, grid.stdout.read()
    grid.send_signal(signal.SIGKILL)
    grid.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers), "a worker outlived its grid"
    claims = list((tmp_path / "out" / ".claims").glob("*.claim"))
    assert len(claims) == 1  # left by the killed grid: its process is dead, so the next grid breaks it
    assert Claim(tmp_path / "out", claims[0].stem).acquire()


def test_two_grids_on_one_folder_never_do_a_run_twice(data_root, tmp_path):
    configs = grid_configs(data_root, lrs=(1e-2, 2e-2))
    grids = [start_grid(configs, tmp_path / "out", tmp_path / f"ck{i}") for i in range(2)]
    outputs = [g.communicate(timeout=300)[0] for g in grids]
    assert all(g.returncode == 0 for g in grids), outputs
    summaries = [json.loads(o.rsplit("SUMMARY", 1)[1]) for o in outputs]
    assert sum(s["finished"] for s in summaries) == 2, outputs
    finished = [line.split("] ", 1)[1].split(":")[0] for o in outputs for line in o.splitlines()
                if line.startswith("[")]
    assert sorted(finished) == sorted(c.run_id for c in configs)  # each run once, by one grid


def test_a_claim_of_a_live_process_holds_and_one_of_a_dead_process_is_broken(tmp_path):
    claim = Claim(tmp_path, "run")
    assert claim.acquire() and not Claim(tmp_path, "run").acquire()
    claim.release()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    claim.path.write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename, "since": 0}))
    assert Claim(tmp_path, "run").acquire()
    # a live process that only reuses the holder's pid does not hold the claim
    Claim(tmp_path, "run").path.write_text(json.dumps({"pid": os.getpid(), "start": "1", "host": os.uname().nodename}))
    assert Claim(tmp_path, "run").acquire()
