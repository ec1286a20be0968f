"""The Q-learning maths on hand-made transitions, and the plain numpy loop learning Taxi."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from rl.evaluation import play_episodes
from rl.schedules import linear_schedule
from rl.tabular.qlearning import q_update, training_episode


def table() -> np.ndarray:
    q = np.zeros((2, 2))
    q[1] = [2.0, 5.0]  # the next state's best action is worth 5
    return q


def test_update_bootstraps_from_the_best_next_action():
    q = table()
    td = q_update(q, state=0, action=1, reward=-1.0, next_state=1, terminated=False, lr=0.5, gamma=0.9)
    assert td == pytest.approx(-1.0 + 0.9 * 5.0)  # target 3.5, old value 0
    assert q[0, 1] == pytest.approx(0.5 * 3.5)
    assert q[0, 0] == 0.0 and list(q[1]) == [2.0, 5.0]  # nothing else moves


def test_terminated_update_drops_the_future():
    q = table()
    q_update(q, state=0, action=1, reward=-1.0, next_state=1, terminated=True, lr=0.5, gamma=0.9)
    assert q[0, 1] == pytest.approx(-0.5)


class OneStepEnv(gym.Env):
    """State 0 -> state 1 with reward 1, then ends: terminated, or cut off by a time limit (truncated)."""

    observation_space = gym.spaces.Discrete(2)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, terminated: bool) -> None:
        self.terminated = terminated

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        return 1, 1.0, self.terminated, not self.terminated, {}


@pytest.mark.parametrize("terminated", [True, False])
def test_episode_loop_bootstraps_only_past_truncation(terminated: bool):
    q = table()
    episode_return, steps = training_episode(
        OneStepEnv(terminated), q, epsilon=0.0, lr=1.0, gamma=0.9, rng=np.random.default_rng(0)
    )
    assert (episode_return, steps) == (1.0, 1)
    # Truncated: the state after the cut still has a future worth 0.9 * 5; terminated: it has none.
    assert q[0, 0] == pytest.approx(1.0 if terminated else 1.0 + 0.9 * 5.0)


def test_linear_schedule():
    assert linear_schedule(0, 1.0, 0.1, 500) == 1.0
    assert linear_schedule(250, 1.0, 0.1, 500) == pytest.approx(0.55)
    assert linear_schedule(500, 1.0, 0.1, 500) == pytest.approx(0.1)
    assert linear_schedule(10_000, 1.0, 0.1, 500) == pytest.approx(0.1)
    assert linear_schedule(0, 1.0, 0.1, 0) == pytest.approx(0.1)  # no decay: constant end value


@pytest.mark.slow  # 3,300 episodes; tests/test_taxi_checkpoint.py shows a short run beating an untrained agent
def test_qlearning_learns_taxi():
    """The plain numpy loop reaches a near-optimal greedy policy (the optimum averages about 7.9) in 3,000
    episodes. How fast it runs is measured by ``python -m benchmarks.taxi_core_speed``, not asserted here."""
    env = gym.make("Taxi-v4")
    q = np.full((500, 6), 20.0)  # the preset's optimistic start
    rng = np.random.default_rng(0)
    for episode in range(3000):
        epsilon = linear_schedule(episode, 1.0, 0.1, 500)
        training_episode(env, q, epsilon, lr=1.0, gamma=0.99, rng=rng, seed=0 if episode == 0 else None)
    envs = [gym.make("Taxi-v4") for _ in range(100)]
    greedy = q.argmax(axis=1)
    returns = np.concatenate(
        [play_episodes(envs, greedy.__getitem__, list(range(start, start + 100))).returns for start in (0, 100, 200)]
    )
    assert returns.mean() >= 7.5
