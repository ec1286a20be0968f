"""Does each CartPole DQN preset solve its task for every seed, and what does each technique add?

    .venv/bin/python -m benchmarks.cartpole_dqn                     # all three tables (about 20 minutes on 2 cores)
    .venv/bin/python -m benchmarks.cartpole_dqn --only solve        # presets: v0 and v1, seeds 0-4
    .venv/bin/python -m benchmarks.cartpole_dqn --only solve --envs v0 --seeds 0 1 2
    .venv/bin/python -m benchmarks.cartpole_dqn --only ablation     # v0: plain, then one technique more per row
    .venv/bin/python -m benchmarks.cartpole_dqn --only ablation-v1  # v1 preset without n-step / without skip+stack

Prints markdown tables. "Solved" = the first evaluation (every epoch) whose mean return over 100 greedy
episodes on fixed seeds reaches the environment's reward_threshold (195 on v0, 475 on v1); that run is then
tested on 100 other fixed-seed episodes. Seconds are training time, evaluation excluded, one CPU thread.
"""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks.cartpole_harness import PLAIN, V0, V1, fmt, median_or_none, overrides, run_isolated, train_dqn

MODULE = "benchmarks.cartpole_dqn"
NAMES = {" ".join(V0): "configs/cartpole_dqn.yaml", " ".join(V1): "cartpole_dqn.yaml + overlays/cartpole_v1.yaml"}
NAMES[" ".join(PLAIN)] = "configs/cartpole_dqn_plain.yaml"

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
    ("configs/cartpole_dqn.yaml + configs/overlays/cartpole_v1.yaml", V1, {}),
    ("without 3-step returns", V1, {"n_steps": 1}),
    ("without frame skip / stack", V1, {"frame_skip": 1, "frame_stack": 1}),
]


def run(preset: list[str], changes: dict, seed: int) -> dict:
    spec = {"args": [*preset, *overrides(changes)], "seed": seed}
    result = run_isolated(MODULE, "--trial", json.dumps(spec))
    print(f"  {NAMES[' '.join(preset)]} {changes} seed {seed}: {result}", file=sys.stderr, flush=True)
    return result


def solve_table(seeds: list[int], presets: list[list[str]]) -> None:
    """Each preset per seed: when it first solved, when training stopped, and the delivered (best) checkpoint's
    score on the 1,000 unseen test episodes (seeds 0-999): mean, share at the cap (time limit), worst."""
    print(
        "| preset | seed | first solved (frames) | s to first solve | stopped (frames) | training s "
        "| test mean | at cap | worst |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for preset in presets:
        name = NAMES[" ".join(preset)]
        results = [run(preset, {}, seed) for seed in seeds]
        for r in results:
            print(
                f"| {name} | {r['seed']} | {fmt(r['frames'], 0)} | {fmt(r['seconds'])} "
                f"| {r['env_steps'] * 2:,} | {r['train_seconds']:.1f} | {r['mean_return']:.1f} "
                f"| {100 * r['at_time_limit']:.1f}% | {r['min_return']:.0f} |",
                flush=True,
            )
        train_s = median_or_none([r["train_seconds"] for r in results])
        worst_s = max(r["train_seconds"] for r in results)
        full = sum(r["at_time_limit"] >= 0.99 for r in results)
        every = sum(r["at_time_limit"] == 1.0 for r in results)
        print(
            f"| {name} | median / worst | | | | {fmt(train_s)} / {worst_s:.1f} | | {full}/{len(results)} >= 99%, "
            f"{every}/{len(results)} at 100% | |"
        )


def ablation_table(rows: list[tuple[str, list[str], dict]], seeds: range) -> None:
    print("| configuration | solved | median frames to solve | median training s | frames per seed | last max Q |")
    print("|---|---|---|---|---|---|")
    for name, preset, changes in rows:
        results = [run(preset, changes, seed) for seed in seeds]
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
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="seeds of the solve table")
    parser.add_argument(
        "--envs", nargs="+", choices=("v0", "v1"), default=["v0", "v1"], help="presets of the solve table"
    )
    parser.add_argument("--trial", help=argparse.SUPPRESS)  # internal: one run, in a child process
    args = parser.parse_args()
    if args.trial:
        spec = json.loads(args.trial)
        print(json.dumps(train_dqn(spec["args"], spec["seed"])))
        return
    if args.only in (None, "solve"):
        solve_table(args.seeds, [V0 if env == "v0" else V1 for env in args.envs])
        print()
    if args.only in (None, "ablation"):
        ablation_table(ABLATION, seeds=range(5))
        print()
    if args.only in (None, "ablation-v1"):
        ablation_table(ABLATION_V1, seeds=range(5))


if __name__ == "__main__":
    main()
