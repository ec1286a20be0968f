"""The DQN story as one figure: plain DQN, then frame skip and stack, then experience replay, then a target network.

    .venv/bin/python -m benchmarks.dqn_story             # 4 steps x 2 seeds x 20,000 frames -> docs/dqn_story.png
    .venv/bin/python -m benchmarks.dqn_story --quick     # smoke run, under a minute: 1 seed, 1,000 frames each
    .venv/bin/python -m benchmarks.dqn_story --seeds 0 1 2 --frames 40000 --out story.png

Each step is the step before it plus one technique, on CartPole-v0, starting from configs/cartpole_dqn_plain.yaml
(STEPS below: only what each adds). Every run gets the same budget of environment frames (a frame-skipping agent
sees two frames per decision) and a greedy evaluation on the same fixed seeds every ``--eval-every`` frames; no
early stop. The figure: the mean evaluation return over the seeds against frames, one line per step (the band
spans the seeds), and beside it ``train/max_q`` (batch mean of max_a Q(s, a)), whose growth far beyond the
largest true value (about 1 / (1 - gamma) = 100, 200 with frame skip 2) is divergence. The table printed at the
end holds the numbers.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
from matplotlib.figure import Figure

from benchmarks.cartpole_harness import PLAIN, QUIET, overrides
from lightning_classics.plots.figures import render, save_png

SKIP_STACK = {"frame_skip": 2, "frame_stack": 2}
REPLAY = {**SKIP_STACK, "replay": True, "batch_size": 128, "train_freq": 4, "learning_starts": 1000}
# (label, options added to configs/cartpole_dqn_plain.yaml); each step keeps the ones before it
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("plain DQN (configs/cartpole_dqn_plain.yaml)", {}),
    ("+ frame skip 2 / stack 2", SKIP_STACK),
    ("+ experience replay (batch 128 of 50,000, every 4th step)", REPLAY),
    ("+ target network (copied every 100 updates)", {**REPLAY, "target_network": True}),
]


class StoryRecorder(L.Callback):
    """The evaluation returns against frames, the range of ``train/max_q``, and the stop once the budget is spent."""

    def __init__(self, frame_skip: int, frames: int) -> None:
        self.frame_skip, self.frames = frame_skip, frames
        self.curve: list[tuple[int, float]] = []
        self.max_q: list[tuple[int, float]] = []

    def frames_played(self, module: L.LightningModule) -> int:
        agent: Any = module  # a DQN: its environment-step counter is not LightningModule's
        return int(agent.env_steps) * self.frame_skip

    def on_train_batch_end(self, trainer: L.Trainer, module: L.LightningModule, *args: Any) -> None:
        value = trainer.callback_metrics.get("train/max_q")  # updated every 10 updates (train_step sets it)
        if value is not None and (trainer.global_step % 10 == 0):
            self.max_q.append((self.frames_played(module), float(value)))

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        frames = self.frames_played(module)
        self.curve.append((frames, float(trainer.callback_metrics["val/mean_return"])))
        if frames >= self.frames:
            trainer.should_stop = True


def train_step(options: dict[str, Any], seed: int, frames: int, eval_every: int, val_episodes: int) -> dict[str, Any]:
    """One run of one step through the CLI (as ``cli.py fit`` builds it), in this process."""
    from cli import main

    frame_skip = options.get("frame_skip", 1)
    train_freq = options.get("train_freq", 1)
    schedule = {"steps_per_epoch": max(1, eval_every // (frame_skip * train_freq)), "val_episodes": val_episodes}
    with tempfile.TemporaryDirectory() as runs_dir:
        args = [*PLAIN, *overrides({**options, **schedule}), "--model.init_args.stop_return", "null"]
        args += [
            *QUIET,
            "--trainer.max_epochs",
            "-1",
            "--trainer.log_every_n_steps",
            "10",
            "--seed_everything",
            str(seed),
            "--runs_dir",
            runs_dir,
        ]
        with warnings.catch_warnings():
            # args= while this command has its own argv: the intended use here
            warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended to run from within")
            cli = main(args, run=False)
        recorder = StoryRecorder(frame_skip, frames)
        trainer: Any = cli.trainer  # its callback list is set at run time, unknown to the type stubs
        trainer.callbacks.append(recorder)
        start = time.perf_counter()
        trainer.fit(cli.model)
    return {"seed": seed, "curve": recorder.curve, "max_q": recorder.max_q, "seconds": time.perf_counter() - start}


def run_story(
    seeds: list[int], frames: int, eval_every: int, val_episodes: int, learning_starts: int | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every step of STEPS for every seed: ``{label: [run, ...]}``; ``learning_starts`` replaces the replay's."""
    results: dict[str, list[dict[str, Any]]] = {}
    for label, options in STEPS:
        if learning_starts is not None and options.get("replay"):
            options = {**options, "learning_starts": learning_starts}
        results[label] = [train_step(options, seed, frames, eval_every, val_episodes) for seed in seeds]
        print(f"{label}: (frames, eval mean) at the end {[run['curve'][-1] for run in results[label]]}", flush=True)
    return results


def story_figure(results: dict[str, list[dict[str, Any]]], frames: int) -> Figure:
    figure = Figure(figsize=(12, 4.8), dpi=90, layout="constrained")
    figure.suptitle(
        f"DQN on CartPole-v0, step by step: {frames:,} frames per run, {len(next(iter(results.values())))} seed(s)"
    )
    returns, max_q = figure.subplots(1, 2, width_ratios=[3, 2])
    for label, runs in results.items():
        length = min(len(run["curve"]) for run in runs)
        x = np.array([frame for frame, _ in runs[0]["curve"][:length]])
        y = np.array([[value for _, value in run["curve"][:length]] for run in runs])
        line = returns.plot(x, y.mean(axis=0), marker="o", markersize=3, label=label)[0]
        returns.fill_between(x, y.min(axis=0), y.max(axis=0), color=line.get_color(), alpha=0.15)
        for run in runs:
            max_q.plot(*zip(*run["max_q"], strict=True), color=line.get_color(), linewidth=1)
    returns.axhline(195, color="gray", linestyle=":", label="solved (195)")
    returns.set(xlabel="environment frames", ylabel="mean greedy return (fixed seeds)", ylim=(0, 205))
    returns.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    max_q.set_yscale("symlog")
    max_q.set(xlabel="environment frames", ylabel="train/max_q (symlog)", title="Q-value scale")
    for axes in (returns, max_q):
        axes.grid(alpha=0.3)
    return figure


def summary_table(results: dict[str, list[dict[str, Any]]]) -> str:
    rows = [
        "| step | final eval mean (per seed) | best eval | max_q range | training s (per seed) |",
        "|---|---|---|---|---|",
    ]
    for label, runs in results.items():
        finals = [run["curve"][-1][1] for run in runs]
        best = max(value for run in runs for _, value in run["curve"])
        qs = [q for run in runs for _, q in run["max_q"]]
        q_range = f"{min(qs):,.3g} to {max(qs):,.3g}" if qs else "-"
        rows.append(
            f"| {label} | {np.mean(finals):.1f} ({', '.join(f'{f:.1f}' for f in finals)}) | {best:.1f} | {q_range} "
            f"| {', '.join(str(round(run['seconds'])) for run in runs)} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="seeds of every step")
    parser.add_argument("--frames", type=int, default=20_000, help="environment frames per run")
    parser.add_argument("--eval-every", type=int, default=1_000, help="frames between greedy evaluations")
    parser.add_argument("--val-episodes", type=int, default=20, help="greedy episodes per evaluation")
    parser.add_argument("--out", default="docs/dqn_story.png", help="PNG to write")
    parser.add_argument("--quick", action="store_true", help="smoke run: seed 0, 1,000 frames, 5 episodes")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.frames, args.eval_every, args.val_episodes = [0], 1_000, 500, 5
    warmup = 200 if args.quick else None  # the replay's warm-up would take half the smoke run's frames
    results = run_story(args.seeds, args.frames, args.eval_every, args.val_episodes, learning_starts=warmup)
    out = save_png(render(story_figure(results, args.frames)), Path(args.out))
    print(summary_table(results))
    print(f"Saved {out}")
    return out


if __name__ == "__main__":
    main()
