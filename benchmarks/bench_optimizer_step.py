"""Step time and state memory of every registered method against what a user would pick
instead: torch.optim's for-loop (its CPU default), foreach and fused paths.

The parameters have the shapes of the paper's CIFARNET (~1.8M parameters in 10 tensors),
or 200 small tensors (where per-tensor Python overhead dominates); gradients are fixed
random tensors, so only the optimizer is timed.  All paths of one method are timed in
one loop, in rotating order (interleaved, so drift of the machine hits all alike); rows
report medians in milliseconds and the ratios of ours to torch's default and fastest.

Methods torch.optim does not have (the paper's AMSGrad, AdamNC, AdamX) are compared with
``torch.optim.Adam(amsgrad=True)``, the closest thing a user could pick.  ``first_s`` is
the first compiled step in this process (tracing plus, on a cold Inductor cache, the C++
build; a warm cache skips the build).

    python benchmarks/bench_optimizer_step.py [--steps 100] [--device cpu|cuda] [--shapes cifarnet|small]
"""

from __future__ import annotations

import argparse
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

# ours (constructor keyword arguments) -> the torch.optim class and arguments it equals,
# or the closest one a user would pick (marked by "~")
TORCH_COUNTERPART = {
    "sgd": ("", torch.optim.SGD, {}),
    "adagrad": ("", torch.optim.Adagrad, {}),
    "rmsprop": ("", torch.optim.RMSprop, {}),
    "adam": ("", torch.optim.Adam, {}),
    "amsgrad": ("", torch.optim.Adam, {"amsgrad": True}),
}
CLOSEST = ("~", torch.optim.Adam, {"amsgrad": True})


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


def candidates(name: str, shapes, device):
    """(label, optimizer) for each path of ours and of torch's counterpart."""
    info = METHODS[name]
    mark, torch_cls, torch_kwargs = TORCH_COUNTERPART.get(name, CLOSEST)
    lr = 1e-3
    out = [("ours_default", info.cls(make_params(shapes, device), lr))]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fused = info.cls(make_params(shapes, device), lr, fused=True)
        t0 = time.perf_counter()
        fused.step()
        sync(device)
        first = time.perf_counter() - t0
    if fused.param_groups[0]["fused"]:
        out.append(("ours_fused", fused))
    else:
        print(f"# {name}: fused path unavailable: {caught[-1].message if caught else 'unknown'}")
    for path, flags in (("torch_forloop", dict(foreach=False)), ("torch_foreach", dict(foreach=True)),
                        ("torch_fused", dict(fused=True))):
        try:
            opt = torch_cls(make_params(shapes, device), lr, **torch_kwargs, **flags)
            opt.step()
        except (RuntimeError, TypeError, ValueError):
            continue  # torch has no such path for this class on this device
        out.append((path, opt))
    return mark, out, first


def bench(name: str, shapes, steps: int, device: str):
    mark, paths, first = candidates(name, shapes, device)
    times = {label: [] for label, _ in paths}
    for i in range(steps + 10):
        order = paths[i % len(paths):] + paths[: i % len(paths)]
        for label, opt in order:
            sync(device)
            t0 = time.perf_counter()
            opt.step()
            sync(device)
            if i >= 10:
                times[label].append(time.perf_counter() - t0)
    medians = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    state = {k: state_bytes(opt) for k, opt in paths}
    return mark, medians, state, first


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--shapes", choices=("cifarnet", "small"), default="cifarnet")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated registered names")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    names = [n.strip() for n in args.methods.split(",")]
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        parser.error(f"--methods: {unknown} are not registered; allowed: {', '.join(METHODS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    shapes = CIFARNET_SHAPES if args.shapes == "cifarnet" else SMALL_SHAPES
    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor() or platform.machine()
    print(f"# torch {torch.__version__}, {args.device} ({device_name}), {torch.get_num_threads()} threads, "
          f"{args.shapes} shapes, median ms of {args.steps} interleaved steps")
    cols = ("ours_default", "ours_fused", "torch_forloop", "torch_foreach", "torch_fused")
    print(f"{'method':<10}" + "".join(f"{c:>14}" for c in cols)
          + f"{'default/tdef':>14}{'fused/tfused':>14}{'first_s':>9}{'state_B':>11}{'torch_state_B':>14}")
    for name in names:
        mark, ms, state, first = bench(name, shapes, args.steps, args.device)
        torch_default = ms.get("torch_foreach" if args.device.startswith("cuda") else "torch_forloop")
        row = f"{mark + name:<10}" + "".join(f"{ms[c]:>14.3f}" if c in ms else f"{'n/a':>14}" for c in cols)
        ratio_default = ms["ours_default"] / torch_default
        fastest_torch = ms.get("torch_fused", ms.get("torch_foreach"))
        ratio_fused = ms["ours_fused"] / fastest_torch if "ours_fused" in ms else float("nan")
        torch_state = state.get("torch_foreach", state.get("torch_forloop", 0))
        print(row + f"{ratio_default:>14.3f}{ratio_fused:>14.3f}{first:>9.2f}{state['ours_default']:>11d}{torch_state:>14d}")
    print("# ~: torch.optim has no such method; compared with torch.optim.Adam(amsgrad=True).")
    print("# fused/tfused: ours compiled against torch's fused path (its foreach path where it has none).")


if __name__ == "__main__":
    main()
