"""The agents' progress bars count agent steps (classifiers' bars still count batches)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger

from datamodules import TinyDataModule
from lightning_classics.callbacks import EnvStepsProgressBar
from lightning_modules import TinyNet
from rl.dqn import DQN
from rl.tabular import TabularQLearning
from tests.corridor_env import CORRIDOR_AGENT
from tests.helpers import quiet_trainer


class BarReader(L.Callback):
    """Reads the bar after it has drawn (it comes before this callback): position and total, per batch and epoch."""

    def __init__(self, bar: EnvStepsProgressBar) -> None:
        self.bar = bar
        self.batches: list[tuple[int, int | None, int]] = []  # (bar position, bar total, agent's env steps)
        self.epochs: list[tuple[int, int | None, int]] = []

    def read(self, module: Any) -> tuple[int, int | None, int]:
        return self.bar.train_progress_bar.n, self.bar.train_progress_bar.total, module.env_steps

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, *args: Any) -> None:
        self.batches.append(self.read(pl_module))

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        self.epochs.append(self.read(pl_module))


def fit_with_bar(agent: L.LightningModule, epochs: int) -> BarReader:
    bar = EnvStepsProgressBar(refresh_rate=1)
    reader = BarReader(bar)
    quiet_trainer(max_epochs=epochs, enable_progress_bar=True, callbacks=[bar, reader]).fit(agent)
    return reader


def test_dqn_bar_counts_environment_steps_of_each_epoch(capsys):
    L.seed_everything(0)
    agent = DQN(**{**CORRIDOR_AGENT, "num_envs": 2, "train_freq": 2})  # 50 warm-up steps, 100 updates per epoch
    reader = fit_with_bar(agent, epochs=2)
    # Epoch 0: the random warm-up and 100 updates of 2 environment steps each; epoch 1: the updates only.
    # Both are what the agent planned (the bar's total), and the bar ends full.
    assert reader.epochs == [(250, 250, 250), (200, 200, 450)]
    # During the epoch the position is the agent's count since the epoch began, not the batch number.
    epoch_1 = reader.batches[100:]
    assert [(n, total) for n, total, _ in epoch_1] == [(steps - 250, 200) for _, _, steps in epoch_1]
    assert epoch_1[9][0] > 10  # 10 batches, more than 10 steps: each batch stands for 2 environment steps
    assert "agent steps/s" in capsys.readouterr().err  # the bar draws on stderr (stderr_progress_bar.py)


class CountSteps(gym.Wrapper):
    """Counts the steps taken in the wrapped environment, independently of the agent's own counter."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.count = 0

    def step(self, action):
        self.count += 1
        return self.env.step(action)


def test_taxi_bar_counts_the_steps_of_its_episodes():
    agent = TabularQLearning(episodes_per_epoch=20, episodes_per_step=5, val_episodes=5, seed=0)
    agent.train_env = CountSteps(agent.train_env)
    reader = fit_with_bar(agent, epochs=1)
    taken = agent.train_env.count
    assert taken > 20  # 20 episodes, most of them far longer than one step (the untrained taxi wanders)
    assert reader.batches[0][1] is None  # episode lengths vary: no total to plan
    assert [n for n, _, _ in reader.batches] == [steps for _, _, steps in reader.batches]
    assert reader.epochs == [(taken, taken, taken)]  # at the end: every step taken, and a full bar


def test_the_bar_leaves_the_version_number_out_of_its_metrics(tmp_path):
    """The class itself drops ``v_num`` (Lightning's bar shows it): no CLI patching an instance needed."""
    bar = EnvStepsProgressBar()
    trainer = quiet_trainer(max_steps=1, logger=CSVLogger(tmp_path), callbacks=[bar], enable_progress_bar=True)
    model = TinyNet(batch_size=16)
    trainer.fit(model, datamodule=TinyDataModule(train_size=32, val_size=16, batch_size=16))
    assert "v_num" in TQDMProgressBar.get_metrics(bar, trainer, model)  # what Lightning's own bar shows
    assert "v_num" not in bar.get_metrics(trainer, model)


def test_the_bar_redraws_every_refresh_rate_batches_and_at_the_last():
    bar = EnvStepsProgressBar(refresh_rate=3)
    assert [n for n in range(1, 8) if bar.redraw_due(n, 7)] == [3, 6, 7]
    assert [n for n in range(1, 8) if EnvStepsProgressBar(refresh_rate=0).redraw_due(n, 7)] == []  # disabled
