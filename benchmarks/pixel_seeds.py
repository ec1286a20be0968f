"""The pixel CartPole preset on training seeds it was not tuned on: a table per seed and their curves on one figure.

    .venv/bin/python -m benchmarks.pixel_seeds --seeds 12 13 14 15 16 --jobs 2     # fit + 1,000-episode test each
    .venv/bin/python -m benchmarks.pixel_seeds --seeds 12 13 --report             # only read the run folders again
    .venv/bin/python -m benchmarks.pixel_seeds --seeds 12 --quick                 # a smoke run of a few steps

Each seed is ``cli.py fit --config configs/cartpole_pixels_dqn.yaml --seed_everything S`` in its own process
(``--jobs`` at a time, one torch thread each), then ``cli.py test ... --ckpt_path best`` on the 1,000 test episodes
(seeds 0-999, which training and validation never see). The table and the figure are read back from the run
folders alone: the validation curve and the sustained best from the training logs, the test from the test's
output kept as ``<run folder>/test_best.log`` (its "Test results: {...} from checkpoint ..." line), the fit's
wall-clock from its event file (opened when the fit started, last written when it ended). The machine's load at
the fit's start and end goes to ``<run folder>/benchmark_load.json``.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from lightning_classics.plots.figures import render, save_png
from lightning_classics.plots.tensorboard_logs import (
    EVENT_FILES,
    is_training_log,
    read_event_file,
    training_scalars,
    written_order,
)
from lightning_classics.runs.errors import UserError
from lightning_classics.runs.folders import existing_run

PRESET = "configs/cartpole_pixels_dqn.yaml"
FIGURE = Path("docs/cartpole_pixels_dqn_seeds.png")
CAP, SOLVED = 200.0, 195.0  # CartPole-v0's time limit and reward threshold
QUICK = [
    *("--trainer.max_steps", "3", "--model.init_args.steps_per_epoch", "3"),
    *("--model.init_args.learning_starts", "40", "--model.init_args.val_episodes", "1"),
]
TEST_LINE = re.compile(r"Test results: (\{.*\}) from checkpoint (\S+)")  # cli.py's summary of a test
QUIET = ["--trainer.enable_progress_bar", "false"]


def load() -> float:
    return os.getloadavg()[0]


def run_seed(seed: int, runs_dir: Path, name: str, extra: list[str], test_episodes: int) -> Path:
    """Fit one seed, then test its best checkpoint; returns the run's version folder."""
    run = ["--runs_dir", str(runs_dir), "--run_name", name, "--seed_everything", str(seed), *QUIET, *extra]
    loads = {"fit_start": load()}
    subprocess.run([sys.executable, "cli.py", "fit", "--config", PRESET, *run], check=True)
    loads["fit_end"] = load()
    test = ["--ckpt_path", "best", "--model.init_args.test_episodes", str(test_episodes)]
    done = subprocess.run(
        [sys.executable, "cli.py", "test", "--config", PRESET, *run, *test],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    folder = existing_run(runs_dir, name, None, "test").path
    (folder / "test_best.log").write_text(done.stdout)
    (folder / "benchmark_load.json").write_text(json.dumps(loads))
    return folder


def test_results(log: Path) -> dict[str, float]:
    """The metrics of the last "Test results: {...} from checkpoint .../best.ckpt" line of a test's output."""
    found = [TEST_LINE.match(line) for line in log.read_text().splitlines()] if log.exists() else []
    best = [match[1] for match in found if match and match[2].endswith("best.ckpt")]
    if not best:
        raise SystemExit(f"error: no test of best.ckpt in {log}; run the seed again without --report")
    return ast.literal_eval(best[-1])


def seed_row(seed: int, folder: Path) -> dict:
    """One seed's figures, from its run folder."""
    files = sorted(folder.glob(EVENT_FILES), key=written_order)
    logs = [(path, read_event_file(path)) for path in files]
    trained = [path for path, scalars in logs if is_training_log(scalars)]
    if not trained:
        raise SystemExit(f"error: {folder} holds no training logs; run the seed without --report")
    curve = training_scalars(folder)
    steps, means = curve["val/mean_return"]
    _, sustained = curve["val/sustained_return"]
    test = test_results(folder / "test_best.log")
    fit_seconds = sum(path.stat().st_mtime - written_order(path)[0] for path in trained)
    load_file = folder / "benchmark_load.json"
    return {
        "seed": seed,
        "agent_steps": int(steps[-1]),
        "fit_minutes": fit_seconds / 60,
        "loads": json.loads(load_file.read_text()) if load_file.exists() else None,
        "best_sustained": float(np.max(sustained)),
        "test_mean": test["test/mean_return"],
        "at_cap": test["test/at_time_limit"],
        "worst": test["test/min_return"],
        "episodes": int(test["test/episodes"]),
        "curve": (steps, means),
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| seed | agent steps | fit wall-clock | best validation (lowest of 3 in a row) | test mean, best "
        "| at the 200 cap | worst | test episodes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        mean = f"**{r['test_mean']:.1f}**" if r["test_mean"] >= SOLVED else f"{r['test_mean']:.1f}"
        sustained = f"{r['best_sustained']:.1f}" if np.isfinite(r["best_sustained"]) else "fewer than 3 evaluations"
        lines.append(
            f"| {r['seed']} | {r['agent_steps']:,} | {r['fit_minutes']:.0f} min | {sustained} | {mean} "
            f"| {100 * r['at_cap']:.1f}% | {r['worst']:.0f} | {r['episodes']:,} |"
        )
    solved = sum(r["test_mean"] >= SOLVED for r in rows)
    lines.append(f"\n{solved} of {len(rows)} seeds' best checkpoints test at >= {SOLVED:g}.")
    return "\n".join(lines)


def figure(rows: list[dict], path: Path, title: str) -> Path:
    fig = Figure(figsize=(9, 4.5), dpi=110, layout="constrained")
    axes = fig.subplots()
    for r in rows:
        steps, means = r["curve"]
        axes.plot(steps, means, marker="o", markersize=2.5, linewidth=1.2, label=f"seed {r['seed']}")
    axes.axhline(SOLVED, color="black", linestyle="--", linewidth=0.8, label=f"solved ({SOLVED:g})")
    axes.set_ylim(0, CAP + 5)
    axes.set_xlabel("agent steps (= frames: no frame skip)")
    axes.set_ylabel("validation mean return (50 episodes)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    return save_png(render(fig), path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", required=True, help="training seeds (not 0-2: the tuned ones)")
    parser.add_argument("--jobs", type=int, default=1, help="seeds trained at the same time")
    parser.add_argument("--runs_dir", type=Path, default=Path("runs/pixel_seeds"))
    parser.add_argument("--run_name", default="seed{seed}", help="each seed's run name ({seed} is replaced)")
    parser.add_argument("--report", action="store_true", help="only read the run folders: the table and figure")
    parser.add_argument("--figure", type=Path, default=FIGURE)
    parser.add_argument("--quick", action="store_true", help="a smoke run: a few steps, 2 test episodes")
    args, extra = parser.parse_known_args(argv)  # the rest goes to both cli.py commands, e.g. an override
    if args.jobs < 1:
        parser.error(f"--jobs {args.jobs}: pass at least 1 (the number of seeds trained at the same time)")
    names = {seed: args.run_name.format(seed=seed) for seed in args.seeds}
    if not args.report:
        quick = QUICK if args.quick else []
        with ThreadPoolExecutor(args.jobs) as pool:
            jobs = [
                pool.submit(run_seed, s, args.runs_dir, names[s], [*quick, *extra], 2 if args.quick else 1000)
                for s in args.seeds
            ]
            for job in jobs:
                job.result()
    try:  # the latest version of each seed's run; a missing one is one line (the runs' own message)
        rows = [seed_row(seed, existing_run(args.runs_dir, names[seed], None, "report").path) for seed in args.seeds]
    except UserError as err:
        raise SystemExit(f"error: {err}") from None
    print(table(rows))
    for r in rows:
        if r["loads"]:
            print(
                f"seed {r['seed']}: load {r['loads']['fit_start']:.1f} at the fit's start, "
                f"{r['loads']['fit_end']:.1f} at its end"
            )
    sys.stdout.flush()
    changed = f" {' '.join(extra)}" if extra else ""  # options beside the preset, as the runs had them
    title = f"{PRESET}{changed}: training seeds {', '.join(str(s) for s in args.seeds)}"
    print(f"Saved {figure(rows, args.figure, title)}", file=sys.stderr)


if __name__ == "__main__":
    main()
