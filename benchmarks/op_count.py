"""Tensor operations dispatched per training step: the shipped Lightning path against the hand-written loop.

    .venv/bin/python -m benchmarks.op_count --data-dir ../shared/datasets/mnist            # ANN, CNN, LSTM

On a GPU nearly every operation is a kernel launch, and for these small networks launches are what a step
costs; the count is the same on any device, so it is measured here on the CPU, where no GPU is needed. Counted
with a ``TorchDispatchMode`` from Lightning's ``on_train_batch_start`` to ``on_train_batch_end`` (forward, loss,
backward, optimizer step, the module's own bookkeeping) and around one ``HandLoop.step`` (the same, plus the
gather and normalisation that Lightning does before ``on_train_batch_start``). Counts, not timings: they do
not depend on the machine's load.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import tempfile
from pathlib import Path

import lightning as L
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from benchmarks.overhead import PRESETS, HandLoop, preset_datamodule
from cli import main

ROOT = Path(__file__).resolve().parents[1]


class OpCounter(TorchDispatchMode):
    """Counts every aten operation dispatched while active, by name."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: collections.Counter[str] = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops[func.overloadpacket.__name__] += 1
        return func(*args, **(kwargs or {}))


class StepCounter(L.Callback):
    """Counts the operations of training step ``step`` (after a few, so lazy state exists); then stops."""

    def __init__(self, step: int) -> None:
        self.step = step
        self.counter: OpCounter | None = None
        self.ops: collections.Counter[str] | None = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if batch_idx == self.step:
            self.counter = OpCounter()
            self.counter.__enter__()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        if batch_idx == self.step and self.counter is not None:
            self.counter.__exit__(None, None, None)
            self.ops, trainer.should_stop = self.counter.ops, True


def count(
    model: str, data_dir: str, extra: list[str], step: int = 5
) -> tuple[collections.Counter, collections.Counter]:
    """(Lightning's, the hand loop's) operations in one training step of ``model``'s preset on the CPU."""
    preset = PRESETS[model]
    datamodule = preset_datamodule(preset, data_dir, extra)
    with tempfile.TemporaryDirectory() as runs_dir:
        args = ["--config", str(ROOT / "configs" / f"{preset}.yaml"), "--runs_dir", runs_dir, *extra]
        args += ["--trainer.accelerator", "cpu", "--trainer.max_epochs", "1", "--trainer.num_sanity_val_steps", "0"]
        cli = main([*args, "--trainer.enable_progress_bar", "false"], run=False)
        counter = StepCounter(step)
        cli.trainer.callbacks.append(counter)  # type: ignore[attr-defined]  # Trainer sets it at run time
        with contextlib.redirect_stdout(io.StringIO()):
            cli.trainer.fit(cli.model, datamodule=datamodule)
    assert counter.ops is not None, f"the epoch ended before step {step}"
    hand = HandLoop(preset, datamodule, extra, torch.device("cpu"))
    for index in range(step):
        hand.step(index)
    with OpCounter() as hand_counter:
        hand.step(step)
    return counter.ops, hand_counter.ops


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets" / "mnist"))
    parser.add_argument("--models", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    args = parser.parse_args()
    print("| model | Lightning ops per step | hand-written ops per step | Lightning's extra (minus the hand's) |")
    print("| --- | --- | --- | --- |")
    for model in args.models:
        lightning, hand = count(model, args.data_dir, [])
        difference = lightning.copy()
        difference.subtract(hand)
        extra = ", ".join(f"{name} {n:+d}" for name, n in difference.most_common() if n)
        print(f"| {model} | {sum(lightning.values())} | {sum(hand.values())} | {extra} |", flush=True)
