"""Two-process DDP on the CPU (gloo), launched the way a user does: as a subprocess of cli.py."""

import re
import subprocess
import sys

import pytest

from cli import main
from tests.helpers import QUIET, ROOT, preset
from tests.mnist_fixtures import write_mnist_files


@pytest.mark.slow
def test_two_process_ddp_fits_and_tests_each_image_once(tmp_path):
    data = write_mnist_files(tmp_path / "mnist", train=400, test=101)  # 101: shards of 51 and 50
    common = [
        "--config", preset("mnist_cnn"),
        "--data.data_dir", str(data), "--data.val_size", "51", "--data.batch_size", "50",
        "--runs_dir", str(tmp_path / "runs"),
        *QUIET,
    ]  # fmt: skip
    ddp = ["--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp"]

    fit = subprocess.run(
        [sys.executable, "cli.py", "fit", *common, *ddp, "--trainer.max_epochs", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert fit.returncode == 0, fit.stderr[-3000:]
    assert (tmp_path / "runs/mnist_cnn/version_0/checkpoints/best.ckpt").is_file()

    test = subprocess.run(
        [sys.executable, "cli.py", "test", *common, *ddp, "--ckpt_path", "best"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert test.returncode == 0, test.stderr[-3000:]
    ddp_acc = float(re.search(r"'test/acc': ([0-9.]+)", test.stdout + test.stderr).group(1))

    # The same checkpoint on one process: equal accuracy means no image was dropped or counted twice.
    single = main(["test", *common, "--trainer.devices", "1", "--ckpt_path", "best"])
    assert ddp_acc == pytest.approx(single.trainer.callback_metrics["test/acc"].item(), abs=1e-4)
