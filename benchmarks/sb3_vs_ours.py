"""Wall-clock to solve CartPole-v1: our DQN (configs/cartpole_dqn.yaml + configs/cartpole_v1_dqn.yaml) vs Stable-Baselines3's DQN with RL Zoo's
tuned CartPole-v1 hyperparameters.

    .venv/bin/pip install -e ".[bench]"
    .venv/bin/python -m benchmarks.sb3_vs_ours              # seeds 0-4, about 5 minutes on 2 cores
    .venv/bin/python -m benchmarks.sb3_vs_ours --seeds 0 1 2

Both agents are evaluated by the same code (rl.evaluation.play_episodes) on the same 100 fixed-seed greedy
episodes, every EVAL_EVERY environment frames; "solved" = the first evaluation with a mean return >= 475.
SB3 stops there; ours trains on to its preset's stopping rule (the full score) and its delivered checkpoint is
then tested on the 1,000 unseen test episodes (seeds 0-999).
Both clocks run on one CPU thread and pause while evaluating. Each run is its own process, the two agents
alternate seed by seed so that they share the machine's load, and an unsolved run counts as slower than any
solved one in the median. SB3 runs as its users run it: without Lightning's PYTORCH_NVML_BASED_CUDA_CHECK.

The other classic-control tasks (Acrobot-v1, MountainCar-v0, LunarLander-v3) use the same SB3 trial with RL Zoo's
settings for each (``ZOO``), run beside our presets by ``python -m benchmarks.classic_control --sb3``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from benchmarks.cartpole_harness import V1, fmt, median_or_none, run_isolated

MODULE = "benchmarks.sb3_vs_ours"
EVAL_EVERY = 2_000  # frames; our preset evaluates every 250 x 4 agent steps of 2 frames, i.e. every 2,000 frames

# rl-baselines3-zoo, hyperparams/dqn.yml: each task's tuned DQN and its n_timesteps (frames)
ZOO: dict[str, tuple[dict[str, Any], int]] = {
    "CartPole-v1": (
        dict(
            learning_rate=2.3e-3,
            batch_size=64,
            buffer_size=100_000,
            learning_starts=1_000,
            gamma=0.99,
            target_update_interval=10,
            train_freq=256,
            gradient_steps=128,
            exploration_fraction=0.16,
            exploration_final_eps=0.04,
            policy_kwargs=dict(net_arch=[256, 256]),
        ),
        50_000,
    ),
    "MountainCar-v0": (
        dict(
            learning_rate=4e-3,
            batch_size=128,
            buffer_size=10_000,
            learning_starts=1_000,
            gamma=0.98,
            target_update_interval=600,
            train_freq=16,
            gradient_steps=8,
            exploration_fraction=0.2,
            exploration_final_eps=0.07,
            policy_kwargs=dict(net_arch=[256, 256]),
        ),
        120_000,
    ),
    # Acrobot-v1 and LunarLander-v3 share one setting in RL Zoo
    **{
        env_id: (
            dict(
                learning_rate=6.3e-4,
                batch_size=128,
                buffer_size=50_000,
                learning_starts=0,
                gamma=0.99,
                target_update_interval=250,
                train_freq=4,
                gradient_steps=-1,
                exploration_fraction=0.12,
                exploration_final_eps=0.1,
                policy_kwargs=dict(net_arch=[256, 256]),
            ),
            100_000,
        )
        for env_id in ("Acrobot-v1", "LunarLander-v3")
    },
}


def q_network(model: Any) -> Any:
    """SB3's DQN keeps its Q-network in ``q_net`` (not part of the base class that its callbacks see)."""
    return model.q_net


def sb3_trial(
    seed: int, env_id: str = "CartPole-v1", target: float = 475, eval_every: int = EVAL_EVERY, budget: int | None = None
) -> dict:
    """SB3's DQN with RL Zoo's hyperparameters for ``env_id``, evaluated on our 100 validation episodes every
    ``eval_every`` frames; it stops at the first evaluation with a mean return >= ``target``, or after ``budget``
    frames (default: RL Zoo's)."""
    os.environ.pop("PYTORCH_NVML_BASED_CUDA_CHECK", None)  # set by importing Lightning (via rl); SB3 alone has none
    import torch
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    from rl.evaluation import greedy_policy, play_episodes
    from rl.seeds import VAL_FIRST_SEED, evaluation_seeds
    from rl.wrappers import build_env

    torch.set_num_threads(1)
    envs = [build_env(env_id) for _ in range(100)]
    seeds = evaluation_seeds(VAL_FIRST_SEED, 100)  # the same episodes our validation plays
    hyperparameters, zoo_budget = ZOO[env_id]

    class TargetClock(BaseCallback):
        def _on_training_start(self) -> None:
            self.start, self.evaluating = time.perf_counter(), 0.0
            self.curve: list[float] = []
            self.reached_at: int | None = None
            self.seconds: float | None = None
            self.train_seconds = 0.0

        def _on_step(self) -> bool:
            if self.num_timesteps % eval_every:
                return True
            paused = time.perf_counter()
            mean = float(play_episodes(envs, greedy_policy(q_network(self.model)), seeds).returns.mean())
            now = time.perf_counter()
            self.evaluating += now - paused
            self.curve.append(round(mean, 1))
            self.train_seconds = now - self.start - self.evaluating
            if mean >= target:
                self.reached_at, self.seconds = self.num_timesteps, self.train_seconds
                return False  # stop, like our stop_return at the target
            return True

    clock = TargetClock()
    model = DQN("MlpPolicy", env_id, seed=seed, device="cpu", **hyperparameters)
    model.learn(budget or zoo_budget, callback=clock)
    return {
        "seed": seed,
        "frames": clock.reached_at,
        "seconds": clock.seconds,
        "train_seconds": clock.train_seconds,  # at the last evaluation: the whole budget when never reached
        "curve": clock.curve,
    }


def ours_trial(seed: int) -> dict:
    from benchmarks.cartpole_harness import train_dqn

    return train_dqn(V1, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--trial", nargs=2, metavar=("AGENT", "SEED"), help=argparse.SUPPRESS)  # internal
    args = parser.parse_args()
    if args.trial:
        agent, seed = args.trial[0], int(args.trial[1])
        print(json.dumps(sb3_trial(seed) if agent == "sb3" else ours_trial(seed)))
        return

    rows: list[str] = []
    ours: list[dict[str, Any]] = []
    sb3: list[dict[str, Any]] = []
    for seed in args.seeds:
        for name, runs in (("ours", ours), ("sb3", sb3)):
            runs.append(run_isolated(MODULE, "--trial", name, str(seed)))
            print(f"  {name} seed {seed}: {runs[-1]}", file=sys.stderr, flush=True)
        o, b = ours[-1], sb3[-1]
        rows.append(
            f"| {seed} | {fmt(o['frames'], 0)} | {fmt(o['seconds'])} | {o['env_steps'] * 2:,} | "
            f"{o['train_seconds']:.1f} | {o['mean_return']:.1f} / {100 * o['at_time_limit']:.1f}% / "
            f"{o['min_return']:.0f} | {fmt(b['frames'], 0)} | {fmt(b['seconds'])} |"
        )
    print(
        "| seed | ours: frames to solve | ours: s to solve | ours: frames at stop | ours: s at stop "
        "| ours: test mean / at cap / worst (1,000 unseen) | SB3 zoo: frames to solve | SB3 zoo: s to solve |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    solve_median, stop_median, sb3_median = (
        median_or_none([r[key] for r in runs])
        for runs, key in ((ours, "seconds"), (ours, "train_seconds"), (sb3, "seconds"))
    )
    full = sum(r["at_time_limit"] >= 0.99 and r["mean_return"] >= 495 for r in ours)
    solved = sum(r["frames"] is not None for r in sb3)
    print(f"\nours: full score (>= 99% at 500, mean >= 495) for {full}/{len(ours)}; SB3 solved {solved}/{len(sb3)}")
    print(
        f"median training seconds: ours to solve {fmt(solve_median)}, ours to stop (full score) {fmt(stop_median)}, "
        f"SB3 to solve {fmt(sb3_median)}"
    )
    if stop_median is not None and sb3_median is not None:
        print(f"ratio ours (to the full score) / SB3 (to solve): {stop_median / sb3_median:.2f} (target <= 0.30)")


if __name__ == "__main__":
    main()
