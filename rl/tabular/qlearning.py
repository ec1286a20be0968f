"""Tabular Q-learning in plain numpy/Python: the update rule and one training episode.

Nothing here knows about Lightning, so the maths can be tested on hand-made transitions and the inner loop
stays fast: Python ints and numpy scalars per step, never a torch op (a torch op costs microseconds each).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np


def q_update(
    q: np.ndarray,
    state: int,
    action: int,
    reward: float,
    next_state: int,
    terminated: bool,
    lr: float,
    gamma: float,
) -> float:
    """Move ``q[state, action]`` towards ``reward + gamma * max_a q[next_state, a]``; return the TD error.

    Only ``terminated`` (the task ended: no future rewards) drops the bootstrap term. A step cut off by the
    time limit (``truncated``) still bootstraps: the state itself has a future, the episode just stopped.
    """
    target = reward if terminated else reward + gamma * q[next_state].max()
    td_error = target - q[state, action]
    q[state, action] += lr * td_error
    return float(td_error)


def training_episode(
    env: gym.Env,
    q: np.ndarray,
    epsilon: float,
    lr: float,
    gamma: float,
    rng: np.random.Generator,
    seed: int | None = None,
) -> tuple[float, int]:
    """Play one epsilon-greedy episode, updating ``q`` in place after every step; return (return, steps).

    ``seed`` reseeds the environment (used once, on the very first episode); later resets continue its RNG.
    """
    state, _ = env.reset(seed=seed)
    n_actions = q.shape[1]
    episode_return, steps = 0.0, 0
    while True:
        action = int(rng.integers(n_actions)) if rng.random() < epsilon else int(q[state].argmax())
        next_state, step_reward, terminated, truncated, _ = env.step(action)
        reward = float(step_reward)
        q_update(q, state, action, reward, next_state, terminated, lr, gamma)
        episode_return += reward
        steps += 1
        if terminated or truncated:
            return episode_return, steps
        state = next_state
