"""The classic-control presets (configs/acrobot_dqn.yaml, mountaincar_dqn.yaml, lunarlander_dqn.yaml, each
standalone): each composes into the agent it describes within RL Zoo's frame budget, a handful of
steps through the CLI writes its checkpoints, and a short fit learns something measurable (slow)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pytest
import torch

from benchmarks.classic_tasks import TASKS, Task
from cli import main
from rl.dqn.agent import DQN
from rl.evaluation import play_episodes
from rl.play import load_agent
from rl.seeds import VAL_FIRST_SEED, evaluation_seeds
from tests.helpers import QUIET, preset

BOX2D = pytest.mark.skipif(
    importlib.util.find_spec("Box2D") is None,
    reason='LunarLander needs Box2D: pip install -e ".[box2d]"',
)
PRESETS = [
    pytest.param(TASKS["acrobot"], id="acrobot"),
    pytest.param(TASKS["mountaincar"], id="mountaincar"),
    pytest.param(TASKS["lunarlander"], id="lunarlander", marks=BOX2D),
]
TINY = [
    "--trainer.max_epochs", "1",
    "--model.init_args.steps_per_epoch", "20",
    "--model.init_args.learning_starts", "100",
    "--model.init_args.val_episodes", "2",
]  # fmt: skip


def preset_args(task: Task) -> list[str]:
    return ["--config", preset(task.preset)]


@pytest.mark.parametrize("task", PRESETS)
def test_preset_builds_its_task_within_rl_zoos_budget(task, tmp_path):
    cli = main([*preset_args(task), "--runs_dir", str(tmp_path)], run=False)
    agent = cli.model
    hp = agent.hparams
    assert isinstance(agent, DQN) and hp.env_id == task.env_id and cli.config.run_name == task.preset
    # the random warm-up comes first, in whole vector steps; then each epoch's updates, train_freq agent steps each
    warmup = -(-hp.learning_starts // hp.num_envs) * hp.num_envs
    agent_steps = warmup + cli.config.trainer.max_epochs * hp.steps_per_epoch * hp.train_freq
    assert agent_steps * hp.frame_skip <= task.budget_frames + hp.num_envs * hp.frame_skip  # up to one vector step over
    # the stop rule ends a run at the table's target, sustained, so that the last checkpoint holds it too
    assert hp.stop_return == task.target and hp.stop_evaluations >= 2


@pytest.mark.parametrize("task", PRESETS)
def test_preset_fits_a_few_steps_and_writes_both_checkpoints(task, tmp_path):
    main(["fit", *preset_args(task), "--runs_dir", str(tmp_path), *QUIET, *TINY])
    checkpoints = Path(tmp_path) / task.preset / "version_0" / "checkpoints"
    assert (checkpoints / "best.ckpt").is_file() and (checkpoints / "last.ckpt").is_file()


@BOX2D
def test_lunarlander_checkpoints_hold_an_average_of_the_trained_weights(tmp_path):
    """The preset's EMAWeightAveraging: a checkpoint's weights (what validation measured, and what test and play
    read) are the moving average; the trained ones, which a resumed run continues from, are kept beside."""
    main(["fit", *preset_args(TASKS["lunarlander"]), "--runs_dir", str(tmp_path), *QUIET, *TINY])
    last = Path(tmp_path) / "lunarlander_dqn" / "version_0" / "checkpoints" / "last.ckpt"
    saved = torch.load(last, weights_only=True)
    averaged, trained = saved["state_dict"], saved["current_model_state"]
    assert averaged.keys() == trained.keys()
    # 20 updates at decay 0.999 move the average about 2% of the way from the first weights to the trained ones
    moved = [k for k in averaged if k.startswith("q_net.") and not torch.equal(averaged[k], trained[k])]
    assert moved, "the checkpoint's weights are the trained ones, not their average"
    played = load_agent(str(last))
    assert all(torch.equal(played.state_dict()[k], averaged[k]) for k in moved)


def short_fit(task: Task, tmp_path: Path, epochs: int, *extra: str) -> DQN:
    args = ["fit", *preset_args(task), "--runs_dir", str(tmp_path), *QUIET, "--seed_everything", "0"]
    return main([*args, "--trainer.max_epochs", str(epochs), *extra]).model


class ValidationMeans(L.Callback):
    """Every evaluation's mean return (``best.ckpt`` follows the sustained one, the lowest of the last 3)."""

    def __init__(self) -> None:
        self.means: list[float] = []

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self.means.append(float(trainer.callback_metrics["val/mean_return"]))


@pytest.mark.slow
def test_acrobot_preset_swings_up_within_4000_agent_steps(tmp_path):
    """Random play never swings the tip up within the 500-frame cap (-500); within 4 epochs of the preset an
    evaluation's 100 greedy episodes do, on average in well under half of it."""
    args = ["--runs_dir", str(tmp_path), *QUIET, "--seed_everything", "0", "--trainer.max_epochs", "4"]
    cli = main([*preset_args(TASKS["acrobot"]), *args], run=False)
    means = ValidationMeans()
    trainer: Any = cli.trainer  # its callback list is set at run time, unknown to the type stubs
    trainer.callbacks.append(means)
    trainer.fit(cli.model)
    assert len(means.means) == 4 and max(means.means) > -250, means.means


@pytest.mark.slow
@BOX2D
def test_lunarlander_preset_flies_far_better_than_random_within_3_epochs(tmp_path):
    """Random play crashes on the 20 validation episodes (a mean far below 0); within 3 epochs of the preset (6,000
    updates, 12k of its 98k frames) an evaluation of the averaged weights is at least 100 above it."""
    args = ["--runs_dir", str(tmp_path), *QUIET, "--seed_everything", "0", "--trainer.max_epochs", "3"]
    args += ["--model.init_args.val_episodes", "20", "--model.init_args.stop_return", "null"]
    cli = main([*preset_args(TASKS["lunarlander"]), *args], run=False)
    agent = cli.model
    envs = [agent.make_env() for _ in range(20)]
    rng = np.random.default_rng(0)
    random_play = play_episodes(envs, lambda obs: rng.integers(4, size=len(obs)), evaluation_seeds(VAL_FIRST_SEED, 20))
    means = ValidationMeans()
    trainer: Any = cli.trainer
    trainer.callbacks.append(means)
    trainer.fit(agent)
    assert len(means.means) == 3 and max(means.means) > random_play.returns.mean() + 100, (
        random_play.returns.mean(),
        means.means,
    )


@pytest.mark.slow
def test_mountaincar_held_exploration_reaches_the_flag_where_dithering_does_not(tmp_path):
    """The first 3,500 agent steps (5 epochs after the warm-up; epsilon falls from 1 to about 0.5): with held random
    actions some training episodes reach the flag (terminated transitions in the buffer; seed 0's first at 3,040),
    with plain epsilon-greedy none do (seed 0's first after 15,000)."""
    task = TASKS["mountaincar"]
    no_stop = ["--model.init_args.stop_return", "null"]
    held = short_fit(task, tmp_path / "held", 5, *no_stop)
    plain = short_fit(task, tmp_path / "plain", 5, *no_stop, "--model.init_args.exploration_hold", "1")
    assert held.hparams.exploration_hold > 1
    reached = [int(agent.buffer.storage.terminated[: len(agent.buffer)].sum()) for agent in (held, plain)]
    assert reached[0] > 0 and reached[1] == 0, reached


@pytest.mark.slow
def test_classic_control_quick_run_prints_the_table(capsys, tmp_path):
    """The benchmark's smoke run (a few hundred steps a task, each in its own process): one row per task with
    both checkpoints tested, and the per-seed table."""
    from benchmarks import classic_control

    out = tmp_path / "results.json"
    classic_control.main(["--quick", "--tasks", "acrobot", "mountaincar", "--seeds", "0", "--json", str(out)])
    printed = capsys.readouterr().out
    assert "| Acrobot-v1 | >= -75 |" in printed and "| MountainCar-v0 | >= -100 |" in printed
    assert "| acrobot | 0 |" in printed and "| mountaincar | 0 |" in printed
    saved = json.loads(out.read_text())
    for name in ("acrobot", "mountaincar"):
        (run,) = saved[name]["ours"]
        assert run["frames"] > 0 and set(run["best"]) == set(run["last"]) == {"mean", "min", "share_above", "meets"}
