"""Two "nodes" of one process each, started with torchrun on 127.0.0.1: train a classifier to the end, check that
the run wrote one run folder with one best and one last checkpoint, then kill a second run with SIGKILL and resume
it with ``--ckpt_path last``.

    .venv/bin/python -m benchmarks.torchrun_two_nodes --data-dir ../shared/datasets/mnist

This is what a cluster does with one process per machine; on a real cluster each node runs the same torchrun
command with its own ``--node_rank`` and the first node's address (see README, "Several machines").
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_nodes(runs: Path, data_dir: str, epochs: int, *extra: str) -> list[subprocess.Popen]:
    port = free_port()
    nodes = []
    for node_rank in (0, 1):
        command = [
            *[sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc_per_node", "1"],
            *["--node_rank", str(node_rank), "--master_addr", "127.0.0.1", "--master_port", str(port)],
            *["cli.py", "fit", "--config", "configs/mnist_ann.yaml", "--data.data_dir", data_dir],
            *["--runs_dir", str(runs), "--trainer.accelerator", "cpu", "--trainer.devices", "1"],
            *["--trainer.num_nodes", "2", "--trainer.strategy", "ddp", "--trainer.max_epochs", str(epochs)],
            *["--trainer.limit_train_batches", "60", "--trainer.enable_progress_bar", "false"],
            *["--checkpoint_every_n_steps", "10", *extra],
        ]
        log = open(runs.parent / f"node{node_rank}-{len(list(runs.parent.glob('node*')))}.log", "w")  # noqa: SIM115
        nodes.append(subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    return nodes


def wait(nodes: list[subprocess.Popen], timeout: float) -> list[int | None]:
    deadline = time.monotonic() + timeout
    for node in nodes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            node.wait(timeout=max(1.0, deadline - time.monotonic()))
    return [node.poll() for node in nodes]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data-dir", default="data", help="folder with the MNIST files")
    parser.add_argument("--work", default=None, help="folder for the runs (default: a temporary folder)")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="torchrun-"))
    runs = work / "runs"
    runs.mkdir(parents=True, exist_ok=True)

    # 1. Train to the end.
    started = time.monotonic()
    codes = wait(start_nodes(runs, args.data_dir, 2), 900)
    folders = sorted(p.name for p in (runs / "mnist_ann").iterdir())
    files = sorted(p.name for p in (runs / "mnist_ann" / folders[0] / "checkpoints").iterdir())
    print(f"two nodes trained to the end: exit codes {codes}, run folders {folders}, checkpoint files {files}, "
          f"{time.monotonic() - started:.0f} s")  # fmt: skip
    assert codes == [0, 0] and folders == ["version_0"] and files == ["best.ckpt", "last.ckpt"]
    first = torch.load(runs / "mnist_ann/version_0/checkpoints/last.ckpt", weights_only=True)
    assert first["global_step"] == 2 * 60, first["global_step"]  # each node trains on its half of every epoch

    # 2. A longer run, killed with SIGKILL (both nodes, as when a job is cancelled) after its first checkpoints.
    killed_runs = work / "killed"
    nodes = start_nodes(killed_runs, args.data_dir, 4)
    checkpoints = killed_runs / "mnist_ann/version_0/checkpoints"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not (checkpoints / "best.ckpt").exists():
        time.sleep(0.2)
    time.sleep(2.0)
    for node in nodes:
        os.killpg(node.pid, signal.SIGKILL)  # torchrun and its worker
    wait(nodes, 60)
    step_at_kill = torch.load(checkpoints / "last.ckpt", weights_only=True)["global_step"]

    # 3. Resume on both nodes.
    codes = wait(start_nodes(killed_runs, args.data_dir, 4, "--ckpt_path", "last"), 900)
    final = torch.load(checkpoints / "last.ckpt", weights_only=True)
    folders = sorted(p.name for p in (killed_runs / "mnist_ann").iterdir())
    print(f"killed at step {step_at_kill} (SIGKILL to both nodes), resumed with --ckpt_path last: exit codes {codes}, "
          f"final step {final['global_step']} of {4 * 60}, run folders {folders}")  # fmt: skip
    assert codes == [0, 0] and final["global_step"] == 4 * 60 and folders == ["version_0"]
    print(f"logs in {work}")


if __name__ == "__main__":
    main()
