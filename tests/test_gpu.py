"""On a CUDA GPU: the classifier with each speed switch, the device-resident data, the agents, device choice.

Skipped where no CUDA device is visible (the CPU runs the same code paths in the other test files).
"""

import lightning as L
import pytest
import torch

from cli import main
from datamodules.device_data import DeviceBatchLoader
from tests.helpers import cli_args

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

CUDA = ["--trainer.accelerator", "cuda", "--trainer.devices", "1"]


def cnn_args(subcommand, mnist_dir, runs_dir, *extra):
    data = ["--data.data_dir", str(mnist_dir), "--data.val_size", "50", "--data.batch_size", "50"]
    return cli_args(subcommand, "mnist_cnn", runs_dir, *data, "--data.augment", "false", *extra)


SWITCHES = {
    "as shipped": [],
    "bf16-mixed": ["--trainer.precision", "bf16-mixed"],
    "16-mixed": ["--trainer.precision", "16-mixed"],
    "compile": ["--model.init_args.compile", "true"],
    "NCHW": ["--model.init_args.channels_last", "false"],  # NHWC is the CNN's default
    "lr scaling": ["--model.init_args.lr_scaling", "sqrt"],
    "data on the host": ["--data.on_device", "false"],
}


class DeviceSpy(L.Callback):
    """Where the parameters are during training (Lightning moves the module back to the CPU after fit)."""

    def __init__(self) -> None:
        self.devices: set[str] = set()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        self.devices.add(next(pl_module.parameters()).device.type)


def fit_with_spy(args: list[str]):
    """``fit`` with a DeviceSpy; with no subcommand the checkpoints go to <runs_dir>/<run_name>/checkpoints."""
    cli = main(args, run=False)
    spy = DeviceSpy()
    cli.trainer.callbacks.append(spy)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    return cli, spy.devices


@pytest.mark.parametrize("switch", list(SWITCHES))
def test_cnn_fits_and_tests_on_the_gpu(tmp_path, mnist_dir, switch):
    extra = [*CUDA, "--trainer.max_epochs", "4", *SWITCHES[switch]]
    cli, devices = fit_with_spy(cnn_args("fit", mnist_dir, tmp_path, *extra)[1:])
    assert devices == {"cuda"}
    assert cli.trainer.callback_metrics["val/acc"] >= 0.5
    best = tmp_path / "mnist_cnn" / "checkpoints" / "best.ckpt"
    tested = main(cnn_args("test", mnist_dir, tmp_path, *extra, "--ckpt_path", str(best)))
    assert tested.trainer.callback_metrics["test/acc"] >= 0.5


def test_training_data_lives_on_the_gpu_by_default(tmp_path, mnist_dir):
    cli = main(cnn_args("fit", mnist_dir, tmp_path, *CUDA, "--trainer.max_epochs", "1"))
    loader = cli.trainer.train_dataloader
    assert isinstance(loader, DeviceBatchLoader)
    assert all(t.device.type == "cuda" for t in loader.tensors)
    assert loader.tensors[0].dtype == torch.uint8  # converted to float one batch at a time


def test_devices_auto_picks_the_gpu(tmp_path, mnist_dir):
    cli = main(cnn_args("fit", mnist_dir, tmp_path, "--trainer.max_epochs", "1"))  # accelerator/devices: auto
    assert cli.trainer.strategy.root_device.type == "cuda"


def test_dqn_acts_and_evaluates_on_the_gpu(tmp_path):
    extra = [*CUDA, "--trainer.max_epochs", "1", "--model.init_args.steps_per_epoch", "20"]
    extra += ["--model.init_args.learning_starts", "50", "--model.init_args.val_episodes", "2"]
    cli, devices = fit_with_spy(cli_args("fit", "cartpole_dqn", tmp_path, *extra)[1:])
    assert devices == {"cuda"}
    assert "val/mean_return" in cli.trainer.callback_metrics
    cli.model.cuda()  # fit's teardown moved it back to the CPU; acting must work on the device too
    assert cli.model.act(cli.model.make_env().reset(seed=0)[0]) in (0, 1)


def test_taxi_refuses_the_gpu_clearly(tmp_path):
    with pytest.raises(
        SystemExit, match=r"tabular Q-learning runs on the CPU, not cuda:0: set `--trainer.accelerator cpu`"
    ):
        main(cli_args("fit", "taxi_qlearning", tmp_path, *CUDA, "--trainer.max_epochs", "1"))


def test_taxi_preset_trains_on_the_cpu_of_a_gpu_machine(tmp_path):
    cli = main(cli_args("fit", "taxi_qlearning", tmp_path, "--trainer.max_epochs", "1"))
    assert "val/mean_return" in cli.trainer.callback_metrics
