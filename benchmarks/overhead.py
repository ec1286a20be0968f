"""Framework tax: the shipped CLI training path against a hand-written PyTorch loop, side by side.

    .venv/bin/python -m benchmarks.overhead --data-dir ../shared/datasets/mnist
    .venv/bin/python -m benchmarks.overhead --models ANN --reps 3 --steps 50   # quicker look at one model

For each model (``cli.py fit`` with the ANN, CNN and LSTM presets as shipped: TensorBoard logging,
checkpoints, resume state, progress bar) and each repetition, both contenders train the same network
architecture, freshly initialised, on the same MNIST images held in memory as uint8 (batch 128, AdamW, the
preset's learning rate and gradient clipping, 2 torch threads). They are interleaved step by step (one
hand-written step after each Lightning batch), so a change in machine load hits both alike. Only the steady
state is timed: ``--warmup`` steps first, then ``--steps`` steps (Lightning: from the start of one batch to
the start of the batch ``--steps`` later, minus the hand-written steps in between: data loading, step,
logging and progress bar included; start-up, validation and the epoch-end checkpoint excluded).

Prints one markdown table: images/s of each (median over repetitions), the ratio Lightning / hand per
repetition (median, min and max), and the same gap as Lightning's extra milliseconds per step.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import lightning as L
import torch
import torch.nn.functional as F

from cli import main
from datamodules import MNISTDataModule
from datamodules.augment import random_affine
from lightning_classics.runs.fused_optimizers import build_optimizer
from lightning_modules.classifier import Classifier

ROOT = Path(__file__).resolve().parents[1]
PRESETS = {"ANN": "mnist_ann", "CNN": "mnist_cnn", "LSTM": "mnist_lstm"}


class HandLoop:
    """What one would write by hand: shuffle, gather a batch, normalise (and augment), step AdamW."""

    def __init__(
        self, preset: str, datamodule: MNISTDataModule, extra: list[str], device: torch.device | None = None
    ) -> None:
        """``device``: by default the one the preset with ``extra`` trains on (its Trainer's root device)."""
        cli = main(["--config", str(ROOT / "configs" / f"{preset}.yaml"), *extra], run=False)
        model = cli.model
        assert isinstance(model, Classifier)
        device = device or cli.trainer.strategy.root_device
        self.net, hp = model.net.to(device).train(), model.hparams
        self.label_smoothing = hp.label_smoothing
        self.clip = cli.trainer.gradient_clip_val
        # The shipped path's optimizer: AdamW with its fused step (lightning_classics/runs/fused_optimizers.py).
        self.optimizer = build_optimizer(
            torch.optim.AdamW, self.net.parameters(), True, lr=hp.lr, weight_decay=hp.weight_decay
        )
        self.images, self.labels = (t.to(device) for t in datamodule.sets["train"].tensors)
        self.mean, self.std, self.augment = datamodule.pixel_mean, datamodule.pixel_std, datamodule.hparams.augment
        self.batch_size = datamodule.hparams.batch_size
        self.order = torch.randperm(len(self.images), device=device)

    def step(self, step: int, marks: list[float] | None = None) -> None:
        """One training step. ``marks`` (CPU only: nothing waits for a GPU) gets the ``perf_counter`` time at
        the start, after the batch is ready, after the forward, before ``backward()``, after it, and at the end."""
        mark = marks.append if marks is not None else _no_mark
        mark(time.perf_counter())
        index = self.order[step * self.batch_size : (step + 1) * self.batch_size]
        x, y = hand_batch(self.images, self.labels, index, self.mean, self.std, self.augment)
        mark(time.perf_counter())
        logits = self.net(x)
        mark(time.perf_counter())
        loss = F.cross_entropy(logits, y, label_smoothing=self.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        mark(time.perf_counter())
        loss.backward()
        mark(time.perf_counter())
        if self.clip:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), float(self.clip))
        self.optimizer.step()
        mark(time.perf_counter())


def hand_batch(
    images: torch.Tensor, labels: torch.Tensor, index: torch.Tensor, mean: float, std: float, augment: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch as one writes it by hand: one gather of uint8 images, to [0, 1] floats, (augment,) normalise."""
    x = images[index].float().div_(255)
    if augment:
        x = random_affine(x)
    return x.sub_(mean).div_(std), labels[index]


def _no_mark(_: float) -> None:
    pass


class PairedTimer(L.Callback):
    """Interleaves the two contenders step by step, so that a change in machine load hits both alike.

    From the start of Lightning's batch ``warmup`` to the start of batch ``warmup + steps``, one hand-written
    step runs (and is timed) after each Lightning batch; Lightning's time is the window minus those steps.
    """

    def __init__(self, hand: HandLoop, warmup: int, steps: int) -> None:
        self.hand, self.warmup, self.steps = hand, warmup, steps
        self.hand_seconds = 0.0
        self.lightning_seconds: float | None = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if batch_idx in (self.warmup, self.warmup + self.steps) and pl_module.device.type == "cuda":
            torch.cuda.synchronize()  # the GPU's queued work belongs to the steps before
        if batch_idx == self.warmup:
            self._start = time.perf_counter()
        elif batch_idx == self.warmup + self.steps:
            self.lightning_seconds = time.perf_counter() - self._start - self.hand_seconds
            trainer.should_stop = True

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        if batch_idx < self.warmup + self.steps:  # the hand loop warms up alongside
            cuda = pl_module.device.type == "cuda"
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            self.hand.step(batch_idx)
            if cuda:
                torch.cuda.synchronize()
            if batch_idx >= self.warmup:
                self.hand_seconds += time.perf_counter() - start


def preset_datamodule(preset: str, data_dir: str, extra: list[str]) -> MNISTDataModule:
    """The preset's data module, decoded once; both contenders then read its tensors."""
    args = ["--config", str(ROOT / "configs" / f"{preset}.yaml"), "--data.data_dir", data_dir, *extra]
    datamodule = main(args, run=False).datamodule
    assert isinstance(datamodule, MNISTDataModule)
    datamodule.setup("fit")
    return datamodule


def shipped_fit(preset: str, data_dir: str, runs_dir: str, extra: list[str], callback: L.Callback) -> None:
    """``cli.py fit`` of the preset for one epoch, no sanity check, with ``callback`` as one more callback."""
    args = ["fit", "--config", str(ROOT / "configs" / f"{preset}.yaml"), "--runs_dir", runs_dir]
    args += ["--data.data_dir", data_dir, "--trainer.max_epochs", "1", "--trainer.num_sanity_val_steps", "0", *extra]
    # An earlier run's Trainer and model are garbage by now: collect them here, or a full collection of
    # them (0.2 s, measured) lands in this run's timed window.
    gc.collect()
    with contextlib.redirect_stdout(io.StringIO()):  # the model summary; the progress bar still draws
        main(args, callbacks=[callback])


def paired_seconds(
    preset: str, datamodule: MNISTDataModule, runs_dir: str, warmup: int, steps: int, extra: list[str]
) -> tuple[float, float]:
    """(Lightning, hand) seconds for ``steps`` steps. Lightning is the shipped path: ``cli.py fit`` itself
    (TensorBoard logger, checkpoints, resume state, progress bar) with the timer as one more callback; the
    hand-written loop reads ``datamodule``'s tensors on the device that run trains on."""
    timer = PairedTimer(HandLoop(preset, datamodule, extra), warmup, steps)  # on the device the fit trains on
    shipped_fit(preset, str(datamodule.data_dir), runs_dir, extra, timer)
    assert timer.lightning_seconds is not None, "the epoch ended before the timed window did: lower --warmup/--steps"
    return timer.lightning_seconds, timer.hand_seconds


@dataclass
class Result:
    batch_size: int
    lightning: list[float] = field(default_factory=list)  # images/s per repetition
    hand: list[float] = field(default_factory=list)

    def ratios(self) -> list[float]:
        return [lit / hand for lit, hand in zip(self.lightning, self.hand, strict=True)]

    def tax_ms(self) -> list[float]:
        """Lightning's extra milliseconds per step, per repetition."""
        return [
            1000 * self.batch_size * (1 / lit - 1 / hand) for lit, hand in zip(self.lightning, self.hand, strict=True)
        ]


def run(models: list[str], data_dir: str, reps: int, warmup: int, steps: dict[str, int], extra: list[str]) -> dict:
    torch.set_num_threads(2)
    datamodules = {name: preset_datamodule(PRESETS[name], data_dir, extra) for name in models}
    results = {name: Result(datamodules[name].hparams.batch_size) for name in models}
    with tempfile.TemporaryDirectory() as runs_dir:
        for rep in range(reps):
            for name in models:
                preset, n, datamodule = PRESETS[name], steps[name], datamodules[name]
                images = n * datamodule.hparams.batch_size
                torch.manual_seed(rep)
                lightning, hand = paired_seconds(preset, datamodule, runs_dir, warmup, n, extra)
                results[name].lightning.append(images / lightning)
                results[name].hand.append(images / hand)
                r = results[name]
                print(
                    f"rep {rep} {name}: lightning {r.lightning[-1]:.0f} img/s, hand {r.hand[-1]:.0f} img/s", flush=True
                )
    return results


def table(results: dict[str, Result]) -> str:
    rows = [
        "| model | hand-written img/s (median) | Lightning img/s (median) | ratio median | ratio min-max "
        "| Lightning's extra ms/step (median) | reps |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results.items():
        ratios = r.ratios()
        rows.append(
            f"| {name} | {statistics.median(r.hand):,.0f} | {statistics.median(r.lightning):,.0f} | "
            f"**{statistics.median(ratios):.3f}** | {min(ratios):.3f}-{max(ratios):.3f} | "
            f"{statistics.median(r.tax_ms()):.2f} | {len(ratios)} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets" / "mnist"))
    parser.add_argument("--models", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions per model")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps before the window")
    parser.add_argument("--steps", type=int, help="timed steps per repetition (default: 150 ANN, 40 CNN, 30 LSTM)")
    parser.add_argument("extra", nargs="*", help="more cli.py options for both contenders, after --")
    args = parser.parse_args()
    default_steps = {"ANN": 150, "CNN": 40, "LSTM": 30}
    steps = {name: args.steps or default_steps[name] for name in PRESETS}
    print(table(run(args.models, args.data_dir, args.reps, args.warmup, steps, args.extra)))
