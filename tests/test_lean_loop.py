"""Cheaper per-batch bookkeeping (lightning_classics/runs/lean_loop.py, and CachedCudaCheck in lightning_classics/runs/lightning_internals.py)
that leaves what Lightning and torch do unchanged."""

import os

import lightning as L
import pytest
import torch
from lightning.pytorch.profilers import SimpleProfiler

from cli import main
from lightning_classics.runs.lean_loop import NoOpProfiler
from lightning_classics.runs.lightning_internals import NVML_CHECK, CachedCudaCheck
from lightning_modules import TinyNet
from tests.helpers import cli_args

ONE_EPOCH = ["--trainer.max_epochs", "1"]


def configured(tmp_path, *extra: str):
    """The CLI's model, data and Trainer for tiny_net, not run (no subcommand)."""
    return main(cli_args("fit", "tiny_net", tmp_path, *extra)[1:], run=False)


def test_the_no_op_profiler_nests_and_hands_out_one_context():
    profiler = NoOpProfiler()
    with profiler.profile("outer"), profiler.profile("inner"), profiler.profile("outer"):
        pass
    assert profiler.profile("a") is profiler.profile("b")
    assert profiler.summary() == ""


def test_the_cli_trainer_profiles_nothing_cheaply_unless_a_profiler_is_asked_for(tmp_path):
    cli = configured(tmp_path)
    assert type(cli.trainer.profiler) is NoOpProfiler
    cli = configured(tmp_path, "--trainer.profiler", "simple")
    assert isinstance(cli.trainer.profiler, SimpleProfiler)


class EnvironmentDuringTraining(L.Callback):
    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        self.seen = os.environ.get(NVML_CHECK)


@pytest.mark.skipif(torch.cuda.device_count() > 0, reason="the check is lifted only where no GPU is visible")
def test_without_gpus_a_run_checks_cuda_the_cached_way_and_puts_the_variable_back(tmp_path, monkeypatch):
    monkeypatch.setenv(NVML_CHECK, "1")  # what `import lightning` sets
    cli = configured(tmp_path, *ONE_EPOCH)
    observer = EnvironmentDuringTraining()
    cli.trainer.callbacks.append(observer)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    assert observer.seen is None
    assert os.environ[NVML_CHECK] == "1"


def test_where_a_gpu_is_visible_the_nvml_check_stays(monkeypatch):
    monkeypatch.setenv(NVML_CHECK, "1")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    check = CachedCudaCheck()
    check.setup(L.Trainer(logger=False), TinyNet(), "fit")
    assert os.environ[NVML_CHECK] == "1"
    check.teardown(L.Trainer(logger=False), TinyNet(), "fit")
    assert os.environ[NVML_CHECK] == "1"
