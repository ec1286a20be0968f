"""Two-process DDP on the CPU (gloo), launched the way a user does: as a subprocess of cli.py."""

import re
import subprocess
import sys

import pytest
import torch

from cli import main
from tests.helpers import QUIET, ROOT, preset
from tests.mnist_fixtures import write_mnist_files


def fit(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "cli.py", "fit", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.slow
def test_two_process_ddp_fits_tests_each_image_once_and_resumes_exactly(tmp_path):
    data = write_mnist_files(tmp_path / "mnist", train=400, test=101)  # 101: shards of 51 and 50
    common = [
        "--config", preset("mnist_cnn"),
        "--data.data_dir", str(data), "--data.val_size", "51", "--data.batch_size", "50",
        "--runs_dir", str(tmp_path / "runs"),
        # deterministic, and an LR schedule that does not depend on max_epochs: a 1-epoch run resumed to 2 epochs
        # must end like the 2-epoch run (the preset's augmentation and dropout draw from each process's own RNGs)
        "--trainer.deterministic", "true", "--model.init_args.scheduler", "none",
        *QUIET,
    ]  # fmt: skip
    ddp = ["--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp"]

    fit(*common, *ddp, "--trainer.max_epochs", "2")
    last = tmp_path / "runs/mnist_cnn/version_0/checkpoints/last.ckpt"
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

    # Stopped after epoch 1 and resumed: every process continues its own RNG streams, so the weights and the
    # optimizer end bit-identical to the uninterrupted run's (when only process 0's were restored, they did not).
    resumed_runs = ["--runs_dir", str(tmp_path / "resumed")]
    fit(*common, *ddp, *resumed_runs, "--trainer.max_epochs", "1")
    fit(*common, *ddp, *resumed_runs, "--trainer.max_epochs", "2", "--ckpt_path", "last")
    straight = torch.load(last, weights_only=True)
    resumed = torch.load(tmp_path / "resumed/mnist_cnn/version_0/checkpoints/last.ckpt", weights_only=True)
    assert resumed["global_step"] == straight["global_step"]
    for name, tensor in straight["state_dict"].items():
        assert torch.equal(resumed["state_dict"][name], tensor), name
    for mine, theirs in zip(
        resumed["optimizer_states"][0]["state"].values(), straight["optimizer_states"][0]["state"].values(), strict=True
    ):
        assert torch.equal(mine["exp_avg_sq"], theirs["exp_avg_sq"])
    assert len(resumed["callbacks"]["ResumeState"]["rng"]) == 2  # both processes' RNG states
