"""A grid split across machines: shards of a grid, and the Slurm job array that runs them.

Shard ``i`` of ``n`` is every ``n``-th run of the grid in its fixed order (:func:`~.grid.expand`),
starting at run ``i``: the shards partition the grid into parts whose sizes differ by at most
one, and they go through the grid's order together, so that an array stopped early has,
like a single grid, bias correction on and the first seeds done. Each array
task runs ``grid --shard i/n`` on the same results folder (a shared filesystem), so the
deterministic partition keeps the tasks apart; the grid's claim files are the safety net
when two tasks do meet on a run (the same array submitted twice, one task resubmitted
while it still runs): a run claimed by a live process is skipped, and a run another task
has finished is not started again.

:func:`sbatch_script` writes the job array: ``#SBATCH --array=0-(n-1)``, one line of
``grid`` per task with its ``--shard "${SLURM_ARRAY_TASK_ID}/n"``, and an explicit thread
count, because the number of threads enters each run's identity and ``os.cpu_count()`` on
a cluster node counts the node's CPUs, not the task's.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Shard", "parse_shard", "select_shard", "SlurmJob", "sbatch_script", "sbatch_directives", "write_script",
           "add_slurm_arguments", "slurm_command"]


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __post_init__(self):
        for name in ("index", "count"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"shard {name} must be an int, got {value!r}")
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard must be i/n with n >= 1 and 0 <= i < n, got {self.index}/{self.count}")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"i/n"`` -> :class:`Shard` (``0 <= i < n``)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match:
        raise ValueError(f"shard must be written i/n (two integers, 0 <= i < n), got {text!r}")
    return Shard(int(match.group(1)), int(match.group(2)))


def select_shard(configs: list, shard: Shard | None) -> list:
    """The runs of ``configs`` that shard ``i/n`` runs: those at positions ``i, i+n, i+2n, ...``."""
    if shard is None:
        return list(configs)
    if not isinstance(shard, Shard):
        raise TypeError(f"shard must be a Shard or None, got {type(shard).__name__}")
    return list(configs)[shard.index::shard.count]


_TIME = re.compile(r"(\d+-)?\d{1,2}(:\d{2}){0,2}|\d+")
_NAME = re.compile(r"[A-Za-z0-9_.+-]+")


@dataclass
class SlurmJob:
    """What the job array asks of Slurm, and where it runs.

    ``tasks``: array tasks (shards); ``workers`` runs at once in each task, each with
    ``cpus_per_task // workers`` threads; ``gpus_per_task``: GPUs each task asks for (its
    workers share them); ``time``: Slurm's time limit per task (``MM``, ``HH:MM:SS``,
    ``D-HH:MM``...); ``partition``: a partition name or None (the cluster's default);
    ``workdir``: the folder the tasks run in (the repository, on the shared filesystem);
    ``log_dir``: where Slurm writes each task's output (relative to ``workdir``);
    ``python``: the interpreter the tasks run.
    """

    name: str
    tasks: int
    workdir: str
    python: str
    workers: int = 1
    cpus_per_task: int = 1
    gpus_per_task: int = 0
    mem_per_cpu: str | None = None
    time: str = "04:00:00"
    partition: str | None = None
    log_dir: str = "results/scratch/slurm"

    def __post_init__(self):
        for name, low in (("tasks", 1), ("workers", 1), ("cpus_per_task", 1), ("gpus_per_task", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if self.workers > self.cpus_per_task:
            raise ValueError(f"workers ({self.workers}) must not exceed cpus_per_task ({self.cpus_per_task}): "
                             f"each worker needs a CPU of the task")
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"name must be letters, digits and _.+- only, got {self.name!r}")
        if not isinstance(self.time, str) or not _TIME.fullmatch(self.time):
            raise ValueError(f"time must be a Slurm time limit (MM, HH:MM:SS, D-HH:MM ...), got {self.time!r}")
        if self.partition is not None and not _NAME.fullmatch(self.partition):
            raise ValueError(f"partition must be letters, digits and _.+- only, got {self.partition!r}")
        if self.mem_per_cpu is not None and not re.fullmatch(r"\d+[KMGT]?", self.mem_per_cpu):
            raise ValueError(f"mem_per_cpu must be a Slurm size such as 4000 or 4G, got {self.mem_per_cpu!r}")

    @property
    def threads(self) -> int:
        return self.cpus_per_task // self.workers


def sbatch_script(job: SlurmJob, grid_args: list[str]) -> str:
    """The job array's script: task ``i`` runs ``grid GRID_ARGS --shard i/tasks``.

    ``grid_args`` are the arguments of ``python -m adaptive_methods.experiments grid``
    (``--preset NAME`` and any overrides), without ``--shard``, ``--workers`` or
    ``--threads``, which the job sets.
    """
    for option in ("--shard", "--workers", "--threads"):
        if any(a == option or a.startswith(option + "=") for a in grid_args):
            raise ValueError(f"grid arguments must not contain {option}: the job array sets it, got {grid_args!r}")
    lines = ["#!/bin/bash", f"#SBATCH --job-name={job.name}", f"#SBATCH --array=0-{job.tasks - 1}",
             "#SBATCH --ntasks=1", f"#SBATCH --cpus-per-task={job.cpus_per_task}", f"#SBATCH --time={job.time}",
             f"#SBATCH --chdir={job.workdir}", f"#SBATCH --output={job.log_dir}/{job.name}-%A_%a.out"]
    if job.gpus_per_task:
        lines.append(f"#SBATCH --gpus-per-task={job.gpus_per_task}")
    if job.mem_per_cpu:
        lines.append(f"#SBATCH --mem-per-cpu={job.mem_per_cpu}")
    if job.partition:
        lines.append(f"#SBATCH --partition={job.partition}")
    command = [job.python, "-m", "adaptive_methods.experiments", "grid", *grid_args,
               "--workers", str(job.workers), "--threads", str(job.threads)]
    lines += [
        "# Written by `python -m adaptive_methods.experiments slurm`. Task i runs shard i of the grid",
        f"# (runs i, i+{job.tasks}, i+{2 * job.tasks}, ...); the claim files in the results folder keep two tasks",
        "# that meet on a run from both running it. `sbatch --array=K THIS_FILE` reruns shard K alone.",
        "set -euo pipefail",
        ': "${SLURM_ARRAY_TASK_ID:?run this script through sbatch (or set SLURM_ARRAY_TASK_ID)}"',
        "export PYTHONUNBUFFERED=1",
        " ".join(shlex.quote(part) for part in command) + f' --shard "${{SLURM_ARRAY_TASK_ID}}/{job.tasks}"',
        "",
    ]
    return "\n".join(lines)


def sbatch_directives(script: str) -> dict[str, str]:
    """The ``#SBATCH --key=value`` lines of a job script, as ``{key: value}``."""
    out = {}
    for line in script.splitlines():
        match = re.fullmatch(r"#SBATCH\s+--([a-z-]+)=(\S+)\s*", line)
        if match:
            out[match.group(1)] = match.group(2)
    return out


def write_script(job: SlurmJob, grid_args: list[str], path) -> Path:
    """Write :func:`sbatch_script` to ``path`` (executable) and make the log folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    (Path(job.workdir) / job.log_dir).mkdir(parents=True, exist_ok=True)
    path.write_text(sbatch_script(job, grid_args))
    path.chmod(0o755)
    return path


# ----------------------------------------------------------------------------- the command

def add_slurm_arguments(s, int_at_least) -> None:
    """The options of ``python -m adaptive_methods.experiments slurm``."""
    import argparse

    s.add_argument("--preset", required=True, help="a name from `presets`")
    s.add_argument("--tasks", type=int_at_least(1), required=True, help="array tasks (shards of the grid)")
    s.add_argument("--workers", type=int_at_least(1), default=1, help="runs at once in each task")
    s.add_argument("--cpus-per-task", type=int_at_least(1), default=None,
                   help="CPUs each task asks for (default: --workers); each worker gets CPUS/WORKERS threads")
    s.add_argument("--gpus-per-task", type=int_at_least(0), default=0)
    s.add_argument("--mem-per-cpu", default=None, help="Slurm size, e.g. 4G")
    s.add_argument("--time", default="04:00:00", help="Slurm time limit per task")
    s.add_argument("--partition", default=None)
    s.add_argument("--python", default=sys.executable, help="the interpreter the tasks run (default: this one)")
    s.add_argument("--script", default=None,
                   help="where the job script goes (default results/scratch/slurm/PRESET-TASKS.sbatch)")
    s.add_argument("--submit", action="store_true", help="submit the script with sbatch")
    s.add_argument("grid_args", nargs=argparse.REMAINDER, metavar="-- GRID OPTIONS",
                   help="options of `grid` for every task (after --), e.g. -- --epochs 2 --offline")


def slurm_command(args, grid_runs) -> int:
    """Write the job array of ``args`` (and submit it with ``--submit``). ``grid_runs``
    checks the grid options and counts the grid's runs; a bad option is a ValueError."""
    extra = args.grid_args[1:] if args.grid_args[:1] == ["--"] else args.grid_args
    grid_argv = ["--preset", args.preset, *extra]
    for option in ("shard", "workers", "threads"):
        if any(a == f"--{option}" or a.startswith(f"--{option}=") for a in extra):
            raise ValueError(f"--{option} is set by the job array; leave it out of the grid options")
    runs = grid_runs(grid_argv)
    if args.tasks > runs:
        raise ValueError(f"--tasks {args.tasks} is more than the grid's {runs} runs; choose at most {runs}")
    job = SlurmJob(name=args.preset, tasks=args.tasks, workdir=str(Path.cwd()), python=args.python,
                   workers=args.workers, cpus_per_task=args.cpus_per_task or args.workers,
                   gpus_per_task=args.gpus_per_task, mem_per_cpu=args.mem_per_cpu, time=args.time,
                   partition=args.partition)
    script = write_script(job, grid_argv, args.script or Path(job.log_dir) / f"{args.preset}-{args.tasks}.sbatch")
    per = f"{runs // args.tasks}" + (f" or {runs // args.tasks + 1}" if runs % args.tasks else "")
    print(f"{script}: {args.tasks} array tasks, {per} of the {runs} runs each, {job.workers} worker(s) x "
          f"{job.threads} thread(s) per task")
    if not args.submit:
        print(f"submit with: sbatch {script}")
        return 0
    try:
        done = subprocess.run(["sbatch", "--parsable", str(script)], capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        print("error: sbatch is not on PATH; submit the script on a machine of the cluster", file=sys.stderr)
        return 1
    if done.returncode != 0:
        print(f"error: sbatch failed: {done.stderr.strip() or done.stdout.strip()}", file=sys.stderr)
        return 1
    print(f"submitted job array {done.stdout.strip().split(';')[0]}")
    return 0
