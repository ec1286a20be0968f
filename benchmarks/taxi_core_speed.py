"""How fast the plain numpy Q-learning loop trains Taxi (no Lightning): ``python -m benchmarks.taxi_core_speed``.

Times 3,000 training episodes of ``rl.tabular.qlearning.training_episode`` with the preset's optimistic table,
then reports the greedy policy's mean return on 300 test seeds (the test suite asserts only the latter).
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

from rl.evaluation import play_episodes
from rl.schedules import linear_schedule
from rl.tabular.qlearning import training_episode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for repeat in range(args.repeats):
        env = gym.make("Taxi-v4")
        q = np.full((500, 6), 20.0)
        rng = np.random.default_rng(repeat)
        start = time.perf_counter()
        steps = 0
        for episode in range(args.episodes):
            epsilon = linear_schedule(episode, 1.0, 0.1, 500)
            seed = repeat if episode == 0 else None
            steps += training_episode(env, q, epsilon, lr=1.0, gamma=0.99, rng=rng, seed=seed)[1]
        seconds = time.perf_counter() - start
        envs = [gym.make("Taxi-v4") for _ in range(300)]
        mean = play_episodes(envs, q.argmax(axis=1).__getitem__, list(range(300))).returns.mean()
        print(
            f"seed {repeat}: {args.episodes} episodes, {steps:,} env steps in {seconds:.2f} s "
            f"({steps / seconds:,.0f} steps/s); greedy mean return on test seeds 0-299: {mean:.3f}"
        )


if __name__ == "__main__":
    main()
