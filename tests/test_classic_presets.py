"""The classic-control presets (configs/acrobot_dqn.yaml, mountaincar_dqn.yaml, lunarlander_dqn.yaml, overlays
of cartpole_dqn.yaml): each composes into the agent it describes within RL Zoo's frame budget, a handful of
steps through the CLI writes its checkpoints, and a short fit learns something measurable (slow)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from benchmarks.classic_tasks import TASKS, Task
from cli import main
from rl.dqn.agent import DQN
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


def overlay(task: Task) -> list[str]:
    return ["--config", preset("cartpole_dqn"), "--config", preset(task.preset)]


@pytest.mark.parametrize("task", PRESETS)
def test_preset_builds_its_task_within_rl_zoos_budget(task, tmp_path):
    cli = main([*overlay(task), "--runs_dir", str(tmp_path)], run=False)
    agent = cli.model
    hp = agent.hparams
    assert isinstance(agent, DQN) and hp.env_id == task.env_id and cli.config.run_name == task.preset
    frames_per_epoch = hp.steps_per_epoch * hp.train_freq * hp.frame_skip
    assert cli.config.trainer.max_epochs * frames_per_epoch <= task.budget_frames
    # the stop rule ends a run at the table's target, sustained, so that the last checkpoint holds it too
    assert hp.stop_return == task.target and hp.stop_evaluations >= 2


@pytest.mark.parametrize("task", PRESETS)
def test_preset_fits_a_few_steps_and_writes_both_checkpoints(task, tmp_path):
    main(["fit", *overlay(task), "--runs_dir", str(tmp_path), *QUIET, *TINY])
    checkpoints = Path(tmp_path) / task.preset / "version_0" / "checkpoints"
    assert (checkpoints / "best.ckpt").is_file() and (checkpoints / "last.ckpt").is_file()
