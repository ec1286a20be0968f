"""DQN on CartPole-v0 with 1 vs 2 processes (DDP on the CPU, gloo): time to solve.

    .venv/bin/python -m benchmarks.cartpole_ddp                 # seeds 0-2, 1 and 2 processes alternating
    .venv/bin/python -m benchmarks.cartpole_ddp --seeds 0 --devices 2

Each run is ``configs/cartpole_dqn.yaml`` with ``stop_return`` 195 (solved) through the CLI
(``benchmarks.cartpole_harness``), with ``--trainer.devices N --trainer.strategy ddp`` for N > 1. With 2
processes each acts in its own environments, so per update twice the environment steps arrive and the
gradient averages two batches. Frames and seconds to solve count both processes' frames and the wall-clock of
training (evaluation and checkpoints excluded, clock of process 0).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from benchmarks.cartpole_harness import V0, fmt, median_or_none, overrides, run_isolated

MODULE = "benchmarks.cartpole_ddp"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--trial", help=argparse.SUPPRESS)  # internal: one run, in a child process
    args = parser.parse_args()
    if args.trial:
        from benchmarks.cartpole_harness import train_dqn

        spec = json.loads(args.trial)
        ddp = ["--trainer.devices", str(spec["devices"])]
        if spec["devices"] > 1:
            ddp += ["--trainer.strategy", "ddp"]
        result = train_dqn([*V0, *overrides({"stop_return": 195}), *ddp], spec["seed"])
        if int(os.environ.get("LOCAL_RANK", "0")) == 0:  # Lightning starts process 1 with this command too
            print(json.dumps(result))
        return

    runs: dict[int, list[dict]] = {n: [] for n in args.devices}
    for seed in args.seeds:
        for n in args.devices:
            result = run_isolated(MODULE, "--trial", json.dumps({"devices": n, "seed": seed}))
            print(f"  devices={n} seed {seed}: {result}", file=sys.stderr, flush=True)
            runs[n].append(result)
    print(
        "| processes | solved | median frames to solve | median training s to solve | s per seed | test mean (1,000) |"
    )
    print("|---|---|---|---|---|---|")
    for n, results in runs.items():
        solved = sum(r["solved_at"] is not None for r in results)
        frames = median_or_none([r["frames"] for r in results])
        per_seed = ", ".join(fmt(r["seconds"]) for r in results)
        tests = ", ".join(f"{r['mean_return']:.1f}" for r in results)
        print(
            f"| {n} | {solved}/{len(results)} | {fmt(frames, 0)} | "
            f"{fmt(median_or_none([r['seconds'] for r in results]))} | {per_seed} | {tests} |"
        )


if __name__ == "__main__":
    main()
