"""The Taxi preset end to end, in-process: fit, test on the best checkpoint, play an episode from it."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest
import torch

from cli import main
from rl import play
from rl.checkpointing import AGENT_STATE_KEY
from rl.evaluation import play_episodes
from rl.seeds import TEST_FIRST_SEED
from rl.tabular import TabularQLearning
from tests.helpers import cli_args


# The tests of the shipped preset's run (about 30 s) are in the full suite; the fast suite checks Taxi's learning,
# resume and play on smaller runs (tests/test_taxi_checkpoint.py, tests/test_play_record.py).
@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> tuple[Path, object]:
    """One run of the preset as shipped (4,000 episodes, a few seconds), shared by the tests below."""
    runs = tmp_path_factory.mktemp("runs")
    cli = main(cli_args("fit", "taxi_qlearning", runs))
    return runs / "taxi_qlearning" / "version_0" / "checkpoints", cli


@pytest.mark.slow
def test_fit_logs_and_checkpoints_the_best_validation(fitted):
    checkpoints, cli = fitted
    metrics = cli.trainer.callback_metrics
    for key in ("train/episode_return", "train/episode_length", "train/epsilon", "val/mean_return"):
        assert key in metrics
    assert metrics["train/epsilon"] == pytest.approx(0.1)  # the schedule has reached its end value
    callback = cli.trainer.checkpoint_callback
    assert callback.monitor == "val/mean_return"
    assert callback.best_model_path == str(checkpoints / "best.ckpt")
    assert callback.best_model_score >= 7.5  # 2,000 fixed-seed greedy episodes


@pytest.mark.slow
def test_test_on_best_checkpoint_reports_mean_and_std(fitted, tmp_path):
    checkpoints, _ = fitted
    fewer = ["--model.init_args.test_episodes", "300"]
    cli = main(cli_args("test", "taxi_qlearning", checkpoints.parents[2], "--ckpt_path", "best", *fewer))
    assert cli.trainer.ckpt_path == str(checkpoints / "best.ckpt")
    metrics = cli.trainer.callback_metrics
    assert metrics["test/episodes"] == 300
    assert metrics["test/mean_return"] >= 7.5
    assert 0 < metrics["test/std_return"] < 5  # no episode ran into the 200-step limit (-200 would blow this up)


@pytest.mark.slow
def test_best_checkpoint_round_trip(fitted):
    checkpoints, _ = fitted
    saved = torch.load(checkpoints / "best.ckpt", weights_only=True)  # primitives only: safe loading works
    agent = TabularQLearning.load_from_checkpoint(checkpoints / "best.ckpt", map_location="cpu")
    assert torch.equal(agent.q_table, saved["state_dict"]["q_table"])
    state = saved[AGENT_STATE_KEY]
    assert agent.episodes == state["episodes"] == 1000 * (saved["epoch"] + 1)
    assert agent.env_steps == state["env_steps"] > agent.episodes  # every episode is at least one step
    assert agent.epsilon == pytest.approx(state["epsilon"])
    assert agent.rng.bit_generator.state == state["rng"]
    assert agent.train_env.unwrapped.np_random.bit_generator.state == state["env_rng"]
    assert agent.hparams.lr == 1.0 and agent.hparams.q_init == 20.0  # from the preset


@pytest.mark.slow
def test_play_prints_frames_actions_and_the_return(fitted, capsys):
    checkpoints, _ = fitted
    seed = TEST_FIRST_SEED
    episode_return = play.main(["--ckpt", str(checkpoints / "best.ckpt"), "--seed", str(seed)])
    out = capsys.readouterr().out
    assert "+---------+" in out and "|R: |" in out  # a Taxi frame
    assert "step 1: action " in out and "reward -1" in out
    assert "(drop off), reward +20" in out and out.rstrip().endswith("frames; passenger delivered.")
    agent = play.load_agent(str(checkpoints / "best.ckpt"))
    episode = play_episodes([agent.make_env()], lambda obs: [agent.act(obs[0])], [seed])
    assert episode_return == episode.returns[0] > 0
    steps = int(episode.lengths[0])  # no frame skip: one frame per agent step
    assert f"Episode return: {episode_return:g} in {steps} agent steps = {steps} frames;" in out


class AlwaysLeft:
    """The smallest agent rl.play accepts, on an env with no text render (CartPole), like a DQN module would be."""

    def make_env(self, render_mode=None):
        return gym.make("CartPole-v1", render_mode=render_mode)

    def act(self, obs) -> int:
        return 0


def test_play_prints_observations_when_the_env_has_no_text_render(capsys):
    assert isinstance(AlwaysLeft(), play.Agent)
    episode_return = play.play(AlwaysLeft(), seed=0)
    out = capsys.readouterr().out
    assert out.startswith("seed 0\nobservation: [")
    assert "step 1: action 0 (push left), reward +1" in out and out.rstrip().endswith("the pole fell.")
    assert 5 <= episode_return < 50  # pushing one way topples the pole within a few dozen steps


def test_curves_use_environment_steps_on_the_x_axis(tmp_path):
    import csv

    from lightning.pytorch.loggers import CSVLogger

    from tests.helpers import quiet_trainer

    agent = TabularQLearning(episodes_per_epoch=20, episodes_per_step=5, val_episodes=20, seed=0)
    trainer = quiet_trainer(max_epochs=2, logger=CSVLogger(tmp_path), log_every_n_steps=1)
    trainer.fit(agent)
    rows = list(csv.DictReader((Path(trainer.log_dir) / "metrics.csv").read_text().splitlines()))
    per_step = [row for row in rows if row["train/episode_return_step"]]
    assert len(per_step) == 8  # 2 epochs x 4 training steps
    # each training step is logged at the environment steps its episodes reached, not at Lightning's step
    assert [int(row["step"]) for row in per_step] == [int(float(row["train/env_steps"])) for row in per_step]
    assert int(per_step[-1]["step"]) == agent.env_steps > 40  # 40 episodes of at least one step each
    epoch_means = [int(row["step"]) for row in rows if row["train/episode_return_epoch"]]
    validations = [int(row["step"]) for row in rows if row["val/mean_return"]]
    ends_of_epochs = [int(row["step"]) for row in per_step][3::4]
    assert epoch_means == validations == ends_of_epochs
