"""Lightning's floor: the least its training loop costs per step, beside the shipped path and a hand loop.

    .venv/bin/python -m benchmarks.lightning_floor --data-dir ../shared/datasets/mnist
    .venv/bin/python -m benchmarks.lightning_floor --models ANN --reps 3 --steps 50   # a quicker look

``benchmarks.overhead`` compares the shipped ``cli.py fit`` with a hand-written loop. This adds a third
contender that keeps Lightning's ``Trainer.fit`` and nothing else of the project: the same network, loss,
fused AdamW and gradient clipping in a LightningModule with one ``training_step`` (no scheduler, metrics or
logging), a loader that yields batches gathered and normalised as the hand loop makes them (no
``DataLoader``), and a Trainer with no logger, checkpoints, progress bar or model summary (the lean loop's
profiler and cached CUDA check kept, as in the shipped path). Whatever ratio it reaches is
the most any project built on Lightning's automatic optimization can reach for that model on this machine.

Per repetition and model, the shipped fit and the floor fit each run one epoch with the hand-written step
interleaved after each of their batches (``benchmarks.overhead.PairedTimer``), in alternating order. Prints
one markdown table: each contender's ratio to the hand loop it was paired with (median, min-max) and its
extra milliseconds per step.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
from collections.abc import Iterator
from functools import partial

import lightning as L
import torch
import torch.nn.functional as F

from benchmarks.overhead import PRESETS, ROOT, HandLoop, PairedTimer, hand_batch, paired_seconds, preset_datamodule
from cli import main as cli_main
from datamodules import MNISTDataModule
from lightning_classics.runs.fused_optimizers import build_optimizer
from lightning_classics.runs.lean_loop import NoOpProfiler
from lightning_classics.runs.lightning_internals import CachedCudaCheck
from lightning_modules.classifier import Classifier


class FloorModule(L.LightningModule):
    """Only what the Trainer needs: the preset's network, its loss, and the fused AdamW of the shipped path."""

    def __init__(self, net: torch.nn.Module, lr: float, weight_decay: float, label_smoothing: float) -> None:
        super().__init__()
        self.net, self.lr, self.weight_decay, self.label_smoothing = net, lr, weight_decay, label_smoothing

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        inputs, targets = batch
        return F.cross_entropy(self.net(inputs), targets, label_smoothing=self.label_smoothing)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return build_optimizer(torch.optim.AdamW, self.parameters(), True, lr=self.lr, weight_decay=self.weight_decay)


class GatherLoader:
    """One epoch of batches made as ``HandLoop.step`` makes them (``hand_batch``), in a fresh order."""

    def __init__(self, datamodule: MNISTDataModule, device: torch.device) -> None:
        self.images, self.labels = (t.to(device) for t in datamodule.sets["train"].tensors)
        self.mean, self.std, self.augment = datamodule.pixel_mean, datamodule.pixel_std, datamodule.hparams.augment
        self.batch_size = datamodule.hparams.batch_size

    def __len__(self) -> int:
        return len(self.images) // self.batch_size

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = torch.randperm(len(self.images), device=self.images.device)
        for step in range(len(self)):
            index = order[step * self.batch_size : (step + 1) * self.batch_size]
            yield hand_batch(self.images, self.labels, index, self.mean, self.std, self.augment)


def floor_seconds(
    preset: str, datamodule: MNISTDataModule, warmup: int, steps: int, extra: list[str]
) -> tuple[float, float]:
    """(Lightning's floor, hand) seconds for ``steps`` steps, interleaved step by step."""
    hand = HandLoop(preset, datamodule, extra)
    cli = cli_main(["--config", str(ROOT / "configs" / f"{preset}.yaml"), *extra], run=False)
    model = cli.model
    assert isinstance(model, Classifier)
    hp, device = model.hparams, cli.trainer.strategy.root_device
    floor = FloorModule(model.net, hp.lr, hp.weight_decay, hp.label_smoothing)
    timer = PairedTimer(hand, warmup, steps)
    trainer = L.Trainer(
        accelerator=device.type,
        devices=1,
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        profiler=NoOpProfiler(),
        gradient_clip_val=cli.trainer.gradient_clip_val,
        callbacks=[timer, CachedCudaCheck()],
    )
    gc.collect()  # as shipped_fit does: no earlier run's garbage collected inside the window
    trainer.fit(floor, train_dataloaders=GatherLoader(datamodule, device))
    assert timer.lightning_seconds is not None, "the epoch ended before the timed window did: lower --warmup/--steps"
    return timer.lightning_seconds, timer.hand_seconds


def run(models: list[str], data_dir: str, reps: int, warmup: int, steps: int, extra: list[str]) -> str:
    torch.set_num_threads(2)
    # ratios[model][contender]: Lightning / hand per repetition; extra_ms likewise, per step
    ratios: dict[str, dict[str, list[float]]] = {m: {"shipped": [], "floor": []} for m in models}
    extra_ms: dict[str, dict[str, list[float]]] = {m: {"shipped": [], "floor": []} for m in models}
    datamodules = {name: preset_datamodule(PRESETS[name], data_dir, extra) for name in models}
    with tempfile.TemporaryDirectory() as runs_dir:
        for rep in range(reps):
            for name in models:
                preset, datamodule = PRESETS[name], datamodules[name]
                contenders = {
                    "shipped": partial(paired_seconds, preset, datamodule, runs_dir, warmup, steps, extra),
                    "floor": partial(floor_seconds, preset, datamodule, warmup, steps, extra),
                }
                order = list(contenders) if rep % 2 == 0 else list(reversed(contenders))
                for contender in order:
                    torch.manual_seed(rep)
                    lightning, hand = contenders[contender]()
                    ratios[name][contender].append(hand / lightning)
                    extra_ms[name][contender].append(1000 * (lightning - hand) / steps)
                    print(f"rep {rep} {name} {contender}: ratio {hand / lightning:.3f}", flush=True)
    rows = [
        "| model | shipped / hand (median) | min-max | floor / hand (median) | min-max "
        "| shipped extra ms/step | floor extra ms/step | reps |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in models:
        shipped, floor = ratios[name]["shipped"], ratios[name]["floor"]
        rows.append(
            f"| {name} | **{statistics.median(shipped):.3f}** | {min(shipped):.3f}-{max(shipped):.3f} "
            f"| **{statistics.median(floor):.3f}** | {min(floor):.3f}-{max(floor):.3f} "
            f"| {statistics.median(extra_ms[name]['shipped']):.2f} | {statistics.median(extra_ms[name]['floor']):.2f} "
            f"| {reps} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets" / "mnist"))
    parser.add_argument("--models", nargs="+", default=["ANN"], choices=list(PRESETS))
    parser.add_argument("--reps", type=int, default=6, help="repetitions per model (each runs both contenders)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps before the window")
    parser.add_argument("--steps", type=int, default=150, help="timed steps per fit")
    parser.add_argument("extra", nargs="*", help="more cli.py options for every contender, after --")
    args = parser.parse_args(argv)
    table = run(args.models, args.data_dir, args.reps, args.warmup, args.steps, args.extra)
    print(table)
    return table


if __name__ == "__main__":
    main()
