"""Does each CartPole DQN preset solve its task for every seed, and what does each technique add?

    .venv/bin/python benchmarks/cartpole_dqn.py                     # all three tables (about 20 minutes on 2 cores)
    .venv/bin/python benchmarks/cartpole_dqn.py --only solve        # presets: v0 seeds 0-4, v1 seeds 0-2
    .venv/bin/python benchmarks/cartpole_dqn.py --only ablation     # v0: plain, then one technique more per row
    .venv/bin/python benchmarks/cartpole_dqn.py --only ablation-v1  # v1 preset without n-step / without skip+stack

Prints markdown tables. "Solved" = the first evaluation (every epoch) whose mean return over 100 greedy
episodes on fixed seeds reaches the environment's reward_threshold (195 on v0, 475 on v1); that run is then
tested on 100 other fixed-seed episodes. Seconds are training time, evaluation excluded, one CPU thread.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cartpole_harness import fmt, median_or_none, preset_max_epochs, preset_model_args, run_isolated

SCRIPT = Path(__file__).resolve()
V0, V1, PLAIN = "configs/cartpole_dqn.yaml", "configs/cartpole_v1_dqn.yaml", "configs/cartpole_dqn_plain.yaml"

# Each row switches one more technique on; rows 2-6 are configs/cartpole_dqn.yaml with the later ones off.
LATER_OFF = {"frame_skip": 1, "frame_stack": 1, "double_dqn": False, "n_steps": 1}
ABLATION = [
    ("plain DQN (configs/cartpole_dqn_plain.yaml)", PLAIN, {}),
    ("+ experience replay", V0, {**LATER_OFF, "target_network": False}),
    ("+ target network", V0, LATER_OFF),
    ("+ frame skip 2 / stack 2", V0, {"double_dqn": False, "n_steps": 1}),
    ("+ Double DQN", V0, {"n_steps": 1}),
    ("+ 3-step returns (= configs/cartpole_dqn.yaml)", V0, {}),
]
# CartPole-v1, where the extra techniques matter more: the preset, then with one of them switched off.
ABLATION_V1 = [
    ("configs/cartpole_v1_dqn.yaml", V1, {}),
    ("without 3-step returns", V1, {"n_steps": 1}),
    ("without frame skip / stack", V1, {"frame_skip": 1, "frame_stack": 1}),
]


def trial(spec: dict) -> dict:
    """Runs in its own process: train, then test the final network on 100 fresh fixed-seed episodes."""
    from cartpole_harness import train_dqn

    return train_dqn(spec["model_args"], spec["seed"], spec["max_epochs"])


def run(preset: str, overrides: dict, seed: int) -> dict:
    model_args = {**preset_model_args(preset), **overrides}
    spec = {"model_args": model_args, "seed": seed, "max_epochs": preset_max_epochs(preset)}
    result = run_isolated(SCRIPT, "--trial", json.dumps(spec))
    print(f"  {preset} {overrides} seed {seed}: {result}", file=sys.stderr, flush=True)
    return result


def solve_table() -> None:
    print("| preset | env | seed | solved after (agent steps / frames) | training s | test mean ± std (100 ep.) |")
    print("|---|---|---|---|---|---|")
    summary = []
    for preset, env, seeds in ((V0, "CartPole-v0", range(5)), (V1, "CartPole-v1", range(3))):
        results = [run(preset, {}, seed) for seed in seeds]
        for r in results:
            steps = "not solved" if r["solved_at"] is None else f"{r['solved_at']:,} / {r['frames']:,}"
            test = f"{r['test_mean']:.1f} ± {r['test_std']:.1f}"
            print(f"| {preset} | {env} | {r['seed']} | {steps} | {fmt(r['seconds'])} | {test} |", flush=True)
        solved = sum(r["solved_at"] is not None for r in results)
        summary.append(
            f"| {preset} | {solved}/{len(results)} | {fmt(median_or_none([r['frames'] for r in results]), 0)} | "
            f"{fmt(median_or_none([r['seconds'] for r in results]))} |"
        )
    print("\n| preset | solved | median frames to solve | median training s to solve |\n|---|---|---|---|")
    print("\n".join(summary))


def ablation_table(rows: list[tuple[str, str, dict]], seeds: range) -> None:
    print("| configuration | solved | median frames to solve | median training s | frames per seed | last max Q |")
    print("|---|---|---|---|---|---|")
    for name, preset, overrides in rows:
        results = [run(preset, overrides, seed) for seed in seeds]
        solved = sum(r["solved_at"] is not None for r in results)
        per_seed = ", ".join("-" if r["frames"] is None else f"{r['frames']:,}" for r in results)
        max_q = ", ".join(f"{r['max_q']:,.0f}" for r in results)
        print(
            f"| {name} | {solved}/{len(results)} | {fmt(median_or_none([r['frames'] for r in results]), 0)} | "
            f"{fmt(median_or_none([r['seconds'] for r in results]))} | {per_seed} | {max_q} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("solve", "ablation", "ablation-v1"))
    parser.add_argument("--trial", help=argparse.SUPPRESS)  # internal: one run, in a child process
    args = parser.parse_args()
    if args.trial:
        print(json.dumps(trial(json.loads(args.trial))))
        return
    if args.only in (None, "solve"):
        solve_table()
        print()
    if args.only in (None, "ablation"):
        ablation_table(ABLATION, seeds=range(5))
        print()
    if args.only in (None, "ablation-v1"):
        ablation_table(ABLATION_V1, seeds=range(5))


if __name__ == "__main__":
    main()
