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
    """Shard ``index`` of ``count``: the runs at positions ``index, index + count, ...``.

    Written ``i/n`` (``str(shard)``, the command line's ``--shard``); :func:`select_shard`
    picks its runs.

    Parameters
    ----------
    index : int
        In ``[0, count)``.
    count : int
        The number of shards, >= 1.

    Raises
    ------
    TypeError
        If ``index`` or ``count`` is not an int.
    ValueError
        If ``count < 1`` or ``index`` is not in ``[0, count)``.

    Examples
    --------
    >>> str(Shard(1, 4))
    '1/4'
    >>> Shard(4, 4)
    Traceback (most recent call last):
    ...
    ValueError: shard must be i/n with n >= 1 and 0 <= i < n, got 4/4
    """

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
    """The :class:`Shard` written ``"i/n"`` (``0 <= i < n``), as ``--shard`` takes it.

    Parameters
    ----------
    text : str
        Two integers separated by ``/`` (spaces around them allowed).

    Returns
    -------
    Shard

    Raises
    ------
    ValueError
        If ``text`` is not ``i/n`` with ``0 <= i < n``.

    Examples
    --------
    >>> parse_shard("1/4")
    Shard(index=1, count=4)
    >>> parse_shard("4")
    Traceback (most recent call last):
    ...
    ValueError: shard must be written i/n (two integers, 0 <= i < n), got '4'
    """
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match:
        raise ValueError(f"shard must be written i/n (two integers, 0 <= i < n), got {text!r}")
    return Shard(int(match.group(1)), int(match.group(2)))


def select_shard(configs: list, shard: Shard | None) -> list:
    """The runs of ``configs`` that shard ``i/n`` runs: those at positions ``i, i+n, ...``.

    The shards of a grid partition it into parts whose sizes differ by at most one, each
    in the grid's order.

    Parameters
    ----------
    configs : list
        The grid's runs, in its order (:func:`~adaptive_methods.experiments.grid.expand`).
    shard : Shard or None
        The shard; None: every run.

    Returns
    -------
    list

    Raises
    ------
    TypeError
        If ``shard`` is neither a Shard nor None.

    Examples
    --------
    >>> runs = list("abcdefg")
    >>> [select_shard(runs, Shard(i, 3)) for i in range(3)]
    [['a', 'd', 'g'], ['b', 'e'], ['c', 'f']]
    >>> select_shard(runs, None) == runs
    True
    """
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

    Parameters
    ----------
    name : str
        The job's name: letters, digits and ``_.+-``.
    tasks : int
        Array tasks (shards of the grid), >= 1.
    workdir : str
        The folder the tasks run in (the repository, on the shared filesystem).
    python : str
        The interpreter the tasks run.
    workers : int, default 1
        Runs at once in each task, >= 1 and at most ``cpus_per_task``; each gets
        ``cpus_per_task // workers`` threads (:attr:`threads`).
    cpus_per_task : int, default 1
        CPUs each task asks for, >= 1.
    gpus_per_task : int, default 0
        GPUs each task asks for (its workers share them), >= 0.
    mem_per_cpu : str or None, default None
        A Slurm size (``4000``, ``4G``), or None for the cluster's default.
    time : str, default "04:00:00"
        Slurm's time limit per task (``MM``, ``HH:MM:SS``, ``D-HH:MM`` ...).
    partition : str or None, default None
        A partition name, or None for the cluster's default.
    log_dir : str, default "results/scratch/slurm"
        Where Slurm writes each task's output (relative to ``workdir``).

    Raises
    ------
    ValueError
        If a count is out of range, ``workers`` exceeds ``cpus_per_task``, or a name, a
        time or a size is not in Slurm's form (the message names it).

    Examples
    --------
    >>> job = SlurmJob("fashion-logreg", tasks=8, workdir="/shared/repo",
    ...                python="python3", workers=2, cpus_per_task=8)
    >>> job.threads
    4
    >>> SlurmJob("x", tasks=1, workdir=".", python="python3", time="4 hours")
    Traceback (most recent call last):
    ...
    ValueError: time must be a Slurm time limit (MM, HH:MM:SS, D-HH:MM ...), got '4 hours'
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
        """torch threads per run: ``cpus_per_task // workers``."""
        return self.cpus_per_task // self.workers


def sbatch_script(job: SlurmJob, grid_args: list[str]) -> str:
    """The job array's script: task ``i`` runs ``grid GRID_ARGS --shard i/tasks``.

    The script asks for ``#SBATCH --array=0-(tasks-1)`` and runs the grid with the job's
    worker and thread counts (explicit, because the number of threads enters each run's
    identity and a node's CPU count is not the task's).

    Parameters
    ----------
    job : SlurmJob
        The job array.
    grid_args : list of str
        The arguments of ``python -m adaptive_methods.experiments grid`` (``--preset NAME``
        and any overrides), without ``--shard``, ``--workers`` or ``--threads``, which the
        job sets.

    Returns
    -------
    str
        The script, for ``sbatch``.

    Raises
    ------
    ValueError
        If ``grid_args`` contains ``--shard``, ``--workers`` or ``--threads``.

    Examples
    --------
    >>> job = SlurmJob("demo", tasks=4, workdir="/shared/repo", python="python3")
    >>> script = sbatch_script(job, ["--preset", "fashion-logreg"])
    >>> print(script.splitlines()[-1].split(" grid ")[1])  # task i's grid options
    --preset fashion-logreg --workers 1 --threads 1 --shard "${SLURM_ARRAY_TASK_ID}/4"
    >>> sbatch_directives(script)["array"]
    '0-3'
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
    """The ``#SBATCH --key=value`` lines of a job script, as ``{key: value}``.

    Parameters
    ----------
    script : str
        A job script (:func:`sbatch_script`'s).

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> sbatch_directives("#!/bin/bash\\n#SBATCH --time=01:00:00\\n#SBATCH --array=0-7")
    {'time': '01:00:00', 'array': '0-7'}
    """
    out = {}
    for line in script.splitlines():
        match = re.fullmatch(r"#SBATCH\s+--([a-z-]+)=(\S+)\s*", line)
        if match:
            out[match.group(1)] = match.group(2)
    return out


def write_script(job: SlurmJob, grid_args: list[str], path) -> Path:
    """Write :func:`sbatch_script` to ``path`` (executable) and make the log folder.

    Parameters
    ----------
    job : SlurmJob
        The job array; its ``workdir / log_dir`` is created.
    grid_args : list of str
        As for :func:`sbatch_script`.
    path : str or os.PathLike
        The script's file (its folder is created).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        As for :func:`sbatch_script`.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> job = SlurmJob("demo", tasks=2, workdir=folder.name, python="python3")
    >>> path = write_script(job, ["--preset", "fashion-logreg"], f"{folder.name}/a.sbatch")
    >>> os.access(path, os.X_OK), os.path.isdir(f"{folder.name}/{job.log_dir}")
    (True, True)
    >>> folder.cleanup()
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    (Path(job.workdir) / job.log_dir).mkdir(parents=True, exist_ok=True)
    path.write_text(sbatch_script(job, grid_args))
    path.chmod(0o755)
    return path


# ----------------------------------------------------------------------------- the command

def add_slurm_arguments(s, int_at_least) -> None:
    """Add the options of ``python -m adaptive_methods.experiments slurm`` to a parser.

    Parameters
    ----------
    s : argparse.ArgumentParser
        The parser (the ``slurm`` subcommand's).
    int_at_least : callable
        ``int_at_least(low)`` returns the argparse type of an integer >= ``low``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_slurm_arguments(parser, lambda low: int)
    >>> args = parser.parse_args(["--preset", "fashion-logreg", "--tasks", "8",
    ...                           "--", "--epochs", "2"])
    >>> args.tasks, args.workers, args.time, args.grid_args
    (8, 1, '04:00:00', ['--', '--epochs', '2'])
    """
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
    """Write the job array of ``args`` (and submit it with ``--submit``).

    The script goes to ``--script`` (default ``results/scratch/slurm/PRESET-TASKS.sbatch``)
    with the current folder as the tasks' ``workdir``; what was written, and how to submit
    it, is printed.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options of :func:`add_slurm_arguments`.
    grid_runs : callable
        ``grid_runs(grid_argv)`` checks the grid's options (``--preset NAME`` and the
        options after ``--``) and returns the number of its runs; a bad option is a
        ValueError.

    Returns
    -------
    int
        The exit status: 0, or 1 when ``sbatch`` is missing or fails.

    Raises
    ------
    ValueError
        If the grid options set ``--shard``, ``--workers`` or ``--threads``, or
        ``--tasks`` exceeds the grid's runs.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_slurm_arguments(parser, lambda low: int)
    >>> args = parser.parse_args(["--preset", "demo", "--tasks", "8"])
    >>> slurm_command(args, grid_runs=lambda grid_argv: 4)
    Traceback (most recent call last):
    ...
    ValueError: --tasks 8 is more than the grid's 4 runs; choose at most 4
    """
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
