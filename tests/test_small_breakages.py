"""Small breakages of issue 24 point 9: a failed download's folders, gpu_checks.sh's interpreter and exit status,
and the frame replay benchmark's memory."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from benchmarks import frame_replay_memory
from datamodules import MNISTDataModule
from datamodules.mnist_files import DataNotFoundError
from tests.helpers import ROOT

GPU_CHECKS = ROOT / "benchmarks" / "gpu_checks.sh"


def test_failed_download_removes_every_folder_it_created(tmp_path, monkeypatch):
    """``--data.data_dir ../shared/datasets/mnist`` from the wrong folder must not leave ``../shared/datasets/``."""
    import torchvision.datasets

    def offline(root, train, download):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: <urlopen error [Errno -3] DNS>")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    (tmp_path / "existing").mkdir()
    data_dir = tmp_path / "existing" / "shared" / "datasets" / "mnist"
    with pytest.raises(DataNotFoundError, match="the download failed"):
        MNISTDataModule(data_dir=str(data_dir)).prepare_data()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing"]
    assert list((tmp_path / "existing").iterdir()) == []  # the folder that was there stays, empty as it was


def fake_python(folder: Path, preflight_ok: bool, steps_ok: bool) -> Path:
    """An interpreter for gpu_checks.sh: records each call, passes the import check and/or the steps as told."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "python"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{folder}/calls"\n'
        f'if [ "$1" = "-c" ]; then exit {0 if preflight_ok else 1}; fi\n'
        f"exit {0 if steps_ok else 1}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def run_gpu_checks(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    # no nvidia-smi here (it only adds a line to the summary); a deadline of 25 s: each step gets its 20 s floor once
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    return subprocess.run(
        ["bash", str(GPU_CHECKS), str(tmp_path), str(tmp_path / "out"), "25"],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_gpu_checks_uses_the_active_environment_and_fails_when_a_step_fails(tmp_path):
    venv = tmp_path / "venv"
    fake_python(venv / "bin", preflight_ok=True, steps_ok=False)
    done = run_gpu_checks(tmp_path, {"VIRTUAL_ENV": str(venv)})
    calls = (venv / "bin" / "calls").read_text()
    assert "-m pytest tests/test_gpu.py" in calls  # the environment's interpreter, not the system python3
    assert done.returncode == 1, done.stdout + done.stderr
    assert "failed" in done.stderr


def test_gpu_checks_stops_at_once_when_the_interpreter_cannot_import_the_project(tmp_path):
    interpreter = fake_python(tmp_path / "bin", preflight_ok=False, steps_ok=True)
    done = run_gpu_checks(tmp_path, {"PYTHON": str(interpreter)})
    assert done.returncode == 2
    assert f"{interpreter} cannot import the project" in done.stderr and "PYTHON=" in done.stderr
    assert "-m pytest" not in (tmp_path / "bin" / "calls").read_text()  # no step ran


def test_frame_replay_benchmark_refuses_more_than_the_free_memory(monkeypatch, capsys):
    monkeypatch.setattr(frame_replay_memory, "available_bytes", lambda: 10_000)  # 10 kB free
    with pytest.raises(SystemExit) as info:
        frame_replay_memory.main(["--capacity", "1000", "--size", "8"])
    assert "--force" in str(info.value) and "\n" not in str(info.value)
    out = capsys.readouterr().out
    assert "estimated buffer memory" in out and "resident memory" not in out  # nothing was allocated and filled


def test_frame_replay_estimate_matches_what_the_buffer_takes(capsys):
    from rl.dqn.frame_replay import FrameReplayBuffer

    estimate = frame_replay_memory.estimated_bytes(5000, (4, 8, 8))
    storage = FrameReplayBuffer(5000, (4, 8, 8)).nbytes()
    assert storage < estimate <= storage + frame_replay_memory.BOOKKEEPING_PER_TRANSITION * 5000 + 64
    frame_replay_memory.main(["--capacity", "300", "--size", "8", "--episode", "50"])  # fits: runs as before
    assert "resident memory" in capsys.readouterr().out
