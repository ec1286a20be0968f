"""The best mean return any policy can get on the Taxi evaluation seeds, to read `test/mean_return` against.

    python -m benchmarks.taxi_optimum [--ckpt runs/taxi_qlearning/version_0/checkpoints/best.ckpt]

Value iteration on the env's own transition table (``env.unwrapped.P``) gives each state's optimal undiscounted
return; averaging it over the start states of the fixed validation/test seeds gives the ceiling of
`val/mean_return` / `test/mean_return`. With ``--ckpt`` it also counts the seeds where the agent falls short.
"""

from __future__ import annotations

import argparse
from typing import Any, cast

import gymnasium as gym
import numpy as np

from rl.evaluation import play_episodes
from rl.play import load_agent
from rl.seeds import TEST_FIRST_SEED, VAL_FIRST_SEED


def expected(outcomes: list[tuple[float, int, float, bool]], values: np.ndarray) -> float:
    """Expected reward plus value of what follows, over one action's (probability, next, reward, done) outcomes."""
    return sum(p * (r + (0.0 if done else values[s2])) for p, s2, r, done in outcomes)


def optimal_values(env: gym.Env, sweeps: int = 100) -> np.ndarray:
    """Optimal undiscounted return of every state (episodes here end within ~20 steps, so 100 sweeps suffice)."""
    table = cast(Any, env.unwrapped).P  # Taxi's transition table, not part of the Env interface
    values = np.zeros(len(table))
    for _ in range(sweeps):
        values = np.array([max(expected(outcomes, values) for outcomes in acts.values()) for acts in table.values()])
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env_id", default="Taxi-v4")
    parser.add_argument("--val_episodes", type=int, default=2000)  # as in configs/taxi_qlearning.yaml
    parser.add_argument("--test_episodes", type=int, default=1000)
    parser.add_argument("--ckpt", help="also score this agent checkpoint seed by seed")
    args = parser.parse_args()

    env = gym.make(args.env_id)
    values = optimal_values(env)
    start = cast(Any, env.unwrapped).initial_state_distrib
    mean = float(start @ values)
    std = float(np.sqrt(start @ (values - mean) ** 2))
    print(f"{args.env_id}: optimal return over the start-state distribution: mean {mean:.4f}, std {std:.4f}")
    spread = 2 * std / np.sqrt(1000)
    print(f"  (a 1,000-episode mean of optimal play lands within {mean:.2f} +- {spread:.2f} 95% of the time)")

    agent = load_agent(args.ckpt) if args.ckpt else None
    for name, base, n in (("val", VAL_FIRST_SEED, args.val_episodes), ("test", TEST_FIRST_SEED, args.test_episodes)):
        starts = [env.reset(seed=seed)[0] for seed in range(base, base + n)]
        best = values[starts]
        line = f"{name} seeds {base}..{base + n - 1} ({len(set(starts))} distinct start states): optimal mean return"
        line += f" {best.mean():.4f}"
        if agent is not None:
            envs = [agent.make_env() for _ in range(100)]
            policy = lambda obs: np.array([agent.act(o) for o in obs])  # noqa: E731
            chunks = [list(range(i, min(i + 100, base + n))) for i in range(base, base + n, 100)]
            got = np.concatenate([play_episodes(envs, policy, seeds).returns for seeds in chunks])
            line += f"; agent {got.mean():.4f}, short of optimal on {(got < best - 1e-9).sum()} of {n} seeds"
        print(line)


if __name__ == "__main__":
    main()
