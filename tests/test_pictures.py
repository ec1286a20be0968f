"""Pictures: test-set confusion matrix and mistakes, TensorBoard extras, and the learning-curves command."""

import numpy as np
import pytest
import torch
from PIL import Image

from cli import main
from lightning_classics.plots.curves import main as curves_main
from lightning_classics.plots.tensorboard_logs import training_log_folders, training_scalars
from tests.helpers import cli_args


def png_size(path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


@pytest.mark.slow
def test_fit_and_test_leave_curves_pictures_and_a_real_hp_metric(tmp_path, mnist_dir):
    runs = tmp_path / "runs"
    data = ["--data.data_dir", str(mnist_dir), "--data.val_size", "50", "--data.batch_size", "25"]
    # log every 2 steps so that the 10 steps per epoch give loss and learning-rate points
    fit = main(
        cli_args("fit", "mnist_ann", runs, *data, "--trainer.max_epochs", "2", "--trainer.log_every_n_steps", "2")
    )
    run = runs / "mnist_ann" / "version_0"
    scalars = training_scalars(training_log_folders(run)[0])
    assert "train/lr" in scalars and len(scalars["train/lr"][1]) >= 5  # LearningRateMonitor, named by the scheduler
    best = fit.trainer.checkpoint_callback.best_model_score.item()
    assert scalars["hp_metric"][1][-1] == pytest.approx(best)  # not the -1 placeholder
    assert max(scalars["val/acc"][1]) == pytest.approx(best)

    main(cli_args("test", "mnist_ann", runs, *data, "--ckpt_path", "best"))
    width, height = png_size(run / "confusion_matrix.png")
    assert width > 300 and height > 300
    width, height = png_size(run / "misclassified.png")  # one column per mistake, up to 8
    assert width > 100 and height > 100
    # the test run's own TensorBoard folder holds the two images
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(run))
    accumulator.Reload()
    assert {"test/confusion_matrix", "test/misclassified"} <= set(accumulator.Tags()["images"])

    out = curves_main([str(run), "--out", str(tmp_path / "curves.png")])
    width, height = png_size(out)
    assert width > 600 and height > 200


def test_confusion_matrix_counts_every_test_image(tmp_path, mnist_dir):
    from lightning_classics.callbacks.evaluation_pictures import TestPictures

    runs = tmp_path / "runs"
    data = ["--data.data_dir", str(mnist_dir), "--data.val_size", "50"]
    main(cli_args("fit", "mnist_ann", runs, *data, "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "1"))
    cli = main(cli_args("test", "mnist_ann", runs, *data, "--ckpt_path", "last", "--data.eval_batch_size", "30"))
    pictures = next(c for c in cli.trainer.callbacks if isinstance(c, TestPictures))
    assert pictures.last_matrix is not None and pictures.last_matrix.sum().item() == 100
    accuracy = pictures.last_matrix.diag().sum().item() / 100
    assert accuracy == pytest.approx(cli.trainer.callback_metrics["test/acc"].item())
    shown = pictures.last_mistakes
    assert len(shown["confidence"]) == min(24, 100 - round(accuracy * 100))
    assert torch.all(shown["confidence"][:-1] >= shown["confidence"][1:])  # most confident first
    assert torch.all(shown["target"] != shown["prediction"])


def test_curves_command_explains_a_folder_without_logs(tmp_path):
    with pytest.raises(SystemExit, match="no TensorBoard logs under"):
        curves_main([str(tmp_path)])


def test_taxi_curves_are_drawn_against_environment_steps(tmp_path):
    from lightning.pytorch.loggers import TensorBoardLogger

    from lightning_classics.plots.curves import agent_figure
    from rl.tabular import TabularQLearning
    from tests.helpers import quiet_trainer

    agent = TabularQLearning(episodes_per_epoch=50, episodes_per_step=10, val_episodes=5, seed=0)
    logger = TensorBoardLogger(tmp_path, name="taxi")
    quiet_trainer(max_epochs=2, logger=logger, log_every_n_steps=1).fit(agent)
    returns_axes = agent_figure(training_scalars(training_log_folders(tmp_path)[0]), "taxi").axes[0]
    assert returns_axes.get_xlabel() == "agent steps"
    training, validation = (line for line in returns_axes.get_lines() if not line.get_label().startswith("_"))
    # one point per training step (10 of them), placed at the environment steps played by then
    assert len(training.get_xdata()) == 10 and training.get_xdata()[-1] == agent.env_steps > 10 * 10
    assert len(validation.get_xdata()) == 2


def test_dqn_episodes_are_drawn_where_they_ended(tmp_path):
    """DQN logs its counters once per epoch: the episodes of the first epoch must not be moved to its end."""
    import lightning as L
    from lightning.pytorch.loggers import TensorBoardLogger

    from lightning_classics.plots.curves import agent_figure
    from rl.dqn import DQN
    from tests.corridor_env import CORRIDOR_AGENT
    from tests.helpers import quiet_trainer

    L.seed_everything(0)
    agent = DQN(**{**CORRIDOR_AGENT, "steps_per_epoch": 40})
    quiet_trainer(max_epochs=2, logger=TensorBoardLogger(tmp_path, name="dqn"), log_every_n_steps=5).fit(agent)
    returns_axes = agent_figure(training_scalars(training_log_folders(tmp_path)[0]), "dqn").axes[0]
    training, validation = (line for line in returns_axes.get_lines() if not line.get_label().startswith("_"))
    ends = training.get_xdata()
    assert (np.diff(ends) > 0).all() and ends[0] <= 8 < validation.get_xdata()[0]  # the first one within 8 steps
