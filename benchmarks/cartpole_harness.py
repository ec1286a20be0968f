"""Shared by the CartPole benchmarks: train a preset's DQN for one seed and time it to "solved".

A trial trains the DQN that a preset describes (its ``model`` section, plus overrides) with a bare Trainer:
no logger, no checkpoint files, no progress bar, no sanity check. Training time excludes evaluation: the
clock pauses while the 100 greedy validation episodes run. Each trial runs in a fresh Python process
(:func:`run_isolated`), so no trial inherits another's allocations, threads or warm caches.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python benchmarks/<script>.py` from anywhere


def preset_model_args(preset: str) -> dict[str, Any]:
    import yaml

    config = yaml.safe_load((ROOT / preset).read_text())
    return dict(config["model"].get("init_args", {}))


def preset_max_epochs(preset: str) -> int:
    import yaml

    return int(yaml.safe_load((ROOT / preset).read_text())["trainer"]["max_epochs"])


def train_dqn(model_args: dict[str, Any], seed: int, max_epochs: int) -> dict[str, Any]:
    """One training run in this process; returns when solved (``stop_when_solved``) or after ``max_epochs``."""
    import lightning as L
    import torch

    from rl.dqn import DQN

    torch.set_num_threads(1)
    L.seed_everything(seed, verbose=False)
    agent = DQN(**model_args)

    class SolveClock(L.Callback):
        """Training seconds (evaluation excluded) at the first evaluation that solved the task."""

        def __init__(self) -> None:
            self.evaluating = 0.0
            self.curve: list[float] = []
            self.solved_seconds: float | None = None

        def on_train_start(self, trainer, module) -> None:
            self.start = time.perf_counter()

        def on_validation_start(self, trainer, module) -> None:
            self.eval_start = time.perf_counter()

        def on_validation_end(self, trainer, module) -> None:
            now = time.perf_counter()
            self.evaluating += now - self.eval_start
            self.curve.append(round(float(trainer.callback_metrics["val/mean_return"]), 1))
            if module.solved_at is not None and self.solved_seconds is None:
                self.solved_seconds = now - self.start - self.evaluating

    clock = SolveClock()
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=max_epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=[clock],
    )
    trainer.fit(agent)
    train_seconds = time.perf_counter() - clock.start - clock.evaluating
    max_q = float(trainer.callback_metrics.get("train/max_q", float("nan")))  # the last logged; test() resets them
    tested = trainer.test(agent, verbose=False)[0]  # the final network, on 100 other fixed-seed episodes
    return {
        "seed": seed,
        "solved_at": agent.solved_at,  # agent steps
        "frames": None if agent.solved_at is None else agent.solved_at * agent.hparams.frame_skip,
        "seconds": clock.solved_seconds,
        "env_steps": agent.env_loop.env_steps,
        "train_seconds": train_seconds,
        "curve": clock.curve,
        "max_q": max_q,
        "test_mean": tested["test/mean_return"],
        "test_std": tested["test/std_return"],
    }


def run_isolated(script: Path, *args: str) -> dict[str, Any]:
    """Runs ``script --trial ...`` in a fresh interpreter and returns the JSON it prints on its last line."""
    done = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, check=False)
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
