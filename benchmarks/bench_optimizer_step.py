"""Step time and state memory of every registered method against what a user would pick
instead: torch.optim's for-loop (its CPU default), foreach and fused paths.

The parameters have the shapes of the paper's CIFARNET (~1.8M parameters in 10 tensors),
or 200 small tensors (where per-tensor Python overhead dominates); gradients are fixed
random tensors, so only the optimizer is timed.  All paths of one method are timed in
one loop, in rotating order (interleaved, so drift of the machine hits all alike), in
``--rounds`` rounds that each build every optimizer afresh in a rotated order (where an
optimizer's tensors land moves its time by a few percent, and the first one built
measures slower whatever its code); rows report medians in milliseconds and the ratios of
ours to torch's default and fastest.

Each method is compared with the torch.optim class a user would pick instead: its own
counterpart (SGD, Adagrad, RMSprop, Adam, Adam(amsgrad=True), RAdam, NAdam, AdamW) or,
for a method torch.optim does not have, ``torch.optim.Adam(amsgrad=True)``, the closest;
the row names the class.  Ours runs its default (on the CPU and CUDA the foreach path),
``foreach=True`` and ``fused=True`` (compiled); torch its for-loop, foreach and fused paths.  ``first_s`` is
the first compiled step in this process (tracing plus, on a cold Inductor cache, the C++
build; a warm cache skips the build).

A path that allocates temporaries (a denominator the size of the parameters, as torch's
for-loop and foreach paths and ours do) gets them back from glibc either from its heap or,
after glibc has handed the freed block back to the system, as fresh pages: over a
thousand page faults per step, which double the step time of a memory-bound update.
Which path pays depends only on what the paths before it in the rotation freed (it is
not the path's code: ours_default and ours_foreach run the same code, and could differ by
2x), so by default glibc is told to keep freed memory (``mallopt``; ``--no-keep-freed``
measures the allocator's default behaviour).

    python benchmarks/bench_optimizer_step.py [--steps 100] [--device cpu|cuda] [--shapes cifarnet|small] [--threads N]
        [--rounds 3] [--no-keep-freed]
"""

from __future__ import annotations

import argparse
import ctypes
import platform
import statistics
import time
import warnings

import torch

from adaptive_methods.registry import METHODS

CIFARNET_SHAPES = [
    (64, 3, 6, 6), (64,),          # conv1: 64 channels, 6x6 kernels
    (64, 64, 6, 6), (64,),         # conv2
    (384, 64 * 8 * 8), (384,),     # fc 384 (after two 2x2 poolings of 32x32)
    (192, 384), (192,),            # fc 192
    (10, 192), (10,),              # logits
]
SMALL_SHAPES = [(32, 32), (32,)] * 100

# the torch.optim class a user would pick instead of ours: its own counterpart where
# torch.optim has the method, else the closest one, Adam(amsgrad=True)
TORCH_COUNTERPART = {
    "sgd": ("SGD", torch.optim.SGD, {}),
    "adagrad": ("Adagrad", torch.optim.Adagrad, {}),
    "rmsprop": ("RMSprop", torch.optim.RMSprop, {}),
    "adam": ("Adam", torch.optim.Adam, {}),
    "amsgrad": ("Adam(amsgrad)", torch.optim.Adam, {"amsgrad": True}),
    "radam": ("RAdam", torch.optim.RAdam, {}),
    "nadam": ("NAdam", torch.optim.NAdam, {}),
    "adamw": ("AdamW", torch.optim.AdamW, {}),
}
CLOSEST = ("~Adam(amsgrad)", torch.optim.Adam, {"amsgrad": True})
OURS = (("ours_default", {}), ("ours_foreach", {"foreach": True}), ("ours_fused", {"fused": True}))
TORCHS = (("torch_forloop", {"foreach": False}), ("torch_foreach", {"foreach": True}), ("torch_fused", {"fused": True}))
COLUMNS = tuple(label for label, _ in OURS + TORCHS)


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed blocks (up to 32 MiB, its largest mmap threshold) in its
    heap instead of returning them to the system; False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 32 * 1024 * 1024)) and bool(libc.mallopt(m_trim_threshold, 2**30))


def make_params(shapes, device):
    g = torch.Generator().manual_seed(0)
    params = [torch.randn(s, generator=g).to(device).requires_grad_() for s in shapes]
    for p in params:
        p.grad = torch.randn(p.shape, generator=g).to(device) * 1e-2
    return params


def state_bytes(opt) -> int:
    """Bytes of every tensor in the optimizer state (moment buffers and step tensors)."""
    return sum(v.numel() * v.element_size() for s in opt.state.values() for v in s.values() if torch.is_tensor(v))


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def torch_default_path(device: str) -> str:
    """What torch.optim runs without flags: the for-loop on the CPU, foreach on CUDA."""
    return "torch_foreach" if device.startswith("cuda") else "torch_forloop"


class MissingPath(Exception):
    """A path that does not exist here (torch has no such flag for the class, or ours fell
    back from the compiled path); its message says why."""


def path_makers(name: str, shapes, device, fused: bool = True):
    """torch's counterpart class, and (label, make) for each path of ours and of torch's:
    make() builds the optimizer over fresh parameters, takes one step, and returns the
    optimizer with that step's time, or raises MissingPath."""
    info = METHODS[name]
    counterpart, torch_cls, torch_kwargs = TORCH_COUNTERPART.get(name, CLOSEST)
    lr = 1e-3

    def ours(label, flags):
        def make():
            opt = info.cls(make_params(shapes, device), lr, **flags)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                t0 = time.perf_counter()
                opt.step()
                sync(device)
                elapsed = time.perf_counter() - t0
            if flags.get("fused") and not opt.param_groups[0]["fused"]:
                raise MissingPath(f"{label}: {caught[-1].message if caught else 'fell back'}")
            return opt, elapsed
        return make

    def theirs(label, flags):
        def make():
            try:
                opt = torch_cls(make_params(shapes, device), lr, **torch_kwargs, **flags)
                opt.step()
            except (RuntimeError, TypeError, ValueError) as exc:  # no such path for this class here
                raise MissingPath(f"{label}: {type(exc).__name__}: {str(exc).splitlines()[0][:100]}") from exc
            return opt, float("nan")
        return make

    makers = [(label, ours(label, flags)) for label, flags in OURS]
    makers += [(label, theirs(label, flags)) for label, flags in TORCHS]
    return counterpart, [(label, make) for label, make in makers if fused or "fused" not in label]


def bench(name: str, shapes, steps: int, device: str, fused: bool = True, rounds: int = 3):
    """Median step time of every path; each of ``rounds`` rounds builds all paths afresh,
    in an order rotated from the last round's, and steps them in rotating order.

    Where an optimizer's tensors land in memory moves its step time by a few percent
    (the one built first in a process measures slower whatever its code): building
    anew in rotated order gives every path every place in turn."""
    counterpart, makers = path_makers(name, shapes, device, fused)
    times = {label: [] for label, _ in makers}
    missing, first, state = [], float("nan"), {}
    per_round = max(1, -(-steps // rounds))
    for r in range(rounds):
        order = makers[r % len(makers):] + makers[: r % len(makers)]
        paths = []
        for label, make in order:
            try:
                opt, elapsed = make()
            except MissingPath as why:
                if r == 0:
                    missing.append(str(why))
                continue
            if label == "ours_fused" and r == 0:
                first = elapsed
            paths.append((label, opt))
        for i in range(per_round + 5):
            for label, opt in paths[i % len(paths):] + paths[: i % len(paths)]:
                sync(device)
                t0 = time.perf_counter()
                opt.step()
                sync(device)
                if i >= 5:
                    times[label].append(time.perf_counter() - t0)
        state = {label: state_bytes(opt) for label, opt in paths}
        del paths
    medians = {k: statistics.median(v) * 1e3 for k, v in times.items() if v}
    return counterpart, medians, state, first, missing


def ratios(ms: dict, device: str) -> tuple[float, float]:
    """ours_default / torch's default, and ours_fused / torch's fastest path."""
    nan = float("nan")
    default = ms["ours_default"] / ms[torch_default_path(device)]
    fastest = min((ms[k] for k in ("torch_fused", "torch_foreach", "torch_forloop") if k in ms), default=nan)
    return default, ms.get("ours_fused", nan) / fastest


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--shapes", choices=("cifarnet", "small"), default="cifarnet")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated registered names")
    parser.add_argument("--fused", action=argparse.BooleanOptionalAction, default=True,
                        help="also time the fused paths (--no-fused: skip them, and the first compilations)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="times every path is built anew, in rotated order, for the same total of steps")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--keep-freed", action=argparse.BooleanOptionalAction, default=True,
                        help="glibc keeps freed memory, so that no path page-faults its temporaries back")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")
    names = [n.strip() for n in args.methods.split(",")]
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        parser.error(f"--methods: {unknown} are not registered; allowed: {', '.join(METHODS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    kept = args.keep_freed and keep_freed_memory()
    shapes = CIFARNET_SHAPES if args.shapes == "cifarnet" else SMALL_SHAPES
    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor() or platform.machine()
    print(f"# torch {torch.__version__}, {args.device} ({device_name}), {torch.get_num_threads()} threads, "
          f"{args.shapes} shapes, median ms of {args.steps} interleaved steps in {args.rounds} rounds of fresh optimizers"
          + (", glibc keeps freed memory" if kept else ""))
    print(f"{'method':<10}{'torch class':<16}" + "".join(f"{c:>14}" for c in COLUMNS)
          + f"{'def/tdef':>9}{'fus/tbest':>10}{'first_s':>8}")
    footnotes, memory = [], []
    for name in names:
        counterpart, ms, state, first, missing = bench(name, shapes, args.steps, args.device, args.fused, args.rounds)
        default, fused = ratios(ms, args.device)
        print(f"{name:<10}{counterpart:<16}" + "".join(f"{ms[c]:>14.3f}" if c in ms else f"{'n/a':>14}" for c in COLUMNS)
              + f"{default:>9.3f}{fused:>10.3f}{first:>8.2f}", flush=True)
        memory.append(f"{name:<10}{counterpart:<16}" + "".join(f"{state[c]:>14d}" if c in state else f"{'n/a':>14}"
                                                             for c in COLUMNS))
        footnotes += [f"#   {name}: {why}" for why in missing]
    print("# state bytes per path (moment buffers and step tensors):")
    print(*memory, sep="\n")
    print(f"# def/tdef: ours_default / {torch_default_path(args.device)} (torch's default here); "
          "fus/tbest: ours_fused / torch's fastest path.")
    print("# ~: torch.optim has no such method; compared with torch.optim.Adam(amsgrad=True), the closest one.")
    print("# first_s: the first compiled step in this process (tracing, and the C++ build on a cold Inductor cache).")
    if footnotes:
        print("# paths that do not exist here:", *footnotes, sep="\n")

if __name__ == "__main__":
    main()
