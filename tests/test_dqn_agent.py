"""The DQN agent as a whole: environment loop, training through Lightning, checkpoints, resume through the CLI."""

import csv
from pathlib import Path

import gymnasium as gym
import lightning as L
import numpy as np
import pytest
import torch
from torch import nn

from cli import main
from rl.checkpointing import AGENT_STATE_KEY
from rl.dqn import DQN
from rl.dqn.env_loop import EnvLoop
from rl.dqn.replay import Batch, ReplayBuffer
from rl.evaluation import greedy_policy, play_episodes
from tests.corridor_env import CORRIDOR, CORRIDOR_AGENT, Corridor
from tests.helpers import cli_args, preset, quiet_trainer


class FixedAction(nn.Module):
    """A 'Q-network' that always prefers one action."""

    def __init__(self, action: int) -> None:
        super().__init__()
        self.q_values = nn.Parameter(torch.eye(2)[action])

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.q_values.expand(len(observations), 2)


# ---- environment loop -------------------------------------------------------------------------------------


def run_fixed_policy(action: int, steps: int = 20, num_envs: int = 1, n_steps: int = 1) -> tuple[EnvLoop, Batch]:
    buffer = ReplayBuffer(capacity=1000, obs_dim=Corridor.LENGTH)
    loop = EnvLoop(lambda: gym.make(CORRIDOR), num_envs, buffer, n_steps=n_steps, gamma=0.9)
    loop.reset(seed=0)
    for _ in range(steps):
        loop.step(FixedAction(action), epsilon=0.0)
    assert loop.env_steps == steps * num_envs
    return loop, buffer.latest(len(buffer))


def test_env_loop_marks_reaching_the_goal_as_terminated():
    loop, stored = run_fixed_policy(action=1)  # right: the goal every 4 steps
    goal = torch.arange(20) % 4 == 3
    assert torch.equal(stored.terminated, goal) and torch.equal(stored.rewards, goal.float())
    assert (stored.next_observations[goal].argmax(dim=1) == 4).all()  # the goal cell, not the next start
    assert (loop.episodes, loop.finished) == (5, [(1.0, 4, end) for end in (4, 8, 12, 16, 20)])


def test_env_loop_does_not_mark_a_time_limit_as_terminated():
    loop, stored = run_fixed_policy(action=0)  # left: stuck at the wall, truncated every 8 steps
    assert not stored.terminated.any()
    assert (loop.episodes, loop.finished, loop.episode_lengths.tolist()) == (2, [(0.0, 8, 8), (0.0, 8, 16)], [4])


def cells(observations: torch.Tensor) -> list[int]:
    return observations.argmax(dim=1).tolist()  # one-hot (B, 5) -> (B,) corridor cells


def test_vector_env_autoreset_keeps_episodes_apart_in_nstep_returns():
    """3 copies, 3-step returns, always right: the goal (cell 4) every 4 steps. Autoreset hands over the next
    episode's start in the same step; no stored transition may start at the goal or bootstrap from a reset."""
    loop, stored = run_fixed_policy(action=1, steps=8, num_envs=3, n_steps=3)
    assert len(stored.rewards) == 8 * 3 and loop.episodes == 2 * 3
    rows = sorted(
        zip(cells(stored.observations), stored.rewards.tolist(), cells(stored.next_observations),
            stored.terminated.tolist(), stored.steps.tolist(), strict=True)
    )  # fmt: skip
    per_episode = [
        (0, 0.0, 3, False, 3),  # three steps of no reward, then bootstrap from cell 3
        (1, pytest.approx(0.81), 4, True, 3),  # reaches the goal on its third step
        (2, pytest.approx(0.9), 4, True, 2),  # flushed at the end of the episode: 2 steps
        (3, 1.0, 4, True, 1),  # 1 step
    ]
    assert rows == sorted(per_episode * 6, key=lambda row: row[0])


def test_vector_env_truncation_flushes_without_terminating():
    loop, stored = run_fixed_policy(action=0, steps=8, num_envs=2, n_steps=3)  # stuck at the wall: time limit
    assert loop.episodes == 2 and not stored.terminated.any()
    assert sorted(stored.steps.tolist()) == [1, 1, 2, 2] + [3] * 12  # flushed at the cut, bootstrapped later
    assert set(cells(stored.next_observations)) == {0}  # the cut-off state, not a fresh start (both cell 0 here)


def test_play_episodes_plays_fixed_seed_episodes_in_lockstep():
    envs = [gym.make(CORRIDOR) for _ in range(3)]
    right = play_episodes(envs, greedy_policy(FixedAction(1)), [1, 2, 3])
    assert right.returns.tolist() == [1.0, 1.0, 1.0] and right.lengths.tolist() == [4, 4, 4]
    assert not right.truncated.any()  # reaching the goal terminates
    left = play_episodes(envs, greedy_policy(FixedAction(0)), [1, 2])
    assert left.returns.tolist() == [0.0, 0.0] and left.lengths.tolist() == [8, 8] and left.truncated.all()


# ---- training through Lightning ---------------------------------------------------------------------------


def test_experience_stream_feeds_the_training_loop():
    L.seed_everything(0)
    agent = DQN(**{**CORRIDOR_AGENT, "steps_per_epoch": 7, "train_freq": 3})
    batches = []

    class Spy(L.Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            batches.append(batch)

    quiet_trainer(max_epochs=2, callbacks=[Spy()], limit_val_batches=0).fit(agent)
    assert len(batches) == 14 and all(isinstance(b, Batch) for b in batches)
    assert batches[0].observations.shape == (32, Corridor.LENGTH)
    # the random warm-up once, then train_freq environment steps per training step
    assert agent.env_loop.env_steps == 50 + 14 * 3
    assert agent.global_step == 14
    assert agent.epsilon == pytest.approx(agent.epsilon_at(agent.env_loop.env_steps - 1))


@pytest.mark.parametrize("num_envs", [1, 4])
def test_dqn_learns_the_corridor_and_stops_when_solved(num_envs):
    L.seed_everything(0)
    agent = DQN(**CORRIDOR_AGENT, stop_return=1.0, num_envs=num_envs)
    fit = quiet_trainer(max_epochs=20)
    fit.fit(agent)
    assert agent.solved_at is not None and fit.current_epoch < 20  # stopped early
    assert fit.callback_metrics["val/sustained_return"] == 1.0  # the last three evaluations all at 1.0
    results = fit.test(agent, verbose=False)[0]
    assert (results["test/mean_return"], results["test/std_return"]) == (1.0, 0.0)


def test_every_option_together_still_learns():
    L.seed_everything(0)
    options = dict(double_dqn=True, dueling=True, n_steps=3, loss="mse", frame_stack=2, max_grad_norm=1.0)
    agent = DQN(**CORRIDOR_AGENT, **options, stop_return=1.0)
    quiet_trainer(max_epochs=20).fit(agent)
    assert agent.solved_at is not None


def test_without_replay_each_batch_is_the_newest_transition():
    agent = DQN(**{**CORRIDOR_AGENT, "replay": False, "batch_size": 1, "train_freq": 1})
    agent.setup("fit")
    agent.collect()  # the first call also runs the (one-step) warm-up
    for _ in range(12):
        observation = agent.env_loop.observations[0].copy()
        agent.collect()
        batch = agent.draw()
        assert batch.observations.shape == (1, Corridor.LENGTH)
        assert np.array_equal(batch.observations[0].numpy(), observation)
    agent.teardown("fit")


class OnlineAfterFirstUpdate(L.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if batch_idx == 0:
            self.weights = [p.detach().clone() for p in pl_module.q_net.parameters()]


def test_soft_target_updates_move_the_target_by_tau():
    L.seed_everything(0)
    agent = DQN(**{**CORRIDOR_AGENT, "steps_per_epoch": 2, "target_update_interval": 1, "tau": 0.25})
    before = [p.detach().clone() for p in agent.target_net.parameters()]
    online = OnlineAfterFirstUpdate()
    quiet_trainer(max_epochs=1, limit_val_batches=0, callbacks=[online]).fit(agent)
    # the update due after the first update is made before the second one's loss (the one after the last update
    # would come before a next one)
    for old, target, first in zip(before, agent.target_net.parameters(), online.weights, strict=True):
        assert torch.allclose(target, old + 0.25 * (first - old))
    assert not torch.equal(before[0], online.weights[0])  # the online network did change


# ---- checkpoints and resume -------------------------------------------------------------------------------


def test_checkpoint_round_trip_keeps_buffer_counters_and_environment(tmp_path):
    L.seed_everything(0)
    options = {**CORRIDOR_AGENT, "n_steps": 3, "steps_per_epoch": 30}
    agent = DQN(**options)
    fit = quiet_trainer(max_epochs=1, limit_val_batches=0)
    fit.fit(agent)
    while not agent.env_loop.accumulators[0].pending:  # leave an episode and the n-step accumulator mid-way
        agent.env_loop.step(agent.q_net, epsilon=0.5)
    fit.save_checkpoint(tmp_path / "agent.ckpt")

    checkpoint = torch.load(tmp_path / "agent.ckpt", weights_only=True)
    restored = DQN(**options)
    restored.on_load_checkpoint(checkpoint)
    restored.load_state_dict(checkpoint["state_dict"])
    for name in Batch._fields:
        assert torch.equal(getattr(restored.buffer.storage, name), getattr(agent.buffer.storage, name)), name
    assert (restored.buffer.position, restored.buffer.size) == (agent.buffer.position, agent.buffer.size)
    for attribute in ("env_steps", "episodes", "episode_returns", "episode_lengths"):
        assert np.array_equal(getattr(restored.env_loop, attribute), getattr(agent.env_loop, attribute)), attribute
    assert restored.epsilon == agent.epsilon
    assert np.array_equal(restored.env_loop.observations, agent.env_loop.observations)
    assert torch.equal(restored.target_net.trunk[0].weight, agent.target_net.trunk[0].weight)
    # the same future: environment, n-step accumulator and exploration RNG continue identically
    for _ in range(30):
        agent.env_loop.step(agent.q_net, epsilon=0.5)
        restored.env_loop.step(restored.q_net, epsilon=0.5)
    assert torch.equal(restored.buffer.storage.observations, agent.buffer.storage.observations)
    assert torch.equal(restored.buffer.storage.rewards, agent.buffer.storage.rewards)


SHORT = ["--model.steps_per_epoch", "25", "--model.learning_starts", "100", "--model.val_episodes", "2"]


def cartpole_args(runs_dir: Path, *extra: str) -> list[str]:
    return cli_args("fit", "cartpole_dqn", runs_dir, *SHORT, *extra)


@pytest.mark.parametrize(
    "envs",
    [
        pytest.param(["--model.num_envs", "1"], id="1 env"),
        pytest.param(["--model.num_envs", "3"], id="3 envs"),
    ],
)
def test_resumed_run_continues_exactly_where_it_stopped(tmp_path, envs):
    """1 epoch + resume for 1 more ends exactly like 2 epochs in one go: counters, epsilon, buffer, weights."""
    straight = main(cartpole_args(tmp_path / "straight", "--trainer.max_epochs", "2", *envs)).model

    runs = tmp_path / "resumed"
    first = main(cartpole_args(runs, "--trainer.max_epochs", "1", *envs)).model
    checkpoints = runs / "cartpole_dqn" / "version_0" / "checkpoints"
    saved = torch.load(checkpoints / "last.ckpt", weights_only=True)
    assert saved[AGENT_STATE_KEY]["processes"][0]["env_loop"]["env_steps"] == first.env_loop.env_steps
    assert saved["global_step"] == 25

    resumed = main(cartpole_args(runs, "--trainer.max_epochs", "2", "--ckpt_path", "last", *envs)).model
    assert resumed.global_step == straight.global_step == 50
    assert resumed.env_loop.env_steps == straight.env_loop.env_steps > first.env_loop.env_steps
    assert resumed.env_loop.episodes == straight.env_loop.episodes
    assert resumed.epsilon == straight.epsilon < first.epsilon
    assert torch.equal(resumed.buffer.storage.observations, straight.buffer.storage.observations)
    for name, tensor in straight.state_dict().items():
        assert torch.equal(resumed.state_dict()[name], tensor), name


def test_the_learning_rate_decays_linearly_to_lr_end_over_the_run(tmp_path):
    """lr at update 0, lr_end at the last of max_epochs x steps_per_epoch updates, a straight line between."""
    cli = main(cartpole_args(tmp_path, "--trainer.max_epochs", "2", "--model.lr", "1e-3", "--model.lr_end", "2e-4"))
    assert cli.trainer.global_step == 50  # 2 epochs of 25 updates
    (config,) = cli.trainer.lr_scheduler_configs
    assert config.interval == "step" and config.name == "train/lr"
    assert cli.trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(2e-4)
    factors = [config.scheduler.lr_lambdas[0](step) for step in (0, 25, 50, 80)]
    assert factors == pytest.approx([1.0, 0.6, 0.2, 0.2])  # halfway: halfway between; after the end: lr_end


@pytest.mark.parametrize(
    ("configs", "run_name", "env_id", "threshold"),
    [
        (["cartpole_dqn_plain"], "cartpole_dqn_plain", "CartPole-v0", 195),
        (["cartpole_dqn"], "cartpole_dqn", "CartPole-v0", 195),
        (["cartpole_dqn", "cartpole_v1"], "cartpole_v1_dqn", "CartPole-v1", 475),  # v1 is an overlay
    ],
)
def test_presets_build_the_agent_they_describe(configs, run_name, env_id, threshold, tmp_path):
    config_args = [arg for name in configs for arg in ("--config", preset(name))]
    cli = main([*config_args, "--runs_dir", str(tmp_path)], run=False)
    agent = cli.model
    assert isinstance(agent, DQN) and agent.hparams.env_id == env_id and agent.solve_threshold == threshold
    assert cli.config.checkpoint.monitor == "val/sustained_return" and cli.config.checkpoint.mode == "max"
    assert cli.config.run_name == run_name and agent.hparams.stop_return is not None
    plain = run_name == "cartpole_dqn_plain"
    assert (agent.buffer.capacity == 1) == plain and (agent.target_net is None) == plain
    assert (agent.hparams.frame_skip, agent.hparams.frame_stack) == ((1, 1) if plain else (2, 2))
    assert agent.env_loop.num_envs == (1 if plain else 4 if env_id == "CartPole-v1" else 16)
    assert agent.stop_rule.target == (195 if plain else 500 if env_id == "CartPole-v1" else 200)


def test_play_drives_a_dqn_checkpoint(tmp_path, capsys):
    from rl.play import load_agent, play

    agent = DQN(env_id="CartPole-v0", frame_skip=2, frame_stack=2)
    path = tmp_path / "agent.ckpt"
    quiet_trainer(max_epochs=0).fit(agent)  # attaches a trainer so the checkpoint has every section
    agent.trainer.save_checkpoint(path)
    episode_return = play(load_agent(str(path), class_path="rl.dqn.agent.DQN"), seed=3, render="none")
    printed = capsys.readouterr().out
    assert f"Episode return: {episode_return:g}" in printed
    assert "step 1: action" in printed and "observation: [" in printed


def test_curves_use_environment_steps_on_the_x_axis(tmp_path):
    from lightning.pytorch.loggers import CSVLogger

    L.seed_everything(0)
    agent = DQN(**{**CORRIDOR_AGENT, "num_envs": 2, "train_freq": 2})
    trainer = quiet_trainer(max_epochs=2, logger=CSVLogger(tmp_path), log_every_n_steps=10)
    trainer.fit(agent)
    rows = list(csv.DictReader((Path(trainer.log_dir) / "metrics.csv").read_text().splitlines()))
    loss_steps = [int(row["step"]) for row in rows if row["train/loss"]]
    # one update per 2 environment steps after a 50-step warm-up, logged at updates 10, 20, ...; Lightning fetches
    # one batch ahead, so the agent has already acted for the next update, except at the end of an epoch (100)
    expected = [50 + 2 * (update + (1 if update % 100 else 0)) for update in range(10, 201, 10)]
    assert loss_steps == expected
    assert any(row["train/episode_length"] for row in rows) and any(row["val/mean_return"] for row in rows)
    val_steps = [int(row["step"]) for row in rows if row["val/mean_return"]]
    assert val_steps == [50 + 2 * 100, 50 + 2 * 200]  # after each epoch of 100 updates


def test_each_finished_episode_is_logged_once_at_the_step_it_ended(tmp_path):
    """Episodes of 4-8 steps outlast a log interval (one update = 4 steps, logged every update). Through
    ``self.log``, Lightning would write the last return again at every log step without a new episode."""
    from lightning.pytorch.loggers import CSVLogger

    L.seed_everything(0)
    agent = DQN(**{**CORRIDOR_AGENT, "train_freq": 4, "steps_per_epoch": 40})
    trainer = quiet_trainer(max_epochs=1, logger=CSVLogger(tmp_path), log_every_n_steps=1)
    trainer.fit(agent)
    rows = list(csv.DictReader((Path(trainer.log_dir) / "metrics.csv").read_text().splitlines()))
    episodes = [
        (int(row["step"]), int(float(row["train/episode_length"]))) for row in rows if row["train/episode_length"]
    ]
    loop = agent.env_loop
    assert len(episodes) == loop.episodes - len(loop.finished) > 10  # the newest ones wait for the next log
    ends = [0, *(step for step, _ in episodes)]
    # one environment: each episode starts where the one before ended, so the steps between ends are its length
    assert [length for _, length in episodes] == np.diff(ends).tolist()
    assert {float(row["train/episode_return"]) for row in rows if row["train/episode_return"]} <= {0.0, 1.0}
