"""Plot a run's learning curves from its TensorBoard logs into one PNG.

python -m lightning_classics.plots.curves runs/mnist_cnn                       # -> runs/mnist_cnn/curves.png
python -m lightning_classics.plots.curves runs/cartpole_dqn --out dqn.png      # agents: returns against environment steps

Classifiers: loss and accuracy per epoch (train and val) with the learning rate. Agents (runs that
log ``train/env_steps``): episode returns and ``val/mean_return`` against environment steps, the
TD loss, and epsilon with the learning rate. The newest ``version_N`` folder with training logs is used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lightning_classics.plots.figures import render, save_png

Series = tuple[np.ndarray, np.ndarray]  # (steps, values)


class NoLogsError(FileNotFoundError):
    """The folder holds no TensorBoard event files."""


def log_folders(path: Path) -> list[Path]:
    """Folders under ``path`` (itself included) that hold event files, newest first."""
    events = sorted(path.rglob("events.out.tfevents.*"), key=lambda p: p.stat().st_mtime, reverse=True)
    folders = list(dict.fromkeys(event.parent for event in events))
    if not folders:
        raise NoLogsError(f"no TensorBoard logs under {path}: pass a run folder such as runs/mnist_cnn")
    return folders


def read_scalars(folder: Path) -> dict[str, Series]:
    """Every scalar tag in the folder's event files, as (steps, values) arrays."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0})  # 0: keep every point
    accumulator.Reload()
    scalars = {}
    for tag in accumulator.Tags()["scalars"]:
        events = accumulator.Scalars(tag)
        scalars[tag] = (np.array([e.step for e in events]), np.array([e.value for e in events]))
    return scalars


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average (noisy per-step losses and per-episode returns)."""
    if len(values) < 3 or window <= 1:
        return values
    window = min(window, len(values))
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    head = cumulative[1:window] / np.arange(1, window)
    return np.concatenate([head, (cumulative[window:] - cumulative[:-window]) / window])


def plot_lines(axes: Axes, lines: dict[str, Series], ylabel: str, smooth_window: int = 1) -> None:
    for label, (x, y) in lines.items():
        if len(x) == 0:
            continue
        if smooth_window > 1 and len(y) > smooth_window:
            axes.plot(x, y, alpha=0.25, linewidth=0.8)
            axes.plot(
                x,
                smooth(y, smooth_window),
                label=f"{label} (mean of {smooth_window})",
                color=axes.lines[-1].get_color(),
            )
        else:
            axes.plot(x, y, marker="o" if len(x) < 30 else None, markersize=3, label=label)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    if axes.lines:
        axes.legend(fontsize=8)


def learning_rates(scalars: dict[str, Series]) -> dict[str, Series]:
    return {tag: series for tag, series in scalars.items() if tag.startswith(("lr-", "train/lr"))}


def classifier_figure(scalars: dict[str, Series], title: str) -> Figure:
    """Loss and accuracy against epochs (step-level curves at fractional epochs), and the learning rate."""
    steps, epochs = scalars["epoch"]
    # Epoch-level values are logged at an epoch's last step: (step, epoch) pairs map steps to epochs.
    ends = {int(e): s for s, e in zip(steps, epochs, strict=True)}
    knots = np.array([0, *[ends[e] + 1 for e in sorted(ends)]]), np.array([0.0, *[e + 1.0 for e in sorted(ends)]])

    def per_epoch(tag: str) -> Series:
        if tag not in scalars:
            return np.array([]), np.array([])
        x, y = scalars[tag]
        return np.interp(x + 1, *knots), y  # a value logged after step s covers s + 1 steps

    figure = Figure(figsize=(11, 3.4), dpi=90, layout="constrained")
    figure.suptitle(title)
    loss, accuracy, rate = figure.subplots(1, 3)
    plot_lines(loss, {"train": per_epoch("train/loss"), "val": per_epoch("val/loss")}, "loss", smooth_window=5)
    plot_lines(accuracy, {"train": per_epoch("train/acc"), "val": per_epoch("val/acc")}, "accuracy")
    plot_lines(rate, {tag: per_epoch(tag) for tag in learning_rates(scalars)}, "learning rate")
    for axes in (loss, accuracy, rate):
        axes.set_xlabel("epoch")
    return figure


def agent_figure(scalars: dict[str, Series], title: str) -> Figure:
    """Returns, loss and epsilon / learning rate against environment steps (training steps if not logged)."""
    env_steps = scalars.get("train/env_steps")  # (logged step, env steps), once per epoch
    # The agents log against environment steps; logs from before they did use optimizer steps, mapped here.
    mapping = None if env_steps is None or np.array_equal(*env_steps) else env_steps

    def by_env_steps(tag: str) -> Series:
        if tag not in scalars:
            return np.array([]), np.array([])
        x, y = scalars[tag]
        return (x if mapping is None else np.interp(x, *mapping)), y

    figure = Figure(figsize=(11, 3.4), dpi=90, layout="constrained")
    figure.suptitle(title)
    returns, loss, schedule = figure.subplots(1, 3)
    # Taxi logs its returns per step and per epoch: the per-step curve is the training curve
    episode_return = next((t for t in ("train/episode_return", "train/episode_return_step") if t in scalars), "")
    plot_lines(returns, {"train/episode_return": by_env_steps(episode_return)}, "return", smooth_window=20)
    plot_lines(returns, {"val/mean_return": by_env_steps("val/mean_return")}, "return")
    plot_lines(loss, {"train/loss": by_env_steps("train/loss")}, "TD loss", smooth_window=20)
    rates = {tag: by_env_steps(tag) for tag in learning_rates(scalars)}
    plot_lines(schedule, {"train/epsilon": by_env_steps("train/epsilon"), **rates}, "epsilon / learning rate")
    for axes in (returns, loss, schedule):
        axes.set_xlabel("environment steps" if env_steps is not None else "training steps")
    return figure


def plot_run(run: Path, out: Path | None = None) -> Path:
    """Plot the newest training log under ``run`` (``test``/``predict`` runs log no curves and are passed over)."""
    for folder in log_folders(run):
        scalars = read_scalars(folder)
        title = f"{run.name}: {folder.relative_to(run) if folder != run else folder.name}"
        if "train/env_steps" in scalars or "val/mean_return" in scalars:
            figure = agent_figure(scalars, title)
        elif "epoch" in scalars and any(tag.startswith(("train/", "val/")) for tag in scalars):
            figure = classifier_figure(scalars, title)
        else:
            continue
        return save_png(render(figure), out or run / "curves.png")
    raise NoLogsError(f"no training curves under {run}: its logs come from test/predict only")


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="run folder (e.g. runs/mnist_cnn) or one of its lightning_logs/version_N folders")
    parser.add_argument("--out", default=None, help="PNG to write (default: <run>/curves.png)")
    args = parser.parse_args(argv)
    try:
        path = plot_run(Path(args.run), Path(args.out) if args.out else None)
    except NoLogsError as err:
        sys.exit(f"error: {err}")
    print(f"Saved {path}")
    return path


if __name__ == "__main__":
    main()
