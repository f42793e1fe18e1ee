"""Step time and state memory of our Adam / AMSGrad against torch.optim.Adam (foreach).

Two parameter sets: a CIFARNET-sized model (~1.8M parameters in 10 tensors, the shapes of
the paper's CIFAR-10 network) and a model with 200 small tensors (where per-tensor Python
overhead dominates).  Gradients are fixed random tensors, so only the optimizer is timed.
Each step of ours and of torch's is timed alternately in one loop (interleaved, so drift of
the machine hits both alike); the rows report the medians and their ratio.

    python benchmarks/bench_optimizer_step.py [--steps 300] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from adaptive_methods import Adam, AMSGrad

CIFARNET_SHAPES = [
    (64, 3, 6, 6), (64,),          # conv1: 64 channels, 6x6 kernels
    (64, 64, 6, 6), (64,),         # conv2
    (384, 64 * 8 * 8), (384,),     # fc 384 (after two 2x2 poolings of 32x32)
    (192, 384), (192,),            # fc 192
    (10, 192), (10,),              # logits
]
SMALL_SHAPES = [(32, 32), (32,)] * 100


def make_params(shapes, device):
    g = torch.Generator().manual_seed(0)
    params = [torch.randn(s, generator=g).to(device).requires_grad_() for s in shapes]
    for p in params:
        p.grad = torch.randn(p.shape, generator=g).to(device) * 1e-2
    return params


def state_bytes(opt) -> tuple[int, int]:
    """(bytes of moment buffers, bytes of all tensors in the state incl. step counters)."""
    buffers = total = 0
    for state in opt.state.values():
        for key, value in state.items():
            if torch.is_tensor(value):
                total += value.numel() * value.element_size()
                if key != "step":
                    buffers += value.numel() * value.element_size()
    return buffers, total


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bench(shapes, amsgrad: bool, steps: int, device: str):
    ours_params, ref_params = make_params(shapes, device), make_params(shapes, device)
    ours = (AMSGrad if amsgrad else Adam)(ours_params, lr=1e-3, foreach=True)
    ref = torch.optim.Adam(ref_params, lr=1e-3, amsgrad=amsgrad, foreach=True)
    times = {"ours": [], "torch": []}
    for i in range(steps + 20):
        order = (("ours", ours), ("torch", ref)) if i % 2 == 0 else (("torch", ref), ("ours", ours))
        for name, opt in order:
            sync(device)
            t0 = time.perf_counter()
            opt.step()
            sync(device)
            if i >= 20:  # warm-up: lazy state creation, allocator
                times[name].append(time.perf_counter() - t0)
    same = all(torch.equal(a, b) for a, b in zip(ours_params, ref_params))
    return statistics.median(times["ours"]), statistics.median(times["torch"]), state_bytes(ours), state_bytes(ref), same


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    if args.threads:
        torch.set_num_threads(args.threads)
    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor() or platform.machine()
    print(f"# torch {torch.__version__}, device {args.device} ({device_name}), {torch.get_num_threads()} threads, median of {args.steps} interleaved steps")
    print(f"{'case':<34}{'ours_ms':>10}{'torch_ms':>10}{'ratio':>8}{'state_ours_B':>15}{'state_torch_B':>15}  bitwise_equal")
    for label, shapes in (("cifarnet (1.8M params, 10 tensors)", CIFARNET_SHAPES), ("200 small tensors (211k params)", SMALL_SHAPES)):
        for amsgrad in (True, False):
            ours_t, ref_t, (ours_buf, _), (ref_buf, ref_total), same = bench(shapes, amsgrad, args.steps, args.device)
            name = f"{'AMSGrad' if amsgrad else 'Adam'} {label.split(' (')[0]}"
            print(f"{name:<34}{ours_t * 1e3:>10.3f}{ref_t * 1e3:>10.3f}{ours_t / ref_t:>8.3f}{ours_buf:>15d}{ref_buf:>15d}  {same}")
    print("# state bytes: moment buffers (m, v, vhat); torch additionally keeps one 'step' tensor per parameter, we keep a Python int")


if __name__ == "__main__":
    main()
