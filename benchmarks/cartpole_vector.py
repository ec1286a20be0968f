"""Vectorized environments for DQN on CartPole-v1: acting throughput and time to solve for N copies.

    .venv/bin/python -m benchmarks.cartpole_vector                       # N = 1, 4, 16, 64; seeds 0-4
    .venv/bin/python -m benchmarks.cartpole_vector --num_envs 1 16 --seeds 0 1 --skip_acting
    .venv/bin/python -m benchmarks.cartpole_vector --skip_acting --stop_return 500  # to the full score

Acting: ``rl.dqn.env_loop.EnvLoop`` alone (no updates) with the preset's wrappers and a 64x64 Q-network at
epsilon 0.1, for 20,000 environment (agent) steps per N: agent steps per second, one torch thread.
Training: the preset (``cartpole_dqn.yaml`` + ``overlays/cartpole_v1.yaml``) with ``--model.init_args.num_envs N``
through the CLI in a fresh process per run (``benchmarks.cartpole_harness``): agent steps per training second
and training seconds to the first evaluation averaging >= 475 (``stop_return`` 475 here; evaluation and
checkpoints excluded). ``--stop_return 500`` trains to the preset's own stop instead (the full score), and
"solved" in the table is then still the first evaluation averaging >= 475.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from benchmarks.cartpole_harness import V1, fmt, median_or_none, overrides, run_isolated

MODULE = "benchmarks.cartpole_vector"


def acting_steps_per_second(num_envs: int, steps: int = 20_000) -> float:
    import torch

    from rl.dqn.env_loop import EnvLoop
    from rl.dqn.network import QNetwork
    from rl.dqn.replay import ReplayBuffer
    from rl.wrappers import build_env

    torch.set_num_threads(1)
    buffer = ReplayBuffer(50_000, 8)
    loop = EnvLoop(lambda: build_env("CartPole-v1", 2, 2), num_envs, buffer, n_steps=3, gamma=0.99)
    q_network = QNetwork(8, 2, (64, 64))
    loop.reset(seed=0)
    start = time.perf_counter()
    while loop.env_steps < steps:
        loop.step(q_network, epsilon=0.1)
    return loop.env_steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num_envs", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--skip_acting", action="store_true")
    parser.add_argument("--stop_return", type=float, default=475, help="when training stops (500: full score)")
    parser.add_argument("--trial", help=argparse.SUPPRESS)  # internal: one run, in a child process
    args = parser.parse_args()
    if args.trial:
        from benchmarks.cartpole_harness import train_dqn

        spec = json.loads(args.trial)
        # by default time to solve: stop at the solving threshold, not at the preset's full score
        options = {"num_envs": spec["num_envs"], "stop_return": spec["stop_return"]}
        print(json.dumps(train_dqn([*V1, *overrides(options)], spec["seed"])))
        return

    acting = {n: None if args.skip_acting else acting_steps_per_second(n) for n in args.num_envs}
    runs: dict[int, list[dict]] = {n: [] for n in args.num_envs}
    for seed in args.seeds:  # seeds outside, N inside: every N sees the machine's load alike
        for n in args.num_envs:
            result = run_isolated(
                MODULE, "--trial", json.dumps({"num_envs": n, "seed": seed, "stop_return": args.stop_return})
            )
            print(f"  N={n} seed {seed}: {result}", file=sys.stderr, flush=True)
            runs[n].append(result)
    print(
        "| num_envs | acting: agent steps/s | training: agent steps/s | solved | median frames to solve "
        "| frames per seed | median s to solve | s per seed | frames at stop per seed | median training s to stop |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, results in runs.items():
        rate = median_or_none([r["env_steps"] / r["train_seconds"] for r in results])
        solved = sum(r["solved_at"] is not None for r in results)
        frames = ", ".join(fmt(r["frames"], 0) for r in results)
        per_seed = ", ".join(fmt(r["seconds"]) for r in results)
        stopped = ", ".join(f"{r['env_steps'] * 2:,}" for r in results)  # agent steps of 2 frames
        act = "-" if acting[n] is None else f"{acting[n]:,.0f}"
        print(
            f"| {n} | {act} | {fmt(rate, 0)} | {solved}/{len(results)} | "
            f"{fmt(median_or_none([r['frames'] for r in results]), 0)} | {frames} | "
            f"{fmt(median_or_none([r['seconds'] for r in results]))} | {per_seed} | "
            f"{stopped} | "
            f"{fmt(median_or_none([r['train_seconds'] for r in results]))} |"
        )


if __name__ == "__main__":
    main()
