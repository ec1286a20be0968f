"""Temporally extended epsilon-greedy (rl/dqn/exploration.py): held random actions, their state, and plain
epsilon-greedy unchanged when holds are off."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from rl.dqn.env_loop import EnvLoop
from rl.dqn.exploration import HeldExploration
from rl.dqn.replay import ReplayBuffer


def loop(max_hold: int, num_envs: int = 2) -> EnvLoop:
    buffer = ReplayBuffer(10_000, 2)
    return EnvLoop(lambda: gym.make("MountainCar-v0"), num_envs, buffer, n_steps=1, gamma=0.99, max_hold=max_hold)


class RecordActions(gym.Wrapper):
    """Keeps every action the agent sent, per copy."""

    def __init__(self, env: gym.Env, log: list[int]) -> None:
        super().__init__(env)
        self.log = log

    def step(self, action):
        self.log.append(int(action))
        return self.env.step(action)


def actions_of(max_hold: int, epsilon: float, steps: int, seed: int = 0) -> list[int]:
    log: list[int] = []
    buffer = ReplayBuffer(10_000, 2)
    env_loop = EnvLoop(
        lambda: RecordActions(gym.make("MountainCar-v0"), log), 1, buffer, n_steps=1, gamma=0.99, max_hold=max_hold
    )
    env_loop.reset(seed=seed)
    q_net = nn.Linear(2, 3)
    for _ in range(steps):
        env_loop.step(q_net, epsilon)
    return log


def runs(actions: list[int]) -> list[int]:
    """Lengths of the runs of equal consecutive actions."""
    return [len(list(group)) for _, group in itertools.groupby(actions)]


def test_holds_make_long_runs_of_one_random_action_and_plain_epsilon_greedy_does_not():
    plain, held = actions_of(1, epsilon=1.0, steps=400), actions_of(50, epsilon=1.0, steps=400)
    # uniform over 3 actions: a run of 10 equal actions has odds of 3^-9; zeta(2) holds of up to 50 make several
    assert max(runs(plain)) < 10
    assert max(runs(held)) >= 10
    assert np.mean(runs(held)) > 2 * np.mean(runs(plain))


def test_durations_follow_zeta_two_within_the_cap():
    hold = HeldExploration(1, max_hold=8)
    rng = np.random.default_rng(0)
    durations = np.array([hold.duration(rng) for _ in range(4000)])
    assert durations.min() == 1 and durations.max() == 8
    # zeta(2) truncated at 8: P(1) = 1 / sum_{n<=8} n^-2 = 0.65
    assert abs(np.mean(durations == 1) - 0.65) < 0.03


def test_max_hold_one_acts_exactly_as_before():
    """The loop's generator draws what plain epsilon-greedy draws, no more: its random actions are the ones
    written out here by hand from the same seed."""
    log = actions_of(1, epsilon=0.5, steps=60, seed=3)
    rng = np.random.default_rng(3)
    explored = 0
    for action in log:
        explore = rng.random(1) < 0.5
        random_actions = rng.integers(3, size=int(explore.sum()))
        if explore[0]:
            assert action == int(random_actions[0])
            explored += 1
    assert 10 < explored < 50


def test_a_new_episode_starts_without_a_hold():
    hold = HeldExploration(2, max_hold=100)
    hold.steps_left[:] = [5, 7]
    hold.end_episode(1)
    assert hold.holding().tolist() == [True, False]


def test_state_round_trip_continues_identically(tmp_path):
    first = loop(max_hold=30)
    first.reset(seed=1)
    q_net = nn.Linear(2, 3)
    for _ in range(37):
        first.step(q_net, epsilon=0.6)
    path = tmp_path / "loop.pt"
    torch.save(first.state_dict(), path)
    second = loop(max_hold=30)
    second.load_state_dict(torch.load(path, weights_only=True))
    np.testing.assert_array_equal(second.hold.steps_left, first.hold.steps_left)
    for _ in range(50):
        first.step(q_net, epsilon=0.6)
        second.step(q_net, epsilon=0.6)
    np.testing.assert_array_equal(first.observations, second.observations)
    np.testing.assert_array_equal(first.hold.actions, second.hold.actions)


def test_zero_hold_is_refused_with_the_option_name():
    from rl.dqn.agent import DQN

    with pytest.raises(ValueError, match="exploration_hold must be at least 1"):
        DQN(env_id="MountainCar-v0", exploration_hold=0)
