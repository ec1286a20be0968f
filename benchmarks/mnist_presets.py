"""Train a shipped MNIST preset end to end and report test accuracy and wall-clock per epoch.

    .venv/bin/python -m benchmarks.mnist_presets mnist_cnn --data-dir ../shared/datasets/mnist
    .venv/bin/python -m benchmarks.mnist_presets mnist_cnn --epochs 1          # the demo's one-epoch run
    .venv/bin/python -m benchmarks.mnist_presets mnist_cnn --dataset fashion_mnist --data-dir /usr/share/datasets/fashion-mnist
    .venv/bin/python -m benchmarks.mnist_presets mnist_cnn --epochs 1 -- --data.augment false

Tests the best-``val/acc`` and the last checkpoint. Prints one markdown table row (and appends it to --results if given).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import lightning as L

from cli import main
from lightning_classics.callbacks import LatestCheckpoint

ROOT = Path(__file__).resolve().parents[1]


class EpochTimer(L.Callback):
    """Wall-clock of each training epoch (validation excluded) and the val accuracy after it."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.val_acc: list[float] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.seconds.append(time.perf_counter() - self._start)

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self.val_acc.append(trainer.callback_metrics["val/acc"].item())


def run(preset: str, data_dir: str, dataset: str | None, epochs: int | None, runs_dir: str, extra: list[str]) -> dict:
    args = [
        "--config", str(ROOT / "configs" / f"{preset}.yaml"),
        "--data.data_dir", data_dir,
        "--runs_dir", runs_dir,
        "--run_name", f"bench_{preset}_{dataset or 'mnist'}_{epochs or 'preset'}",
        "--trainer.enable_progress_bar", "false",
    ]  # fmt: skip
    if dataset:
        args += ["--data.dataset", dataset]
    if epochs:
        args += ["--trainer.max_epochs", str(epochs)]
    cli = main(args + extra, run=False)
    timer = EpochTimer()
    cli.trainer.callbacks.append(timer)  # type: ignore[attr-defined]  # Trainer sets it at run time
    start = time.perf_counter()
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    fit_seconds = time.perf_counter() - start
    # The end of the schedule too: where validation is small, "best" is partly chance between close epochs.
    # (Read before testing "best": restoring that checkpoint restores the callbacks' older state.)
    latest = next(c for c in cli.trainer.checkpoint_callbacks if isinstance(c, LatestCheckpoint))
    last = latest.best_model_path  # it keeps one file, last.ckpt, as its "best"
    (result,) = cli.trainer.test(cli.model, datamodule=cli.datamodule, ckpt_path="best", verbose=False)
    (last_result,) = cli.trainer.test(cli.model, datamodule=cli.datamodule, ckpt_path=last, verbose=False)
    return {
        "preset": preset,
        "dataset": dataset or "mnist",
        "epochs": cli.trainer.current_epoch,
        "test_acc": result["test/acc"],
        "test_acc_last": last_result["test/acc"],
        "best_val_acc": max(timer.val_acc),
        "s_per_epoch": sum(timer.seconds) / len(timer.seconds),
        "fit_s": fit_seconds,
        "val_acc_by_epoch": [round(a, 4) for a in timer.val_acc],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("preset", help="configs/<preset>.yaml, e.g. mnist_cnn")
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets" / "mnist"))
    parser.add_argument("--dataset", choices=["mnist", "fashion_mnist"])
    parser.add_argument("--epochs", type=int, help="override the preset's max_epochs")
    parser.add_argument("--runs-dir", default=str(ROOT / "runs"))
    parser.add_argument("--results", help="markdown file to append the result row to")
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args, extra = parser.parse_args(argv[:split]), argv[split + 1 :]  # after --: more cli.py options
    r = run(args.preset, args.data_dir, args.dataset, args.epochs, args.runs_dir, extra)
    row = (
        f"| {r['preset']} {' '.join(extra)} | {r['dataset']} | {r['epochs']} | {100 * r['test_acc']:.2f}% | "
        f"{100 * r['test_acc_last']:.2f}% | {100 * r['best_val_acc']:.2f}% | {r['s_per_epoch']:.1f} s | {r['fit_s']:.0f} s |"
    )
    print(
        "| preset | dataset | epochs | test acc (best ckpt) | test acc (last ckpt) | best val acc | train s/epoch | fit wall-clock |"
    )
    print(row)
    print("val acc by epoch:", r["val_acc_by_epoch"])
    if args.results:
        with open(args.results, "a") as f:
            f.write(row + f"  <!-- val by epoch {r['val_acc_by_epoch']} -->\n")
