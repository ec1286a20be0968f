"""One table of speed figures on an accelerator (or the CPU): switches, framework tax, speedrun, DQN.

    .venv/bin/python -m benchmarks.gpu --data-dir ../shared/datasets/mnist                    # on the GPU
    .venv/bin/python -m benchmarks.gpu --data-dir ../shared/datasets/mnist --accelerator cpu
    .venv/bin/python -m benchmarks.gpu --data-dir <tiny IDX files> --accelerator cpu --tiny   # smoke test

Rows: training images/s of the ANN, CNN and LSTM presets with each switch on (Lightning's shipped path,
steady state after ``--warmup`` steps, so compilation is excluded); Lightning vs a hand-written loop
(``benchmarks.overhead``); training seconds and test accuracy of the speedrun presets; DQN agent steps/s
on the CPU and on the accelerator. ``--tiny`` shrinks every run to a few steps (numbers meaningless).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import lightning as L
import torch

from benchmarks.overhead import PRESETS, paired_seconds, preset_datamodule
from cli import main

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("switches", "ratio", "speedrun", "dqn")


class WindowTimer(L.Callback):
    """Seconds of ``steps`` training steps after ``warmup`` steps, counted across epochs; then stops the run."""

    def __init__(self, warmup: int, steps: int) -> None:
        self.warmup, self.steps = warmup, steps
        self.seconds: float | None = None
        self.batches = 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        self.batches += 1
        if self.batches - 1 not in (self.warmup, self.warmup + self.steps):
            return
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize()
        if self.batches - 1 == self.warmup:
            self._start = time.perf_counter()
        else:
            self.seconds = time.perf_counter() - self._start
            trainer.should_stop = True


class TrainClock(L.Callback):
    """Training wall-clock of a whole run: every training epoch, validation excluded."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize()
        self.seconds += time.perf_counter() - self._start


def switches(accelerator: str, model: str) -> dict[str, list[str]]:
    rows = {
        "as shipped": [],
        "bf16-mixed": ["--trainer.precision", "bf16-mixed"],
        "compile": ["--model.init_args.compile", "true"],
        "batch 512, sqrt-scaled LR": ["--data.batch_size", "512", "--model.init_args.lr_scaling", "sqrt"],
    }
    if accelerator != "cpu":
        rows["16-mixed"] = ["--trainer.precision", "16-mixed"]
        rows["data on the host (on_device false)"] = ["--data.on_device", "false"]
    else:
        rows["data on the device (on_device true)"] = ["--data.on_device", "true"]
    if model == "CNN":
        rows["NCHW (channels_last false)"] = ["--model.init_args.channels_last", "false"]  # NHWC is the default
    return rows


def images_per_s(preset: str, data_dir: str, runs_dir: str, warmup: int, steps: int, extra: list[str]) -> float:
    args = ["--config", str(ROOT / "configs" / f"{preset}.yaml"), "--data.data_dir", data_dir, "--runs_dir", runs_dir]
    # Epochs enough for the window at any batch size (large batches give short epochs); the timer stops the run.
    args += ["--trainer.max_epochs", "1000", "--trainer.num_sanity_val_steps", "0", "--trainer.limit_val_batches", "0"]
    args += ["--trainer.enable_progress_bar", "false", *extra]
    cli = main(args, run=False)
    timer = WindowTimer(warmup, steps)
    cli.trainer.callbacks.append(timer)  # type: ignore[attr-defined]  # Trainer sets it at run time
    with contextlib.redirect_stdout(io.StringIO()):
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    assert timer.seconds is not None, "the run ended before the timed window did: lower --warmup/--steps"
    batch_size = cli.datamodule.hparams.batch_size
    return steps * batch_size / timer.seconds


def speedrun(preset: str, data_dir: str, runs_dir: str, extra: list[str]) -> tuple[float, float]:
    """(training seconds, test accuracy) of a speed preset: ``mnist_speedrun`` (99.0%) or ``mnist_cnn`` (99.5%)."""
    args = ["--config", str(ROOT / "configs" / f"{preset}.yaml")]
    args += ["--data.data_dir", data_dir, "--runs_dir", runs_dir, "--trainer.enable_progress_bar", "false", *extra]
    cli = main(args, run=False)
    clock = TrainClock()
    cli.trainer.callbacks.append(clock)  # type: ignore[attr-defined]
    with contextlib.redirect_stdout(io.StringIO()):
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)
        (result,) = cli.trainer.test(cli.model, datamodule=cli.datamodule, verbose=False)
    return clock.seconds, result["test/acc"]


def dqn_steps_per_s(accelerator: str, runs_dir: str, extra: list[str]) -> float:
    args = ["--config", str(ROOT / "configs" / "cartpole_dqn.yaml"), "--runs_dir", runs_dir]
    args += ["--trainer.accelerator", accelerator, "--trainer.enable_progress_bar", "false", *extra]
    cli = main(args, run=False)
    with contextlib.redirect_stdout(io.StringIO()):
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    return float(cli.trainer.callback_metrics["train/env_steps_per_s"])


def run(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    return list(measure(args))


def measure(args: argparse.Namespace) -> Iterator[tuple[str, str, str]]:
    """The table's rows, each yielded as soon as it is measured (a run cut short keeps what it printed)."""
    torch.set_num_threads(2)
    warmup, steps = (1, 3) if args.tiny else (args.warmup, args.steps)  # the tiny set has 5 batches
    device = ["--trainer.accelerator", args.accelerator, "--trainer.devices", "1"]
    tiny_data = ["--data.val_size", "50", "--data.batch_size", "50"] if args.tiny else []
    with tempfile.TemporaryDirectory() as runs_dir:
        for model in args.models if "switches" in args.sections or "ratio" in args.sections else []:
            preset = PRESETS[model]
            for name, extra in switches(args.accelerator, model).items() if "switches" in args.sections else []:
                if args.tiny and name in ("compile", "batch 512, sqrt-scaled LR"):
                    continue  # minutes of compilation on a CPU; 512 exceeds the tiny set (tests cover both)
                value = images_per_s(preset, args.data_dir, runs_dir, warmup, steps, device + tiny_data + extra)
                yield (f"{model} images/s", name, f"{value:,.0f}")
            if "ratio" not in args.sections:
                continue
            datamodule = preset_datamodule(preset, args.data_dir, tiny_data)
            ratios = []
            for _ in range(args.reps):
                lightning, hand = paired_seconds(preset, datamodule, runs_dir, warmup, steps, device + tiny_data)
                ratios.append(hand / lightning)
            yield (f"{model} Lightning / hand-written", f"median of {args.reps}", f"{statistics.median(ratios):.3f}")
        epochs = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "3"] if args.tiny else []
        for target, speed_preset in (
            (("99.0%", "mnist_speedrun"), ("99.5%", "mnist_cnn")) if "speedrun" in args.sections else ()
        ):
            seconds, accuracy = speedrun(speed_preset, args.data_dir, runs_dir, device + tiny_data + epochs)
            yield (f"speedrun to {target}", "training s / test acc", f"{seconds:.2f} s / {100 * accuracy:.2f}%")
        # Evaluation episodes are not timed by env_steps_per_s; fewer of them only save wall-clock.
        dqn = ["--model.init_args.val_episodes", "2" if args.tiny else "10", "--trainer.max_epochs"]
        dqn += (
            ["1", "--model.init_args.steps_per_epoch", "20", "--model.init_args.learning_starts", "50"]
            if args.tiny
            else [str(args.dqn_epochs)]
        )
        for accelerator in dict.fromkeys(["cpu", args.accelerator]) if "dqn" in args.sections else ():
            value = dqn_steps_per_s(accelerator, runs_dir, dqn)
            yield ("DQN CartPole agent steps/s", accelerator, f"{value:,.0f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets" / "mnist"))
    parser.add_argument("--accelerator", default="cuda", help="cuda, cpu, ... (Lightning's accelerator names)")
    parser.add_argument("--warmup", type=int, default=30, help="untimed steps first (compilation, cuDNN tuning)")
    parser.add_argument("--steps", type=int, default=100, help="timed steps per throughput row")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of the Lightning vs hand-written pair")
    parser.add_argument("--dqn-epochs", type=int, default=3, help="DQN epochs (1,000 agent steps each)")
    parser.add_argument("--models", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=list(SECTIONS))
    parser.add_argument("--tiny", action="store_true", help="a few steps of everything: a smoke test")
    args = parser.parse_args()
    name = torch.cuda.get_device_name() if args.accelerator == "cuda" and torch.cuda.is_available() else "CPU"
    print(f"device: {name}, torch {torch.__version__}")
    print("| measurement | setting | value |\n| --- | --- | --- |")
    for row in measure(args):
        print("| " + " | ".join(row) + " |", flush=True)
