"""The DQN agent as a whole: environment loop, training through Lightning, checkpoints, resume through the CLI."""

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
from tests.helpers import cli_args, preset, quiet_trainer


class Corridor(gym.Env):
    """Cells 0..4, start in 0; action 1 steps right, 0 left (the walls stop the agent).

    Reaching cell 4 pays 1 and terminates; the time limit below truncates after 8 steps. Observations are
    one-hot cells. Optimal greedy return 1.0 needs four right steps in a row, so solving it means learning.
    """

    LENGTH = 5

    def __init__(self) -> None:
        self.observation_space = gym.spaces.Box(0.0, 1.0, (self.LENGTH,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.state = np.zeros(1, dtype=np.int64)  # the cell, as an array: the classic-control convention

    def _observation(self) -> np.ndarray:
        return np.eye(self.LENGTH, dtype=np.float32)[self.state[0]]

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = np.zeros(1, dtype=np.int64)
        return self._observation(), {}

    def step(self, action):
        self.state = np.clip(self.state + (1 if action == 1 else -1), 0, self.LENGTH - 1)
        terminated = bool(self.state[0] == self.LENGTH - 1)
        return self._observation(), float(terminated), terminated, False, {}


CORRIDOR = "DQNTestCorridor-v0"
if CORRIDOR not in gym.registry:
    gym.register(CORRIDOR, entry_point=Corridor, max_episode_steps=8, reward_threshold=1.0)

# Small and fast: a solved corridor within a few hundred updates.
CORRIDOR_AGENT = dict(
    env_id=CORRIDOR,
    hidden_sizes=(32,),
    lr=0.01,
    gamma=0.9,
    batch_size=32,
    learning_starts=50,
    steps_per_epoch=100,
    target_update_interval=20,
    epsilon_decay_steps=400,
    val_episodes=3,
    test_episodes=3,
)


class FixedAction(nn.Module):
    """A 'Q-network' that always prefers one action."""

    def __init__(self, action: int) -> None:
        super().__init__()
        self.q_values = nn.Parameter(torch.eye(2)[action])

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.q_values.expand(len(observations), 2)


# ---- environment loop -------------------------------------------------------------------------------------


def run_fixed_policy(action: int, steps: int = 20) -> tuple[EnvLoop, Batch]:
    buffer = ReplayBuffer(capacity=100, obs_dim=Corridor.LENGTH)
    loop = EnvLoop(gym.make(CORRIDOR), buffer, n_steps=1, gamma=0.9)
    loop.reset(seed=0)
    for _ in range(steps):
        loop.step(FixedAction(action), epsilon=0.0)
    assert len(buffer) == loop.env_steps == steps
    return loop, buffer.latest(steps)


def test_env_loop_marks_reaching_the_goal_as_terminated():
    loop, stored = run_fixed_policy(action=1)  # right: the goal every 4 steps
    goal = torch.arange(20) % 4 == 3
    assert torch.equal(stored.terminated, goal) and torch.equal(stored.rewards, goal.float())
    assert (stored.next_observations[goal].argmax(dim=1) == 4).all()  # the goal cell, not the next start
    assert (loop.episodes, loop.finished_returns) == (5, [1.0] * 5)


def test_env_loop_does_not_mark_a_time_limit_as_terminated():
    loop, stored = run_fixed_policy(action=0)  # left: stuck at the wall, truncated every 8 steps
    assert not stored.terminated.any()
    assert (loop.episodes, loop.finished_returns, loop.episode_length) == (2, [0.0, 0.0], 4)


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


def test_dqn_learns_the_corridor_and_stops_when_solved():
    L.seed_everything(0)
    agent = DQN(**CORRIDOR_AGENT, stop_when_solved=True)
    fit = quiet_trainer(max_epochs=20)
    fit.fit(agent)
    assert agent.solved_at is not None and fit.current_epoch < 20  # stopped early
    assert fit.callback_metrics["val/mean_return"] == 1.0
    results = fit.test(agent, verbose=False)[0]
    assert (results["test/mean_return"], results["test/std_return"]) == (1.0, 0.0)


def test_every_option_together_still_learns():
    L.seed_everything(0)
    options = dict(double_dqn=True, dueling=True, n_steps=3, loss="mse", frame_stack=2, max_grad_norm=1.0)
    agent = DQN(**CORRIDOR_AGENT, **options, stop_when_solved=True)
    quiet_trainer(max_epochs=20).fit(agent)
    assert agent.solved_at is not None


def test_without_replay_each_batch_is_the_newest_transition():
    agent = DQN(**{**CORRIDOR_AGENT, "replay": False, "batch_size": 1, "train_freq": 1})
    agent.setup("fit")
    agent.collect()  # the first call also runs the (one-step) warm-up
    for _ in range(12):
        observation = agent.env_loop.observation.copy()
        agent.collect()
        batch = agent.draw()
        assert batch.observations.shape == (1, Corridor.LENGTH)
        assert np.array_equal(batch.observations[0].numpy(), observation)
    agent.teardown("fit")


def test_soft_target_updates_move_the_target_by_tau():
    L.seed_everything(0)
    agent = DQN(**{**CORRIDOR_AGENT, "steps_per_epoch": 1, "target_update_interval": 1, "tau": 0.25})
    before = [p.detach().clone() for p in agent.target_net.parameters()]
    quiet_trainer(max_epochs=1, limit_val_batches=0).fit(agent)
    for old, target, online in zip(before, agent.target_net.parameters(), agent.q_net.parameters(), strict=True):
        assert torch.allclose(target, old + 0.25 * (online - old))
    assert not torch.equal(before[0], agent.q_net.trunk[0].weight)  # the online network did change


# ---- checkpoints and resume -------------------------------------------------------------------------------


def test_checkpoint_round_trip_keeps_buffer_counters_and_environment(tmp_path):
    L.seed_everything(0)
    options = {**CORRIDOR_AGENT, "n_steps": 3, "steps_per_epoch": 30}
    agent = DQN(**options)
    fit = quiet_trainer(max_epochs=1, limit_val_batches=0)
    fit.fit(agent)
    while not agent.env_loop.accumulator.pending:  # leave an episode and the n-step accumulator mid-way
        agent.env_loop.step(agent.q_net, epsilon=0.5)
    fit.save_checkpoint(tmp_path / "agent.ckpt")

    checkpoint = torch.load(tmp_path / "agent.ckpt", weights_only=True)
    restored = DQN(**options)
    restored.on_load_checkpoint(checkpoint)
    restored.load_state_dict(checkpoint["state_dict"])
    for name in Batch._fields:
        assert torch.equal(getattr(restored.buffer.storage, name), getattr(agent.buffer.storage, name)), name
    assert (restored.buffer.position, restored.buffer.size) == (agent.buffer.position, agent.buffer.size)
    for attribute in ("env_steps", "episodes", "episode_return", "episode_length"):
        assert getattr(restored.env_loop, attribute) == getattr(agent.env_loop, attribute), attribute
    assert restored.epsilon == agent.epsilon
    assert np.array_equal(restored.env_loop.observation, agent.env_loop.observation)
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


def test_resumed_run_continues_exactly_where_it_stopped(tmp_path):
    """1 epoch + resume for 1 more ends exactly like 2 epochs in one go: counters, epsilon, buffer, weights."""
    straight = main(cartpole_args(tmp_path / "straight", "--trainer.max_epochs", "2")).model

    runs = tmp_path / "resumed"
    first = main(cartpole_args(runs, "--trainer.max_epochs", "1")).model
    checkpoints = runs / "cartpole_dqn" / "checkpoints"
    saved = torch.load(checkpoints / "last.ckpt", weights_only=True)
    assert saved[AGENT_STATE_KEY]["env_loop"]["env_steps"] == first.env_loop.env_steps
    assert saved["global_step"] == 25

    resumed = main(cartpole_args(runs, "--trainer.max_epochs", "2", "--ckpt_path", "last")).model
    assert resumed.global_step == straight.global_step == 50
    assert resumed.env_loop.env_steps == straight.env_loop.env_steps > first.env_loop.env_steps
    assert resumed.env_loop.episodes == straight.env_loop.episodes
    assert resumed.epsilon == straight.epsilon < first.epsilon
    assert torch.equal(resumed.buffer.storage.observations, straight.buffer.storage.observations)
    for name, tensor in straight.state_dict().items():
        assert torch.equal(resumed.state_dict()[name], tensor), name


@pytest.mark.parametrize(
    ("configs", "run_name", "env_id", "threshold"),
    [
        (["cartpole_dqn_plain"], "cartpole_dqn_plain", "CartPole-v0", 195),
        (["cartpole_dqn"], "cartpole_dqn", "CartPole-v0", 195),
        (["cartpole_dqn", "cartpole_v1_dqn"], "cartpole_v1_dqn", "CartPole-v1", 475),  # v1 is an overlay
    ],
)
def test_presets_build_the_agent_they_describe(configs, run_name, env_id, threshold, tmp_path):
    config_args = [arg for name in configs for arg in ("--config", preset(name))]
    cli = main([*config_args, "--runs_dir", str(tmp_path)], run=False)
    agent = cli.model
    assert isinstance(agent, DQN) and agent.hparams.env_id == env_id and agent.solve_threshold == threshold
    assert cli.config.checkpoint.monitor == "val/mean_return" and cli.config.checkpoint.mode == "max"
    assert cli.config.run_name == run_name and agent.hparams.stop_when_solved
    plain = run_name == "cartpole_dqn_plain"
    assert (agent.buffer.capacity == 1) == plain and (agent.target_net is None) == plain
    assert (agent.hparams.frame_skip, agent.hparams.frame_stack) == ((1, 1) if plain else (2, 2))


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
