"""A grid split across machines (issue 18): shards partition the grid, the Slurm job array
the package writes runs shard i in task i, and the claim files keep two tasks that meet on a
run from both running it. Checked on the generated script's tasks run here in parallel, and
on a one-node Slurm cluster (Debian's slurm-wlm and munge) that the test starts and stops."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adaptive_methods.experiments.cli import main
from adaptive_methods.experiments.grid import PRESETS, expand
from adaptive_methods.experiments.slurm import (Shard, SlurmJob, parse_shard, sbatch_directives, sbatch_script,
                                                select_shard)

from .test_experiments_training import data_root, keep_threads  # noqa: F401


# ----------------------------------------------------------------------------- the partition

@settings(max_examples=200, deadline=None)
@given(runs=st.integers(1, 300), tasks=st.integers(1, 40))
def test_the_shards_partition_the_grid_into_nearly_equal_parts(runs, tasks):
    grid = list(range(runs))
    shards = [select_shard(grid, Shard(i, tasks)) for i in range(tasks)]
    assert sorted(r for shard in shards for r in shard) == grid  # every run in exactly one shard
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    assert all(shard == grid[i::tasks] for i, shard in enumerate(shards))  # and in the grid's order


def test_the_shards_of_a_preset_go_through_the_grid_together():
    """Run k of every shard lies within the same stretch of the grid, so an array stopped
    early has, like one grid stopped early, bias correction on and the first seeds done."""
    configs = expand(PRESETS["fashion-logreg"])
    shards = [select_shard(configs, Shard(i, 5)) for i in range(5)]
    for k in range(len(shards[-1])):
        positions = [configs.index(shard[k]) for shard in shards]
        assert positions == list(range(5 * k, 5 * k + 5))


@pytest.mark.parametrize("text, message", [
    ("3", "shard must be written i/n (two integers, 0 <= i < n), got '3'"),
    ("a/4", "shard must be written i/n (two integers, 0 <= i < n), got 'a/4'"),
    ("-1/4", "shard must be written i/n (two integers, 0 <= i < n), got '-1/4'"),
    ("4/4", "shard must be i/n with n >= 1 and 0 <= i < n, got 4/4"),
    ("0/0", "shard must be i/n with n >= 1 and 0 <= i < n, got 0/0"),
])
def test_a_bad_shard_is_refused_with_what_is_allowed(text, message):
    with pytest.raises(ValueError) as info:
        parse_shard(text)
    assert str(info.value) == message


def test_a_bad_shard_on_the_command_line_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["grid", "--preset", "fashion-logreg", "--shard", "4/4", "--list"])
    assert info.value.code == 2
    assert "argument --shard: shard must be i/n with n >= 1 and 0 <= i < n, got 4/4" in capsys.readouterr().err


def test_grid_list_of_the_shards_is_the_whole_grid_once(capsys):
    whole = [c.run_id for c in expand(PRESETS["fashion-logreg"].with_overrides(axes=dict(seed=[0])))]
    listed = []
    for i in range(5):
        assert main(["grid", "--preset", "fashion-logreg", "--seeds", "0", "--shard", f"{i}/5", "--list"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[-1] == f"{len(lines) - 1} runs -> results/fashion-mnist/logreg"
        listed += lines[:-1]
    assert sorted(listed) == sorted(whole) and len(listed) == len(whole) == 32


# ----------------------------------------------------------------------------- the job script

def job(**changes) -> SlurmJob:
    return SlurmJob(**{**dict(name="fashion-logreg", tasks=3, workdir="/shared/book", python="/opt/py/bin/python",
                              workers=2, cpus_per_task=4), **changes})


def test_the_job_script_asks_for_an_array_of_one_task_per_shard():
    script = sbatch_script(job(gpus_per_task=1, partition="gpu", mem_per_cpu="4G", time="1-00:00"),
                           ["--preset", "fashion-logreg", "--epochs", "2"])
    assert sbatch_directives(script) == {
        "job-name": "fashion-logreg", "array": "0-2", "ntasks": "1", "cpus-per-task": "4", "time": "1-00:00",
        "chdir": "/shared/book", "output": "results/scratch/slurm/fashion-logreg-%A_%a.out",
        "gpus-per-task": "1", "mem-per-cpu": "4G", "partition": "gpu"}
    command = [line for line in script.splitlines() if "adaptive_methods.experiments" in line
               and not line.startswith("#")]
    assert command == ['/opt/py/bin/python -m adaptive_methods.experiments grid --preset fashion-logreg --epochs 2 '
                       '--workers 2 --threads 2 --shard "${SLURM_ARRAY_TASK_ID}/3"']
    assert script.startswith("#!/bin/bash\n")


@pytest.mark.parametrize("changes, message", [
    (dict(tasks=0), "tasks must be an int >= 1, got 0"),
    (dict(workers=5), "workers (5) must not exceed cpus_per_task (4): each worker needs a CPU of the task"),
    (dict(time="two hours"), "time must be a Slurm time limit (MM, HH:MM:SS, D-HH:MM ...), got 'two hours'"),
    (dict(partition="gpu; rm -rf"), "partition must be letters, digits and _.+- only, got 'gpu; rm -rf'"),
    (dict(mem_per_cpu="lots"), "mem_per_cpu must be a Slurm size such as 4000 or 4G, got 'lots'"),
])
def test_a_bad_job_is_refused_with_what_is_allowed(changes, message):
    with pytest.raises(ValueError) as info:
        job(**changes)
    assert str(info.value) == message


def test_the_job_sets_shard_workers_and_threads_itself():
    with pytest.raises(ValueError, match="grid arguments must not contain --shard: the job array sets it"):
        sbatch_script(job(), ["--preset", "x", "--shard", "0/2"])


@pytest.mark.parametrize("argv, message", [
    (["--tasks", "97"], "slurm: --tasks 97 is more than the grid's 96 runs; choose at most 96"),
    (["--tasks", "2", "--", "--threads", "3"], "slurm: --threads is set by the job array; leave it out"),
    (["--tasks", "2", "--", "--epochs", "0"], "slurm: the grid options ['--epochs', '0'] are not valid options of "
                                              "`grid` (argument --epochs: must be an integer >= 1, got 0)"),
])
def test_the_slurm_command_refuses_bad_options(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["slurm", "--preset", "fashion-logreg", "--script", str(tmp_path / "s.sbatch"), *argv])
    assert info.value.code == 2 and message in capsys.readouterr().err


# ----------------------------------------------------------------------------- running the tasks

def tiny_grid_args(root: Path, out: Path) -> list[str]:
    """Two runs (Adam, AMSGrad) of logistic regression on the 203 images of the test data, one epoch."""
    return ["--", "--lrs", "0.01", "--beta2s", "0.99", "--epochs", "1", "--data-root", str(root),
            "--offline", "--accept-unpinned-data", "--out", str(out), "--checkpoint-dir", str(out.parent / "ck")]


def write_job(workdir: Path, root: Path, tasks: int, capsys, *extra) -> tuple[Path, str]:
    """The script the `slurm` command writes for the tiny grid (run in ``workdir``), and what
    the command printed."""
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        assert main(["slurm", "--preset", "reduced-logreg", "--tasks", str(tasks), *extra,
                     *tiny_grid_args(root, workdir / "out")]) == 0
    finally:
        os.chdir(cwd)
    printed = capsys.readouterr().out
    return workdir / printed.split(":", 1)[0], printed


def finished_runs(logs: list[str]) -> list[str]:
    """The run ids that the grids of these logs report as finished by them ("[k/n] run: ...")."""
    return [m.group(1) for log in logs for m in re.finditer(r"^\[\d+/\d+\] (\S+): val acc", log, re.M)]


def grid_ids() -> list[str]:
    """The tiny grid's run ids, in the grid's order."""
    spec = PRESETS["reduced-logreg"].with_overrides(dict(epochs=1), dict(lr=[0.01], beta2=[0.99]))
    return [c.run_id for c in expand(spec)]


def test_the_array_tasks_run_here_in_parallel_do_every_run_once_even_when_a_task_runs_twice(
        data_root, tmp_path, capsys):
    script, _ = write_job(tmp_path, data_root, 2, capsys)
    assert sbatch_directives(script.read_text())["array"] == "0-1"
    # tasks 0 and 1, and task 0 a second time (as if resubmitted while it still ran)
    procs = [subprocess.Popen(["bash", str(script)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env={**os.environ, "SLURM_ARRAY_TASK_ID": str(task)})
             for task in (0, 1, 0)]
    logs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), logs
    ids = grid_ids()
    assert sorted(finished_runs(logs)) == sorted(ids), logs  # each run finished once, by one task
    # task 1 did its shard (run 1); one of the two copies of task 0 did run 0, the other skipped it
    assert finished_runs(logs[1:2]) == ids[1::2] and finished_runs(logs[0::2]) == ids[0::2]
    assert sorted(p.stem for p in (tmp_path / "out").glob("*.json")) == sorted(ids)
    assert not list((tmp_path / "out").glob("*.superseded")) and not list((tmp_path / "out" / ".claims").iterdir())


def test_the_script_refuses_to_run_outside_an_array(data_root, tmp_path, capsys):
    script, _ = write_job(tmp_path, data_root, 2, capsys)
    env = {k: v for k, v in os.environ.items() if k != "SLURM_ARRAY_TASK_ID"}
    done = subprocess.run(["bash", str(script)], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert done.returncode != 0
    assert "SLURM_ARRAY_TASK_ID: run this script through sbatch (or set SLURM_ARRAY_TASK_ID)" in done.stderr


# ----------------------------------------------------------------------------- a real Slurm cluster

_DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scancel")
_MARK = "ADAPTIVE_METHODS_TEST_SLURM"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _marked_processes(mark: str) -> list[int]:
    """Live processes whose environment carries this cluster's mark (its daemons, their job
    steps, the job scripts and the grids they started)."""
    out = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"{_MARK}={mark}".encode() in environ.read_bytes().split(b"\0"):
                state = (environ.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    out.append(int(environ.parent.name))
        except (OSError, IndexError):
            continue
    return out


class Cluster:
    """munged, slurmctld and slurmd for this machine alone, in a folder of their own."""

    def __init__(self, folder: Path):
        self.folder, self.procs = folder, []
        self.host = socket.gethostname().split(".")[0]
        self.env = {**os.environ, "SLURM_CONF": str(folder / "slurm.conf"), _MARK: str(folder)}

    def start(self) -> None:
        f = self.folder
        for sub in ("state", "spool", "munge"):
            (f / sub).mkdir(parents=True)
        (f / "munge").chmod(0o700)
        key = f / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        socket_path = f / "munge" / "munge.socket"
        cpus = os.cpu_count() or 1
        (f / "slurm.conf").write_text("\n".join([
            "ClusterName=booktest", f"SlurmctldHost={self.host}(127.0.0.1)", "SlurmUser=root", "SlurmdUser=root",
            f"SlurmctldPort={_free_port()}", f"SlurmdPort={_free_port()}", "AuthType=auth/munge",
            f"AuthInfo=socket={socket_path}", "CredType=cred/munge", f"StateSaveLocation={f / 'state'}",
            f"SlurmdSpoolDir={f / 'spool'}", f"SlurmctldPidFile={f / 'slurmctld.pid'}",
            f"SlurmdPidFile={f / 'slurmd.pid'}", f"SlurmctldLogFile={f / 'slurmctld.log'}",
            f"SlurmdLogFile={f / 'slurmd.log'}", "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
            "SchedulerType=sched/builtin", "SelectType=select/cons_tres", "SelectTypeParameters=CR_CPU",
            "ReturnToService=2", "MpiDefault=none", "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            f"NodeName={self.host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=500 State=UNKNOWN",
            f"PartitionName=debug Nodes={self.host} Default=YES MaxTime=INFINITE State=UP", ""]))
        self._daemon(["munged", "-F", "--force", f"--key-file={key}", f"--socket={socket_path}",
                      f"--pid-file={f / 'munge' / 'munged.pid'}", f"--log-file={f / 'munge' / 'munged.log'}",
                      f"--seed-file={f / 'munge' / 'munged.seed'}"])
        self._wait(lambda: socket_path.exists(), "munged to open its socket")
        self._daemon(["slurmctld", "-D", "-i", "-f", str(f / "slurm.conf")])
        self._daemon(["slurmd", "-D", "-f", str(f / "slurm.conf"), "-N", self.host])
        self._wait(lambda: self.run("sinfo", "-h", "-o", "%t").stdout.strip() == "idle", "the node to be idle")

    def _daemon(self, argv) -> None:
        self.procs.append(subprocess.Popen(argv, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL, start_new_session=True))

    def _wait(self, ready, what: str, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while not ready():
            dead = [p.args[0] for p in self.procs if p.poll() is not None]
            if dead or time.time() > deadline:
                logs = {p.name: p.read_text()[-2000:] for p in self.folder.glob("*.log")}
                raise RuntimeError(f"waiting for {what}: {'died: ' + str(dead) if dead else 'timed out'}; {logs}")
            time.sleep(0.2)

    def run(self, *argv, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), env=self.env, capture_output=True, text=True, timeout=60, **kw)

    def stop(self) -> None:
        if self.procs and self.procs[0].poll() is None:
            self.run("scancel", "--full", "-u", "root")
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        deadline = time.time() + 20
        while _marked_processes(str(self.folder)) and time.time() < deadline:
            time.sleep(0.2)
        for pid in _marked_processes(str(self.folder)):  # only what this cluster started
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def cluster(tmp_path):
    missing = [d for d in _DAEMONS if shutil.which(d) is None]
    if missing:
        pytest.skip(f"Slurm is not installed here (no {', '.join(missing)}; Debian: apt-get install slurm-wlm)")
    if os.geteuid() != 0:
        pytest.skip("the test's one-node Slurm cluster runs its daemons as root")
    c = Cluster(tmp_path / "cluster")
    try:
        c.start()
        yield c
    finally:
        c.stop()
    assert _marked_processes(str(c.folder)) == []  # nothing of the cluster left running


def test_a_job_array_on_a_one_node_slurm_cluster_does_every_run_exactly_once(cluster, data_root, tmp_path, capsys,
                                                                             monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv(_MARK, str(cluster.folder))  # sbatch passes it to the job: the teardown finds its processes
    monkeypatch.setenv("SLURM_CONF", cluster.env["SLURM_CONF"])
    script, printed = write_job(work, data_root, 2, capsys, "--time", "10", "--submit")
    job_id = re.search(r"submitted job array (\d+)", printed).group(1)
    deadline = time.time() + 400
    while cluster.run("squeue", "-h", "-j", job_id).stdout.strip():
        assert time.time() < deadline, cluster.run("squeue").stdout
        time.sleep(1)
    logs_dir = work / "results" / "scratch" / "slurm"
    logs = [p.read_text() for p in sorted(logs_dir.glob("reduced-logreg-*_*.out"))]
    assert len(logs) == 2, (list(logs_dir.iterdir()), (cluster.folder / "slurmctld.log").read_text()[-3000:])
    ids = grid_ids()
    assert [finished_runs([log]) for log in logs] == [ids[0::2], ids[1::2]], logs  # shard i in task i, once
    assert sorted(p.stem for p in (work / "out").glob("*.json")) == sorted(ids)
    assert sbatch_directives(script.read_text())["array"] == "0-1"
