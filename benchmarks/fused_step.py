"""What the fused optimizer step buys: whole training steps with torch's default AdamW and the fused one.

    .venv/bin/python -m benchmarks.fused_step
    .venv/bin/python -m benchmarks.fused_step --models ANN --steps 20 --reps 3

For each model (the presets' networks: ANN, CNN, the speed preset's half-width CNN, LSTM) two copies of the
same network train on the same random batch of 128 images, one with ``AdamW()`` (torch's default: a loop
over the tensors on the CPU, foreach on a GPU) and one with ``AdamW(fused=True)``, what the project uses
(lightning_classics/runs/fused_optimizers.py). They alternate ``--steps`` steps at a time, ``--reps`` times, so a
change in machine load hits both alike. Prints one markdown table: ms per step (median) and the speed-up.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from lightning_classics.runs.fused_optimizers import build_optimizer
from lightning_modules import ANN, CNN, LSTM
from lightning_modules.classifier import Classifier

MODELS: dict[str, Callable[[], Classifier]] = {
    "ANN": ANN,
    "CNN": CNN,
    "CNN 16-32-64 (speedrun)": lambda: CNN(channels=(16, 32, 64), dropout=0.0),
    "LSTM": LSTM,
}


def step_seconds(net: torch.nn.Module, optimizer: torch.optim.Optimizer, batch, steps: int) -> float:
    """Seconds per step over ``steps`` forward-backward-update steps."""
    images, labels = batch
    cuda = images.device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()  # the other contender's queued work is not ours
    start = time.perf_counter()
    for _ in range(steps):
        loss = F.cross_entropy(net(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    if cuda:
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def measure(name: str, device: torch.device, steps: int, reps: int) -> tuple[float, float]:
    """Median seconds per step (default AdamW, fused AdamW)."""
    torch.manual_seed(0)
    batch = torch.randn(128, 1, 28, 28, device=device), torch.randint(0, 10, (128,), device=device)
    contenders: list[tuple[torch.nn.Module, torch.optim.Optimizer, list[float]]] = []
    for fuse in (False, True):
        net = MODELS[name]().net.to(device).train()
        adamw = build_optimizer(torch.optim.AdamW, net.parameters(), fuse, lr=1e-3, weight_decay=1e-4)
        step_seconds(net, adamw, batch, 3)  # warm-up: allocations, optimizer state
        contenders.append((net, adamw, []))
    for _ in range(reps):
        for net, optimizer, seconds in contenders:
            seconds.append(step_seconds(net, optimizer, batch, steps))
    default, fused = (statistics.median(seconds) for _, _, seconds in contenders)
    return default, fused


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--steps", type=int, default=10, help="steps per contender per repetition")
    parser.add_argument("--reps", type=int, default=7, help="alternating repetitions")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = [
        "| network | default AdamW ms/step | fused AdamW ms/step | speed-up |",
        "| --- | --- | --- | --- |",
    ]
    for name in args.models:
        default, fused = measure(name, torch.device(args.device), args.steps, args.reps)
        rows.append(f"| {name} | {1e3 * default:.2f} | {1e3 * fused:.2f} | {default / fused:.2f}x |")
        print(rows[-1], flush=True)
    return "\n".join(rows)


if __name__ == "__main__":
    print(main())
