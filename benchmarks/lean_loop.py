"""What the lean loop buys: ms per training batch through the shipped CLI, with it and without.

    .venv/bin/python -m benchmarks.lean_loop --data-dir ../shared/datasets/mnist
    .venv/bin/python -m benchmarks.lean_loop --runs "DQN CartPole" --blocks 60 --switch nvml   # one piece
    python -m benchmarks.lean_loop --runs "ANN, 8-wide" ANN -- --trainer.accelerator gpu   # on a GPU

Each run is one shipped ``fit`` (the preset, TensorBoard logging, checkpoints, progress bar). After
``--warmup`` batches it switches between two variants every ``--block`` batches, so that a change in
machine load hits both alike, and times each block:

* lean: as shipped (the CLI's ``NoOpProfiler`` from lightning_classics/runs/lean_loop.py, and ``CachedCudaCheck`` from
  lightning_classics/runs/lightning_internals.py);
* plain: Lightning's ``PassThroughProfiler`` and the NVML CUDA check that ``import lightning`` asks for on
  every optimizer step; with ``--switch profiler`` or ``--switch nvml`` only that piece differs.

Prints one markdown table: ms per batch of each (median over blocks) and plain / lean for each pair of
neighbouring blocks (median and quartiles).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.profilers import PassThroughProfiler

from cli import main as cli_main
from lightning_classics.runs.lightning_internals import NVML_CHECK

ROOT = Path(__file__).resolve().parents[1]
MNIST_RUNS = {"ANN, 8-wide": ["--model.init_args.hidden_sizes", "[8,8,8]"], "ANN": []}
RUNS = [*MNIST_RUNS, "DQN CartPole"]
SWITCHES = ("all", "profiler", "nvml")  # which pieces the plain blocks take away


class VariantSwitcher(L.Callback):
    """From batch ``warmup`` on, ``block`` batches lean, ``block`` plain, and so on for ``2 * blocks`` blocks
    (which goes first alternates from pair to pair); records the seconds per batch of each block."""

    # trainer: Any, as mypy sees no ``profiler`` on L.Trainer (the Trainer sets it at run time)
    def __init__(self, trainer: Any, warmup: int, block: int, blocks: int, switch: str = "all") -> None:
        self.warmup, self.block, self.last = warmup, block, warmup + 2 * blocks * block
        self.lean_profiler = trainer.profiler
        self.plain_profiler = PassThroughProfiler() if switch in ("all", "profiler") else trainer.profiler
        self.switch_nvml = switch in ("all", "nvml")
        self.lean_nvml: str | None = None  # the NVML variable as CachedCudaCheck leaves it (read at train start)
        self.seconds: dict[bool, list[float]] = {True: [], False: []}  # per block, by lean
        self._lean: bool | None = None  # the variant of the block under way
        self._start = 0.0

    def _use(self, trainer: Any, lean: bool) -> None:
        trainer.profiler = self.lean_profiler if lean else self.plain_profiler
        nvml = self.lean_nvml if lean or not self.switch_nvml else "1"
        if nvml is None:
            os.environ.pop(NVML_CHECK, None)
        else:
            os.environ[NVML_CHECK] = nvml
        self._lean = lean

    def on_train_start(self, trainer, pl_module) -> None:
        self.lean_nvml = os.environ.get(NVML_CHECK)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        since = batch_idx - self.warmup
        if since < 0 or since % self.block:
            return
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize()  # the GPU's queued work belongs to the block before
        now = time.perf_counter()
        if self._lean is not None:
            self.seconds[self._lean].append((now - self._start) / self.block)
        if batch_idx >= self.last:
            self._use(trainer, lean=True)
            trainer.should_stop = True
            return
        pair, second = divmod(since // self.block, 2)
        self._use(trainer, lean=(pair % 2 == 0) != bool(second))
        self._start = now


def timed_run(
    name: str, runs_dir: str, data_dir: str, warmup: int, block: int, blocks: int, switch: str, extra: list[str]
):
    if name == "DQN CartPole":  # one long epoch: no evaluation inside the timed blocks
        args = ["--config", "cartpole_dqn", "--model.init_args.steps_per_epoch", "100000"]  # presets by name
    else:
        args = ["--config", "mnist_ann", "--data.data_dir", data_dir, *MNIST_RUNS[name]]
    args += ["--runs_dir", runs_dir, "--trainer.max_epochs", "1", "--trainer.num_sanity_val_steps", "0", *extra]
    cli = cli_main(args, run=False)
    switcher = VariantSwitcher(cli.trainer, warmup, block, blocks, switch)
    cli.trainer.callbacks.append(switcher)  # type: ignore[attr-defined]  # Trainer sets it at run time
    with contextlib.redirect_stdout(io.StringIO()):  # the model summary
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    if len(switcher.seconds[False]) < blocks:
        raise SystemExit(f"{name}: the epoch ended after {len(switcher.seconds[False])} plain blocks: lower --blocks")
    return switcher.seconds


def quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    low, mid, high = statistics.quantiles(values, n=4)
    return low, mid, high


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets" / "mnist"))
    parser.add_argument("--runs", nargs="+", default=RUNS, choices=RUNS)
    parser.add_argument("--warmup", type=int, default=20, help="untimed batches first")
    parser.add_argument("--block", type=int, default=10, help="batches per timed block")
    parser.add_argument("--blocks", type=int, default=20, help="timed blocks of each variant")
    parser.add_argument("--switch", default="all", choices=SWITCHES, help="the pieces the plain blocks take away")
    parser.add_argument("extra", nargs="*", help="more cli.py options for every run, after --")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    rows = [
        "| run | plain ms/batch (median) | lean ms/batch (median) | plain / lean median | quartiles | block pairs |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory() as runs_dir:
        for name in args.runs:
            seconds = timed_run(
                name, runs_dir, args.data_dir, args.warmup, args.block, args.blocks, args.switch, args.extra
            )
            ratios = [plain / lean for plain, lean in zip(seconds[False], seconds[True], strict=True)]
            low, mid, high = quartiles(ratios)
            rows.append(
                f"| {name} | {1000 * statistics.median(seconds[False]):.3f} | "
                f"{1000 * statistics.median(seconds[True]):.3f} | **{mid:.3f}** | {low:.3f}-{high:.3f} | {len(ratios)} |"
            )
            print(rows[-1], flush=True)
    table = "\n".join(rows)
    print(table)
    return table


if __name__ == "__main__":
    main()
