"""Plot a run's learning curves from its TensorBoard logs into one PNG.

python -m lightning_classics.plots.curves runs/mnist_cnn                       # -> runs/mnist_cnn/curves.png
python -m lightning_classics.plots.curves runs/mnist_cnn/version_1             # one version of the run
python -m lightning_classics.plots.curves runs/cartpole_dqn --out dqn.png      # agents: returns against agent steps

Classifiers: loss and accuracy per epoch (train and val) with the learning rate. Agents (runs that
log ``train/env_steps``): episode returns and ``val/mean_return`` against agent steps, the
TD loss and max Q (DQN), and epsilon with the learning rate. The run's newest ``version_N`` folder with
training logs is used; what ``validate`` and ``test`` logged into it is left out (lightning_classics/plots/tensorboard_logs.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lightning_classics.plots.figures import render, save_png
from lightning_classics.plots.tensorboard_logs import (
    NoLogsError,
    Series,
    run_title,
    training_log_folders,
    training_scalars,
)

NO_DATA: Series = (np.array([]), np.array([]))


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
            return NO_DATA
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
    """Returns, then the TD loss and max Q where logged (DQN; tabular Q-learning has neither), then epsilon with
    the learning rate on its own axis, all against agent steps (training steps if not logged)."""
    env_steps = scalars.get("train/env_steps")  # (logged step, env steps), once per epoch
    # The agents log against agent steps; logs from before they did use optimizer steps, mapped here.
    mapping = None if env_steps is None or np.array_equal(*env_steps) else env_steps

    def by_env_steps(tag: str) -> Series:
        if tag not in scalars:
            return NO_DATA
        x, y = scalars[tag]
        return (x if mapping is None else np.interp(x, *mapping)), y

    panels = [
        "return",
        *[name for tag, name in (("train/loss", "TD loss"), ("train/max_q", "max Q")) if tag in scalars],
    ]
    figure = Figure(figsize=(3.7 * (len(panels) + 1), 3.4), dpi=90, layout="constrained")
    figure.suptitle(title)
    axes_by_name = dict(zip([*panels, "epsilon"], figure.subplots(1, len(panels) + 1), strict=True))
    returns = axes_by_name["return"]
    # Taxi logs its returns per step and per epoch: the per-step curve is the training curve
    episode_return = next((t for t in ("train/episode_return", "train/episode_return_step") if t in scalars), "")
    plot_lines(returns, {"train/episode_return": by_env_steps(episode_return)}, "return", smooth_window=20)
    plot_lines(returns, {"val/mean_return": by_env_steps("val/mean_return")}, "return")
    if "TD loss" in axes_by_name:
        plot_lines(axes_by_name["TD loss"], {"train/loss": by_env_steps("train/loss")}, "TD loss", smooth_window=20)
    if "max Q" in axes_by_name:
        max_q = axes_by_name["max Q"]
        plot_lines(max_q, {"train/max_q": by_env_steps("train/max_q")}, "batch mean of max_a Q(s, a)")
        if np.abs(scalars["train/max_q"][1]).max() > 1e4:  # diverging values: orders of magnitude stay readable
            max_q.set_yscale("symlog")
    schedule = axes_by_name["epsilon"]
    plot_lines(schedule, {"train/epsilon": by_env_steps("train/epsilon")}, "epsilon")
    rates = {tag: by_env_steps(tag) for tag in learning_rates(scalars)}
    if rates:  # its own y-axis: a learning rate of 1e-3 would lie flat at 0 on epsilon's 0..1
        rate = schedule.twinx()
        for label, (x, y) in rates.items():
            rate.plot(x, y, color="tab:red", linestyle="--", label=label)
        rate.set_ylabel("learning rate")
        rate.legend(fontsize=8, loc="center right")
    for axes in axes_by_name.values():
        axes.set_xlabel("agent steps" if env_steps is not None else "training steps")
    return figure


def plot_run(run: Path, out: Path | None = None) -> Path:
    """Plot the newest training log under ``run`` (``test``/``predict`` runs log no curves and are passed over)."""
    for folder in training_log_folders(run):
        scalars = training_scalars(folder)
        if "train/env_steps" in scalars or "val/mean_return" in scalars:
            figure = agent_figure(scalars, run_title(folder))
        elif "epoch" in scalars:
            figure = classifier_figure(scalars, run_title(folder))
        else:
            continue
        return save_png(render(figure), out or run / "curves.png")
    raise NoLogsError(f"no training curves under {run}: its logs come from validate/test/predict only")


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "run", help="run folder (e.g. runs/mnist_cnn) or one of its version folders (runs/mnist_cnn/version_0)"
    )
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
