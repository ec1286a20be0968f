"""Where the framework tax goes: one training step of the shipped path cut into phases, beside the hand loop's.

    .venv/bin/python -m benchmarks.step_segments --data-dir ../shared/datasets/mnist            # the ANN
    .venv/bin/python -m benchmarks.step_segments --model CNN --steps 60

``benchmarks.overhead`` says how much slower ``cli.py fit`` is than a hand-written loop; this says in which
part of the step. Both contenders run as there (``cli.py fit`` as shipped with one more callback, the
hand-written step after each Lightning batch, same network and data, 2 torch threads), on the CPU only:
on a GPU the clock would time kernel launches, not the phases. Each step's clock marks are

* Lightning: a forward pre- and post-hook on the network, ``on_before_backward`` / ``on_after_backward``,
  the optimizer's step pre- and post-hooks (its pre-hook fires before the closure runs the forward),
  ``on_train_batch_start`` / ``on_train_batch_end``;
* hand-written: the same points written into its step.

Prints one markdown table: per phase, the median milliseconds of each and the difference, then the sums of
the medians and the mean step time (which the slow tail of steps moves). The phase "outside the network's
step" is everything from one batch's forward-to-update sequence to the next's: for the hand loop the gather and
normalisation, for Lightning also its loop, the data loader, batch transfer hooks, callbacks, LR scheduler
and logging. Its four Lightning parts follow as their own rows.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import lightning as L
import torch

from benchmarks.overhead import PRESETS, HandLoop, preset_datamodule, shipped_fit

ROOT = Path(__file__).resolve().parents[1]
PHASES = [
    "outside the network's step (loading, loop, hooks, scheduler, logging)",
    "forward",
    "loss and zero_grad (with Lightning's closure and hooks)",
    "backward",
    "clipping and AdamW step (with Lightning's hooks)",
]
LIGHTNING_PARTS = [
    "Lightning: batch start to optimizer step",
    "Lightning: optimizer step to forward (closure, training_step call)",
    "Lightning: optimizer step end to batch end (scheduler, callbacks)",
    "Lightning: batch end to next batch start (callbacks, logging, loader, transfer)",
]


class PhaseClock(L.Callback):
    """Marks Lightning's phases of each batch and runs (and marks) one hand-written step after each batch."""

    def __init__(self, hand: HandLoop, warmup: int, steps: int) -> None:
        self.hand, self.warmup, self.steps = hand, warmup, steps
        self.lightning: list[list[float]] = []  # per timed step: PHASES then LIGHTNING_PARTS, seconds
        self.handwritten: list[list[float]] = []  # per timed step: PHASES, seconds
        self._t: dict[str, float] = {}

    def _mark(self, name: str) -> None:
        self._t[name] = time.perf_counter()

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        net = pl_module.net
        assert isinstance(net, torch.nn.Module)
        net.register_forward_pre_hook(lambda *_: self._mark("forward"))
        net.register_forward_hook(lambda *_: self._mark("forward end"))

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        optimizer = trainer.optimizers[0]
        optimizer.register_step_pre_hook(lambda *_: self._mark("step"))
        optimizer.register_step_post_hook(lambda *_: self._mark("step end"))

    def on_before_backward(self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor) -> None:
        self._mark("backward")

    def on_after_backward(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._mark("backward end")

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch, batch_idx: int) -> None:
        now = time.perf_counter()
        if batch_idx > self.warmup:  # the previous batch is complete now
            t = self._t
            parts = [
                t["step"] - t["start"],
                t["forward"] - t["step"],
                t["batch end"] - t["step end"],
                now - t["hand end"],
            ]
            self.lightning.append(
                [
                    sum(parts),
                    t["forward end"] - t["forward"],
                    t["backward"] - t["forward end"],
                    t["backward end"] - t["backward"],
                    t["step end"] - t["backward end"],
                    *parts,
                ]
            )
        if batch_idx == self.warmup + self.steps:
            trainer.should_stop = True
        self._t = {"start": now}

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs, batch, batch_idx) -> None:
        self._mark("batch end")
        marks: list[float] = []
        self.hand.step(batch_idx, marks)
        if batch_idx >= self.warmup:
            self.handwritten.append([b - a for a, b in itertools.pairwise(marks)])
        self._mark("hand end")


def measure(model: str, data_dir: str, warmup: int, steps: int, extra: list[str]) -> PhaseClock:
    torch.set_num_threads(2)
    preset = PRESETS[model]
    extra = [*extra, "--trainer.accelerator", "cpu"]
    datamodule = preset_datamodule(preset, data_dir, extra)
    clock = PhaseClock(HandLoop(preset, datamodule, extra), warmup, steps)
    with tempfile.TemporaryDirectory() as runs_dir:
        shipped_fit(preset, data_dir, runs_dir, extra, clock)
    if len(clock.lightning) < steps:
        raise SystemExit(f"the epoch ended after {len(clock.lightning)} timed steps: lower --warmup/--steps")
    return clock


def table(clock: PhaseClock) -> str:
    def median_ms(rows: list[list[float]], k: int) -> float:
        return 1000 * statistics.median(row[k] for row in rows)

    lines = [
        "| phase | Lightning ms (median) | hand-written ms (median) | Lightning - hand |",
        "| --- | --- | --- | --- |",
    ]
    for k, phase in enumerate(PHASES):
        lit, hand = median_ms(clock.lightning, k), median_ms(clock.handwritten, k)
        lines.append(f"| {phase} | {lit:.3f} | {hand:.3f} | {lit - hand:+.3f} |")
    lit_sum = sum(median_ms(clock.lightning, k) for k in range(len(PHASES)))
    hand_sum = sum(median_ms(clock.handwritten, k) for k in range(len(PHASES)))
    lines.append(f"| sum of the medians | {lit_sum:.3f} | {hand_sum:.3f} | {lit_sum - hand_sum:+.3f} |")
    lit_mean = 1000 * statistics.mean(sum(row[: len(PHASES)]) for row in clock.lightning)
    hand_mean = 1000 * statistics.mean(sum(row) for row in clock.handwritten)
    lines.append(f"| mean step | {lit_mean:.3f} | {hand_mean:.3f} | {lit_mean - hand_mean:+.3f} |")
    for k, part in enumerate(LIGHTNING_PARTS, start=len(PHASES)):
        lines.append(f"| {part} | {median_ms(clock.lightning, k):.3f} | | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets" / "mnist"))
    parser.add_argument("--model", default="ANN", choices=list(PRESETS))
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps first")
    parser.add_argument("--steps", type=int, default=300, help="timed steps")
    parser.add_argument("extra", nargs="*", help="more cli.py options for both contenders, after --")
    args = parser.parse_args(argv)
    clock = measure(args.model, args.data_dir, args.warmup, args.steps, args.extra)
    result = table(clock)
    print(result)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
