"""Shared by the CartPole benchmarks: train a preset's DQN through the CLI for one seed and time it.

A trial builds the run exactly as ``python cli.py fit --config ...`` would (``cli.main(..., run=False)``), with
logging, the progress bar and the sanity check off and checkpoints in a temporary folder, then adds a clock.
Training time excludes evaluation and checkpoint writing: the clock runs from the start of each epoch to the
start of its validation. Each trial runs in a fresh Python process (:func:`run_isolated`), so no trial inherits
another's allocations, threads or warm caches.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from typing import Any

import lightning as L

V0 = ["--config", "configs/cartpole_dqn.yaml"]
V1 = [*V0, "--config", "configs/overlays/cartpole_v1.yaml"]
PLAIN = ["--config", "configs/cartpole_dqn_plain.yaml"]
QUIET = [
    "--trainer.logger", "false",
    "--trainer.enable_progress_bar", "false",
    "--trainer.enable_model_summary", "false",
    "--trainer.num_sanity_val_steps", "0",
]  # fmt: skip


def overrides(options: dict[str, Any]) -> list[str]:
    """``{"n_steps": 1}`` -> ``["--model.init_args.n_steps", "1"]`` (booleans as YAML's true/false)."""
    flags = []
    for name, value in options.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        flags += [f"--model.init_args.{name}" if "." not in name else f"--{name}", text]
    return flags


class SolveClock(L.Callback):
    """Training seconds (evaluation and checkpoints excluded), and when the run first solved its task."""

    def __init__(self) -> None:
        self.training = 0.0
        self.curve: list[float] = []
        self.solved_seconds: float | None = None

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.epoch_start = time.perf_counter()

    def on_validation_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.training += time.perf_counter() - self.epoch_start

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.curve.append(round(float(trainer.callback_metrics["val/mean_return"]), 1))
        if getattr(module, "solved_at", None) is not None and self.solved_seconds is None:
            self.solved_seconds = self.training


def train_dqn(config_args: list[str], seed: int) -> dict[str, Any]:
    """One ``fit`` through the CLI in this process, then ``test`` of the checkpoint the run delivers (best)."""
    from cli import main

    with tempfile.TemporaryDirectory() as runs_dir:
        args = [*config_args, *QUIET, "--seed_everything", str(seed), "--runs_dir", runs_dir]
        cli = main(args, run=False)
        clock = SolveClock()
        trainer: Any = cli.trainer  # its callback list is set at run time, unknown to the type stubs
        trainer.callbacks.append(clock)
        start = time.perf_counter()
        trainer.fit(cli.model)
        wall = time.perf_counter() - start
        agent: Any = cli.model
        max_q = float(trainer.callback_metrics.get("train/max_q", float("nan")))  # test() resets the metrics
        tested = trainer.test(agent, ckpt_path="best", verbose=False)[0]
    frame_skip = agent.hparams.frame_skip
    return {
        "seed": seed,
        "solved_at": agent.solved_at,  # agent steps
        "frames": None if agent.solved_at is None else agent.solved_at * frame_skip,
        "seconds": clock.solved_seconds,  # training seconds to the first solving evaluation
        "env_steps": agent.env_steps,  # agent steps (all processes) when training stopped
        "train_seconds": clock.training,  # training seconds until training stopped
        "fit_wall_seconds": wall,
        "curve": clock.curve,
        "max_q": max_q,
        **{key.removeprefix("test/"): float(value) for key, value in tested.items()},
    }


def run_isolated(module: str, *args: str) -> dict[str, Any]:
    """Runs ``python -m module --trial ...`` in a fresh interpreter; returns the JSON it prints last."""
    done = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"trial {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_or_none(values: list[float | None]) -> float | None:
    """Median where an unsolved run (None) counts as slower than every solved one."""
    if not values:
        return None
    ordered = sorted(values, key=lambda v: float("inf") if v is None else v)
    if len(ordered) % 2:
        return ordered[len(ordered) // 2]
    low, high = ordered[len(ordered) // 2 - 1], ordered[len(ordered) // 2]
    return None if low is None or high is None else (low + high) / 2


def fmt(value: float | None, digits: int = 1) -> str:
    return "not solved" if value is None else f"{value:,.{digits}f}"
