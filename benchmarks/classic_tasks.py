"""The classic-control tasks of benchmarks/classic_control.py: each preset, its target and the published
references, and one seed's training of our DQN with the test of its best and last checkpoints.

Frames are the environment's own steps (RL Zoo's "timesteps"): with ``frame_skip`` k an agent step is k frames.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np

QUIET = [
    "--trainer.enable_progress_bar", "false",
    "--trainer.enable_model_summary", "false",
    "--trainer.num_sanity_val_steps", "0",
]  # fmt: skip
SB3_EVAL_EVERY = 2_000  # frames between SB3's validations in the table's runs (its curves' x step)


@dataclass(frozen=True)
class Task:
    """One row of the table."""

    name: str  # what --tasks takes
    env_id: str
    preset: str  # configs/<preset>.yaml
    target: float  # test mean return to reach (best and last checkpoint, every seed)
    budget_frames: int  # RL Zoo's n_timesteps
    rl_zoo: str  # RL Zoo's DQN in benchmark.md: mean +- std (its budget)
    cleanrl: str  # CleanRL's dqn.py in docs/rl-algorithms/dqn.md (500k steps), or n/a
    min_episode_return: float | None = None  # also needed: 95% of the test episodes at or above this

    def config_args(self) -> list[str]:
        return ["--config", f"configs/{self.preset}.yaml"]

    def target_text(self) -> str:
        extra = f", 95% of episodes >= {self.min_episode_return:g}" if self.min_episode_return is not None else ""
        return f">= {self.target:g}{extra}"

    def meets(self, returns: np.ndarray) -> bool:
        enough = self.min_episode_return is None or float(np.mean(returns >= self.min_episode_return)) >= 0.95
        return bool(returns.mean() >= self.target) and enough


TASKS = {
    task.name: task
    for task in (
        Task("acrobot", "Acrobot-v1", "acrobot_dqn", -75.0, 100_000, "-76.6 +- 11.8 (100k)", "-91.5 +- 7.2"),
        Task(
            "mountaincar", "MountainCar-v0", "mountaincar_dqn", -100.0, 120_000, "-100.8 +- 9.9 (120k)", "-195.0 +- 8.5"
        ),
        Task(
            "lunarlander", "LunarLander-v3", "lunarlander_dqn", 230.0, 100_000, "154.4 +- 79.2 (v2, 100k)", "n/a", 200.0
        ),
    )
}


class TargetClock(L.Callback):
    """Training seconds (evaluation and checkpoints excluded), the validation curve against frames, and the
    training seconds and frames at the first evaluation whose mean return reached ``target``."""

    def __init__(self, target: float, frame_skip: int) -> None:
        self.target, self.frame_skip = target, frame_skip
        self.training = 0.0
        self.curve: list[tuple[int, float]] = []
        self.reached_seconds: float | None = None
        self.reached_frames: int | None = None

    def on_train_epoch_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self.epoch_start = time.perf_counter()

    def on_validation_start(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self.training += time.perf_counter() - self.epoch_start

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        mean = float(trainer.callback_metrics["val/mean_return"])
        agent: Any = module  # a DQN: its env_steps are agent steps
        frames = int(agent.env_steps) * self.frame_skip
        self.curve.append((frames, round(mean, 1)))
        if mean >= self.target and self.reached_seconds is None:
            self.reached_seconds, self.reached_frames = self.training, frames


def returns_on_test_episodes(agent: Any, checkpoint: Path, episodes: int, batch: int = 100) -> np.ndarray:
    """The checkpoint's greedy returns on the test episodes (seeds 0 .. episodes - 1, as ``cli.py test``)."""
    from lightning_classics.runs.checkpoint_loader import read_checkpoint
    from rl.evaluation import play_episodes
    from rl.seeds import TEST_FIRST_SEED, evaluation_seeds

    agent.load_state_dict(read_checkpoint(checkpoint)["state_dict"])
    policy = agent.greedy_policy()
    envs = [agent.make_env() for _ in range(min(batch, episodes))]
    seeds = evaluation_seeds(TEST_FIRST_SEED, episodes)
    parts = [play_episodes(envs, policy, seeds[i : i + batch]).returns for i in range(0, episodes, batch)]
    return np.concatenate(parts)


def test_checkpoints(task: Task, checkpoints: Path, episodes: int = 1000) -> dict[str, dict[str, Any]]:
    """The test of an existing run's ``best.ckpt`` and ``last.ckpt`` (e.g. one trained by ``cli.py fit``)."""
    from rl.play import load_agent

    tested = {}
    for name in ("best", "last"):
        agent = load_agent(str(checkpoints / f"{name}.ckpt"))
        tested[name] = summary(returns_on_test_episodes(agent, checkpoints / f"{name}.ckpt", episodes), task)
    return tested


def summary(returns: np.ndarray, task: Task) -> dict[str, Any]:
    floor = task.min_episode_return
    return {
        "mean": float(returns.mean()),
        "min": float(returns.min()),
        "share_above": None if floor is None else float(np.mean(returns >= floor)),
        "meets": task.meets(returns),
    }


def train_ours(task: Task, seed: int, runs_dir: str | None, extra: list[str], test_episodes: int) -> dict[str, Any]:
    """One ``fit`` of the preset through the CLI in this process, then the test of its best and last checkpoints.
    ``runs_dir``: keep the run folder (TensorBoard curves, checkpoints) there; None: a temporary folder."""
    from cli import main

    with tempfile.TemporaryDirectory() as scratch:
        where = runs_dir or scratch
        args = [*task.config_args(), *QUIET, "--seed_everything", str(seed), "--runs_dir", where]
        args += [] if runs_dir else ["--trainer.logger", "false"]  # kept runs keep their TensorBoard curves
        args += ["--run_name", f"{task.name}_seed{seed}", *extra]
        cli = main(args, run=False)
        agent: Any = cli.model
        clock = TargetClock(task.target, agent.hparams.frame_skip)
        trainer: Any = cli.trainer  # its callback list is set at run time, unknown to the type stubs
        trainer.callbacks.append(clock)
        start = time.perf_counter()
        trainer.fit(agent)
        wall = time.perf_counter() - start
        checkpoints = Path(trainer.checkpoint_callback.dirpath)  # best.ckpt and last.ckpt (see cli.py)
        tested = {
            name: summary(returns_on_test_episodes(agent, checkpoints / f"{name}.ckpt", test_episodes), task)
            for name in ("best", "last")
        }
        folder = str(checkpoints.parent) if runs_dir else None
    return {
        "task": task.name,
        "seed": seed,
        "frames": agent.env_steps * agent.hparams.frame_skip,  # when training stopped
        "train_seconds": clock.training,
        "fit_wall_seconds": wall,
        "target_seconds": clock.reached_seconds,
        "target_frames": clock.reached_frames,
        "curve": clock.curve,
        "run_folder": folder,
        **tested,
    }
