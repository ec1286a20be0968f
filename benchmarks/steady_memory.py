"""Resident memory (RSS) of a long training run, sampled every second: it must level off, not keep growing.

    .venv/bin/python -m benchmarks.steady_memory dqn                                  # 200 epochs = 200,000 env steps
    .venv/bin/python -m benchmarks.steady_memory classifier --data-dir ../shared/datasets/mnist   # mnist_ann, 20 epochs

Prints RSS after 10%, 25%, 50%, 75% and 100% of the run's wall-clock, its maximum, the growth over the second
half of the run (after warm-up, the replay buffer's and the data's memory are all allocated) and the slope of a
least-squares line through the second half's samples, in MiB per minute (a leak shows as a steady positive slope).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    # cartpole_dqn: 1,000 environment steps per epoch, so 200 epochs are 200,000 steps; the 50,000-transition
    # replay buffer is full after 50 epochs. Fewer evaluation episodes keep the run short.
    "dqn": [
        *["--config", "configs/cartpole_dqn.yaml", "--trainer.max_epochs", "200"],
        *["--model.init_args.stop_return", "null", "--model.init_args.val_episodes", "10"],
    ],
    "classifier": ["--config", "configs/mnist_ann.yaml", "--trainer.max_epochs", "20"],
}


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def mib_per_minute(samples: list[tuple[float, float]]) -> float:
    """Slope of the least-squares line through ``(seconds, MiB)`` samples, in MiB per minute."""
    n = len(samples)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in samples) / n
    mean_r = sum(r for _, r in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    return 60 * sum((t - mean_t) * (r - mean_r) for t, r in samples) / spread if spread else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("target", choices=sorted(TARGETS))
    parser.add_argument("--data-dir", default="data", help="folder with the MNIST files (classifier)")
    args = parser.parse_args()
    runs = tempfile.mkdtemp(prefix="memory-")
    command = [sys.executable, "cli.py", "fit", *TARGETS[args.target], "--runs_dir", runs]
    command += ["--trainer.enable_progress_bar", "false"]
    if args.target == "classifier":
        command += ["--data.data_dir", args.data_dir]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    samples: list[tuple[float, float]] = []
    while process.poll() is None:
        rss = rss_mib(process.pid)
        if rss is not None:
            samples.append((time.monotonic() - started, rss))
        time.sleep(1.0)
    _, stderr = process.communicate()
    if process.returncode != 0:
        sys.exit(f"run failed:\n{stderr[-3000:]}")
    total = samples[-1][0]

    def at(fraction: float) -> float:
        return next(rss for t, rss in samples if t >= fraction * total)

    half = [rss for t, rss in samples if t >= total / 2]
    slope = mib_per_minute([(t, rss) for t, rss in samples if t >= total / 2])
    print(
        f"{args.target}: {total:.0f} s, {len(samples)} samples; RSS MiB at 10% {at(0.1):.0f}, 25% {at(0.25):.0f}, "
        f"50% {at(0.5):.0f}, 75% {at(0.75):.0f}, end {samples[-1][1]:.0f}; max {max(r for _, r in samples):.0f}; "
        f"second half min {min(half):.0f} max {max(half):.0f} (growth {max(half) - half[0]:+.0f}, "
        f"slope {slope:+.2f} MiB/min)"
    )


if __name__ == "__main__":
    main()
