"""Crash safety: atomic checkpoint writes (killed writes, a full disk), stale temporary files, and SIGTERM/SIGINT
writing a resumable checkpoint before the run stops."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import pytest
import torch

from cli import main
from lightning_classics.runs.atomic_io import TEMP_MARKER, atomic_torch_save
from lightning_classics.runs.errors import UserError
from tests.helpers import QUIET, ROOT, preset

# Rewrites one 8 MB checkpoint forever, alternating its contents between all-0 and all-1.
WRITER = """
import sys, torch
from lightning_classics.runs.atomic_io import atomic_torch_save
value = 0
while True:
    atomic_torch_save({"x": torch.full((2_000_000,), float(value))}, sys.argv[1])
    value = 1 - value
    print("wrote", flush=True)
"""


# Each kill starts a Python that imports torch (seconds): one kill in the fast suite, five in the full one.
@pytest.mark.parametrize("kills", [1, pytest.param(5, marks=pytest.mark.slow)])
def test_a_write_killed_at_random_moments_never_damages_the_checkpoint(tmp_path, kills):
    target = tmp_path / "last.ckpt"
    rng = random.Random(kills)
    for _ in range(kills):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None and writer.stdout.readline() == "wrote\n"
        time.sleep(rng.uniform(0.0, 0.3))  # then kill it somewhere inside a later write
        writer.kill()
        writer.wait()
        saved = torch.load(target, weights_only=True)["x"]
        assert saved.shape == (2_000_000,) and saved.min() == saved.max()  # one whole version, never a mixture
    leftovers = [p for p in tmp_path.iterdir() if TEMP_MARKER in p.name]
    # Temporary files of killed writes stay behind (the next fit removes them), the target is never touched.
    assert all(p.name.startswith(".last.ckpt") for p in leftovers)


def test_a_full_disk_keeps_the_previous_checkpoint(tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(small)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("needs root to mount a 2 MB tmpfs")
    try:
        target = small / "last.ckpt"
        atomic_torch_save({"x": torch.ones(1000)}, target)
        good = target.read_bytes()
        with pytest.raises(UserError, match=r"could not write checkpoint .* the previous file is intact"):
            atomic_torch_save({"x": torch.zeros(1_000_000)}, target)  # 4 MB on a 2 MB disk
        assert target.read_bytes() == good
        assert [p.name for p in small.iterdir()] == ["last.ckpt"]  # the partial file was removed
    finally:
        subprocess.run(["umount", str(small)], check=True)


def tiny_args(runs: Path, *extra: str) -> list[str]:
    config = preset("tiny_net")
    return ["fit", "--config", config, "--runs_dir", str(runs), *QUIET, *extra]


def test_the_next_fit_removes_temporary_files_of_a_killed_write(tmp_path):
    main(tiny_args(tmp_path, "--trainer.max_epochs", "1"))
    checkpoints = tmp_path / "tiny_net/version_0/checkpoints"
    stale = checkpoints / f".last.ckpt{TEMP_MARKER}12345-deadbeef"
    stale.write_bytes(b"half a checkpoint")
    main(tiny_args(tmp_path, "--trainer.max_epochs", "2", "--ckpt_path", "last"))
    assert not stale.exists()
    assert sorted(p.name for p in checkpoints.iterdir()) == ["best.ckpt", "last.ckpt"]


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_sigint_write_a_resumable_checkpoint(tmp_path, signum, exit_code):
    # Long epochs (400 batches) so that the signal arrives mid-epoch.
    args = tiny_args(tmp_path, "--trainer.max_epochs", "50", "--data.train_size", "25600")
    run = subprocess.Popen(
        [sys.executable, "cli.py", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # A shell without job control starts background commands with SIGINT ignored (POSIX), and a Python started so
        # never turns Ctrl-C into KeyboardInterrupt: the child gets the default, as in a terminal, however pytest runs.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    checkpoints = tmp_path / "tiny_net/version_0/checkpoints"
    deadline = time.monotonic() + 120
    # After the first epoch's checkpoints (last.ckpt comes after best.ckpt), so the signal lands in the second epoch's
    # training rather than at the first one's end.
    while not (checkpoints / "last.ckpt").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    run.send_signal(signum)
    output, _ = run.communicate(timeout=120)
    assert run.returncode == exit_code, output[-2000:]
    assert "Resumable checkpoint:" in output and "--ckpt_path last" in output
    saved = torch.load(checkpoints / "last.ckpt", weights_only=True)
    assert saved["global_step"] % 400 != 0  # written at the batch the signal arrived in, not at an epoch end
    resumed = main(
        tiny_args(
            tmp_path,
            "--trainer.max_epochs",
            str(saved["epoch"] + 1),
            "--data.train_size",
            "25600",
            "--ckpt_path",
            "last",
        )
    )
    assert resumed.trainer.global_step == 400 * (saved["epoch"] + 1)


class SigtermAt(L.Callback):
    """Does what Lightning's SIGTERM handler does (sets the flag its loops check) at one hook of one epoch."""

    def __init__(self, hook: str, epoch: int) -> None:
        self.hook, self.epoch = hook, epoch

    def _maybe(self, trainer: L.Trainer, hook: str) -> None:
        if hook == self.hook and trainer.current_epoch == self.epoch and not trainer.sanity_checking:
            trainer._signal_connector.received_sigterm = True

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if batch_idx == 0:
            self._maybe(trainer, "validation batch")

    def on_validation_end(self, trainer, pl_module) -> None:
        self._maybe(trainer, "validation end")


@pytest.mark.parametrize("hook", ["validation batch", "validation end"])
def test_sigterm_where_lightning_stops_by_itself_points_to_the_latest_last_checkpoint(tmp_path, capsys, hook):
    # Lightning raises SIGTERMException itself during validation and at an epoch's end, where no mid-epoch
    # checkpoint can be written; the run's last.ckpt (epoch 0's end here) is where it resumes.
    with pytest.raises(SystemExit) as stop:
        main(tiny_args(tmp_path, "--trainer.max_epochs", "3"), callbacks=[SigtermAt(hook, epoch=1)])
    assert stop.value.code == 143
    err = capsys.readouterr().err
    last = tmp_path / "tiny_net/version_0/checkpoints/last.ckpt"
    assert f"Stopped by SIGTERM. Resumable checkpoint: {last}" in err and "--ckpt_path last" in err
    saved = torch.load(last, weights_only=True)
    assert saved["global_step"] == (64 if hook == "validation end" else 32)  # 32 batches an epoch
    resumed = main(tiny_args(tmp_path, "--trainer.max_epochs", "3", "--ckpt_path", "last"))
    assert resumed.trainer.global_step == 96


def test_sigterm_before_any_checkpoint_says_there_is_nothing_to_resume(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(tiny_args(tmp_path, "--trainer.max_epochs", "3"), callbacks=[SigtermAt("validation batch", epoch=0)])
    assert stop.value.code == 143
    assert "no resumable checkpoint was written" in capsys.readouterr().err
