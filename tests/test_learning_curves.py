"""`python -m lightning_classics.plots.curves` on real runs in the order the README gives: fit, then test, then the curves.

Each figure is checked by its axes' data: what lies on which axis, over which range.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.axes import Axes

from cli import main
from lightning_classics.plots.curves import agent_figure, classifier_figure
from lightning_classics.plots.curves import main as curves_main
from lightning_classics.plots.tensorboard_logs import run_title, training_log_folders, training_scalars
from tests.helpers import cli_args


def drawn(axes: Axes) -> dict[str, np.ndarray]:
    """x-data of each labelled line (the smoothing's faint raw lines carry matplotlib's `_child` labels)."""
    return {str(line.get_label()): np.asarray(line.get_xdata()) for line in axes.get_lines()}


def y_of(axes: Axes, label: str) -> np.ndarray:
    return np.asarray(next(line for line in axes.get_lines() if line.get_label() == label).get_ydata())


@pytest.mark.slow
def test_classifier_curves_after_fit_then_test_span_the_epochs(tmp_path, mnist_dir):
    runs = tmp_path / "runs"
    data = ["--data.data_dir", str(mnist_dir), "--data.val_size", "50", "--data.batch_size", "25"]
    main(cli_args("fit", "mnist_ann", runs, *data, "--trainer.max_epochs", "3", "--trainer.log_every_n_steps", "2"))
    main(cli_args("test", "mnist_ann", runs, *data, "--ckpt_path", "best"))  # logs epoch 0 at step 0 into the run
    version = runs / "mnist_ann" / "version_0"

    out = curves_main([str(version), "--out", str(tmp_path / "curves.png")])
    assert out.is_file()
    [folder] = training_log_folders(version)
    figure = classifier_figure(training_scalars(folder), run_title(folder))
    assert figure.get_suptitle() == "mnist_ann/version_0"
    loss, accuracy, rate = figure.axes
    # 10 steps per epoch, a loss every 2: from a fifth of the first epoch to the end of the third
    train_loss = drawn(loss)["train (mean of 5)"]
    assert train_loss.min() == pytest.approx(0.2) and train_loss.max() == pytest.approx(3.0)
    assert drawn(loss)["val"].tolist() == pytest.approx([1.0, 2.0, 3.0])
    assert drawn(accuracy)["val"].tolist() == pytest.approx([1.0, 2.0, 3.0])
    assert 0.0 < drawn(rate)["train/lr"].min() < 0.5 and drawn(rate)["train/lr"].max() == pytest.approx(3.0)
    assert loss.get_xlabel() == accuracy.get_xlabel() == rate.get_xlabel() == "epoch"


@pytest.mark.slow
def test_dqn_curves_after_fit_then_test_lie_on_environment_steps(tmp_path):
    runs = tmp_path / "runs"
    small = [
        *("--model.init_args.steps_per_epoch", "150", "--model.init_args.val_episodes", "2"),
        *("--model.init_args.test_episodes", "2", "--model.init_args.lr", "0.001", "--model.init_args.stop_return", "null"),
        *("--trainer.max_epochs", "2", "--trainer.log_every_n_steps", "10"),
    ]  # fmt: skip
    fit = main(cli_args("fit", "cartpole_dqn_plain", runs, *small))
    env_steps = fit.model.env_steps  # one update per environment step: 300 of each, after a 1-step warm-up
    main(cli_args("test", "cartpole_dqn_plain", runs, *small, "--ckpt_path", "best"))
    [folder] = training_log_folders(runs / "cartpole_dqn_plain")
    figure = agent_figure(training_scalars(folder), run_title(folder))
    returns, loss, max_q, schedule, rate = figure.axes  # the learning rate on the epsilon panel's twin axis
    assert [a.get_ylabel() for a in (loss, max_q, schedule, rate)] == [
        "TD loss", "batch mean of max_a Q(s, a)", "epsilon", "learning rate",
    ]  # fmt: skip
    for axes in (returns, loss, max_q, schedule, rate):
        for label, x in drawn(axes).items():
            assert x.min() > 0 and x.max() <= env_steps, (axes.get_ylabel(), label, x)
    assert drawn(returns)["val/mean_return"].tolist() == [151, 301] == [env_steps // 2 + 1, env_steps]
    # the learning rate, every 10 updates, on environment steps: not on the update count, not on epsilon's axis
    lr_steps = drawn(rate)["train/lr"]
    assert lr_steps.min() <= 12 and lr_steps.max() >= env_steps - 10 and len(lr_steps) == 30
    assert set(y_of(rate, "train/lr").round(8)) == {0.001}
    assert set(drawn(schedule)) == {"train/epsilon"}


def test_taxi_curves_after_fit_then_test_have_no_empty_panel(tmp_path):
    runs = tmp_path / "runs"
    small = [
        *("--model.init_args.episodes_per_epoch", "50", "--model.init_args.val_episodes", "5"),
        *("--model.init_args.test_episodes", "5", "--trainer.max_epochs", "2", "--trainer.log_every_n_steps", "1"),
    ]  # fmt: skip
    fit = main(cli_args("fit", "taxi_qlearning", runs, *small))
    main(cli_args("test", "taxi_qlearning", runs, *small, "--ckpt_path", "best"))
    [folder] = training_log_folders(runs / "taxi_qlearning")
    figure = agent_figure(training_scalars(folder), run_title(folder))
    assert figure.get_suptitle() == "taxi_qlearning/version_0"
    returns, schedule = figure.axes  # no TD loss, no max Q, no learning rate: the Q-table has none of them
    assert all(axes.has_data() for axes in figure.axes)
    assert returns.get_xlabel() == schedule.get_xlabel() == "agent steps"
    training = drawn(returns)["train/episode_return"]  # 10 points: too few to smooth
    assert len(training) == 10 and training.max() == fit.model.env_steps
    assert len(drawn(returns)["val/mean_return"]) == 2 and drawn(returns)["val/mean_return"].max() == training.max()
    assert drawn(schedule)["train/epsilon"].max() == fit.model.env_steps
