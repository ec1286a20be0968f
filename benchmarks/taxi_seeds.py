"""Fit + test the Taxi Q-learning preset under several seeds, in one process, and time each fit.

    python -m benchmarks.taxi_seeds [--seeds 0 1 2] [--runs_dir /tmp/taxi_seeds] [extra cli.py args ...]

Timing in-process leaves out Python/Lightning start-up (about 3 s a command on a small CPU), so the
`fit s` column is the Trainer's own work: 4,000 training episodes, 8 validations and the checkpoints.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from cli import main
from rl.checkpointing import AGENT_STATE_KEY

CONFIG = "configs/taxi_qlearning.yaml"


def run(seed: int, runs_dir: str, extra: list[str]) -> dict[str, float]:
    common = ["--config", CONFIG, "--runs_dir", runs_dir, "--run_name", f"seed{seed}", *extra]
    quiet = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]
    start = time.perf_counter()
    fit = main(["fit", *common, *quiet, "--seed_everything", str(seed)])
    fit_seconds = time.perf_counter() - start
    best_callback = fit.trainer.checkpoint_callback
    assert isinstance(best_callback, ModelCheckpoint)
    best = torch.load(best_callback.best_model_path, weights_only=True)
    test = main(["test", *common, "--trainer.enable_progress_bar", "false", "--ckpt_path", "best"])
    metrics = test.trainer.callback_metrics
    return {
        "seed": seed,
        "fit_s": fit_seconds,
        "best_epoch": best["epoch"],
        "best_episodes": best[AGENT_STATE_KEY]["episodes"],
        "val": float(best_callback.best_model_score or float("nan")),
        "test_mean": metrics["test/mean_return"].item(),
        "test_std": metrics["test/std_return"].item(),
    }


def main_benchmark() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs_dir", default=None, help="default: a temporary folder")
    args, extra = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run(seed, args.runs_dir or tmp, extra) for seed in args.seeds]
    print(
        "| seed | fit s (in-process) | best epoch | episodes at best | val/mean_return | test/mean_return "
        "| test/std_return |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['seed']} | {r['fit_s']:.2f} | {r['best_epoch']} | {r['best_episodes']} | {r['val']:.3f} "
            f"| {r['test_mean']:.3f} | {r['test_std']:.3f} |"
        )


if __name__ == "__main__":
    main_benchmark()
