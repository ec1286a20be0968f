"""One DQN for the classic-control table: trains each task's preset per seed, tests its best and last
checkpoints on the 1,000 test episodes, optionally runs SB3 with RL Zoo's hyperparameters beside it, and prints
the results table (markdown).

    .venv/bin/python -m benchmarks.classic_control                         # 3 tasks x seeds 0 1 2
    .venv/bin/python -m benchmarks.classic_control --tasks acrobot --seeds 0 --sb3
    .venv/bin/python -m benchmarks.classic_control --quick                 # smoke run: a few hundred steps a task

LunarLander needs Box2D: ``pip install -e ".[box2d]"``; ``--sb3`` needs the ``bench`` extra.
Each trial runs in a fresh Python process (one torch thread); ours and SB3 alternate seed by seed so that they
share the machine's load. Times are training seconds (evaluation and checkpoint writing excluded) to the first
validation (100 fixed episodes) whose mean return reaches the task's target; frames are the environment's own
steps (RL Zoo's timesteps: an agent step with frame skip k is k frames).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.cartpole_harness import run_isolated
from benchmarks.classic_figure import figure
from benchmarks.classic_tasks import SB3_EVAL_EVERY, TASKS, Task, test_checkpoints, train_ours

MODULE = "benchmarks.classic_control"
QUICK = [
    "--trainer.max_epochs", "1",
    "--model.init_args.steps_per_epoch", "50",
    "--model.init_args.learning_starts", "100",
    "--model.init_args.val_episodes", "3",
]  # fmt: skip
QUICK_TEST_EPISODES, QUICK_SB3_FRAMES = 5, 400


def trial(agent: str, task: Task, seed: int, quick: bool, runs_dir: str | None) -> dict[str, Any]:
    """One seed of one agent, in this process."""
    if agent == "ours":
        return train_ours(task, seed, runs_dir, QUICK if quick else [], QUICK_TEST_EPISODES if quick else 1000)
    from benchmarks.sb3_vs_ours import sb3_trial

    if quick:
        return sb3_trial(seed, task.env_id, task.target, eval_every=QUICK_SB3_FRAMES // 2, budget=QUICK_SB3_FRAMES)
    return sb3_trial(seed, task.env_id, task.target, eval_every=SB3_EVAL_EVERY)


def seconds_cell(runs: list[dict[str, Any]], key: str) -> str:
    """Median and worst training seconds to the target over the seeds; a seed that never reached it is named."""
    runs = [run for run in runs if run.get("timed", True)]  # runs trained outside this module have no clock
    if not runs:
        return "not timed"
    reached = [run[key] for run in runs if run[key] is not None]
    missed = len(runs) - len(reached)
    if not reached:
        longest = max(run["train_seconds"] for run in runs)
        return f"not reached ({longest:.0f} s of training)"
    text = f"{statistics.median(reached):.0f} s (worst {max(reached):.0f})"
    return text + (f", {missed}/{len(runs)} not reached" if missed else "")


def ours_cell(task: Task, runs: list[dict[str, Any]]) -> str:
    def scores(which: str) -> str:
        parts = []
        for run in runs:
            result = run[which]
            share = "" if result["share_above"] is None else f" ({100 * result['share_above']:.1f}% >= 200)"
            parts.append(f"{result['mean']:.1f}{share}")
        return ", ".join(parts)

    met = sum(run["best"]["meets"] and run["last"]["meets"] for run in runs)
    return f"best {scores('best')}; last {scores('last')}; {met}/{len(runs)} seeds met both"


def table(results: dict[str, dict[str, list[dict[str, Any]]]]) -> str:
    lines = [
        "| task | target (test mean, 1,000 episodes) | ours (per seed: best; last) | RL Zoo DQN | CleanRL dqn.py "
        "| SB3 time to target | ours time to target |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        task = TASKS[name]
        sb3 = seconds_cell(runs["sb3"], "seconds") if runs["sb3"] else "not run"
        lines.append(
            f"| {task.env_id} | {task.target_text()} | {ours_cell(task, runs['ours'])} | {task.rl_zoo} | "
            f"{task.cleanrl} | {sb3} | {seconds_cell(runs['ours'], 'target_seconds')} |"
        )
    lines += [
        "",
        "| task | seed | frames at stop | training s | frames to target | best: mean / min | last: mean / min |",
    ]
    lines.append("|---|---|---|---|---|---|---|")
    for name, runs in results.items():
        for run in runs["ours"]:
            reached = "not reached" if run["target_frames"] is None else f"{run['target_frames']:,}"
            seconds = f"{run['train_seconds']:.0f}" if run.get("timed", True) else "not timed"
            lines.append(
                f"| {name} | {run['seed']} | {run['frames']:,} | {seconds} | {reached} | "
                f"{run['best']['mean']:.1f} / {run['best']['min']:.0f} | {run['last']['mean']:.1f} / "
                f"{run['last']['min']:.0f} |"
            )
    return "\n".join(lines)


def header(argv: list[str]) -> str:
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()} ({os.cpu_count()} cores), "
        f"load average {' '.join(load)} at the end; command: python -m {MODULE} {' '.join(argv)}"
    )


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sb3", action="store_true", help="also train SB3's DQN with RL Zoo's hyperparameters")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few hundred steps per task")
    parser.add_argument("--runs_dir", help="keep each run folder (curves, checkpoints) here")
    parser.add_argument("--json", help="also write every trial's numbers (and curves) to this file")
    parser.add_argument(
        "--evaluate", nargs=2, metavar=("TASK", "CHECKPOINTS"), help="only test an existing run's best and last"
    )
    parser.add_argument("--table", nargs="+", metavar="JSON", help="only print the table of earlier --json files")
    parser.add_argument("--figure", type=Path, help="with --table: also draw their validation curves to this PNG")
    parser.add_argument("--title", help="the figure's title (default: the command that drew it)")
    parser.add_argument("--ymin", type=float, help="the figure's lowest return (default: 250 below the target)")
    parser.add_argument("--trial", nargs=3, metavar=("AGENT", "TASK", "SEED"), help=argparse.SUPPRESS)  # internal
    args = parser.parse_args(argv)
    if args.evaluate:
        print(json.dumps(test_checkpoints(TASKS[args.evaluate[0]], Path(args.evaluate[1]))))
        return
    if args.table:
        merged: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for path in args.table:
            try:
                saved = json.loads(Path(path).read_text())
            except (OSError, ValueError) as err:
                parser.error(f"--table {path}: {err.strerror if isinstance(err, OSError) else err}; pass a --json file")
            for name, runs in saved.items():
                for agent in ("ours", "sb3"):
                    merged.setdefault(name, {"ours": [], "sb3": []})[agent] += runs[agent]
        print(table(merged))
        if args.figure:
            title = args.title or f"python -m {MODULE} --table {' '.join(Path(path).name for path in args.table)}"
            print(f"Saved {figure(merged, args.figure, title, args.ymin)}", file=sys.stderr)
        return
    if args.figure:
        parser.error("--figure draws the runs of --table: pass the --json files there")
    if args.trial:
        agent, name, seed = args.trial
        print(json.dumps(trial(agent, TASKS[name], int(seed), args.quick, args.runs_dir)))
        return

    options = (["--quick"] if args.quick else []) + (["--runs_dir", args.runs_dir] if args.runs_dir else [])
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name in args.tasks:
        results[name] = {"ours": [], "sb3": []}
        for seed in args.seeds:
            for agent in ("ours", "sb3") if args.sb3 else ("ours",):
                run = run_isolated(MODULE, "--trial", agent, name, str(seed), *options)
                results[name][agent].append(run)
                print(f"  {agent} {name} seed {seed}: {json.dumps(run)}", file=sys.stderr, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print(table(results))
    print(f"\n{header(argv)}")


if __name__ == "__main__":
    main()
