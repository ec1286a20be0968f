"""DQN on two CPU processes (DDP, gloo), launched as a user does: ``cli.py fit ... --trainer.devices 2``.

Each process acts in its own environments with its own seeds and replay buffer; DDP averages the gradients;
evaluation episodes are split between the processes and gathered; process 0 writes one checkpoint holding
every process's state, so a resumed run continues exactly like one that never stopped.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rl.checkpointing import AGENT_STATE_KEY
from tests.corridor_env import CORRIDOR, CORRIDOR_AGENT
from tests.helpers import QUIET, ROOT

AGENT = {**CORRIDOR_AGENT, "env_id": CORRIDOR, "val_episodes": 5, "hidden_sizes": "[32]"}  # 5: split 3 + 2


def fit(runs_dir: Path, epochs: int, *extra: str) -> Path:
    """Runs a 2-process fit of the corridor agent; returns the run's checkpoint folder."""
    args = [
        sys.executable, "cli.py", "fit", "--model", "DQN",
        *(arg for name, value in AGENT.items() for arg in (f"--model.init_args.{name}", str(value))),
        "--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp",
        "--trainer.max_epochs", str(epochs), "--trainer.logger", "lightning.pytorch.loggers.CSVLogger",
        "--trainer.logger.save_dir", str(runs_dir / "csv"), "--runs_dir", str(runs_dir), "--run_name", "ddp",
        *QUIET, *extra,
    ]  # fmt: skip
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "sync_dist" not in done.stderr  # gathered evaluation results are logged as whole-run values
    return runs_dir / "ddp" / "version_0" / "checkpoints"


def state(checkpoints: Path) -> dict:
    return torch.load(checkpoints / "last.ckpt", weights_only=True)


@pytest.mark.slow
def test_two_processes_learn_and_resume_exactly(tmp_path):
    straight = state(fit(tmp_path / "straight", epochs=4))
    processes = straight[AGENT_STATE_KEY]["processes"]
    assert len(processes) == 2  # both processes' state, written once by process 0
    first, second = (p["buffer"]["observations"] for p in processes)
    assert first.shape == second.shape and not torch.equal(first, second)  # own seeds, own experience
    rows = list(csv.DictReader(next((tmp_path / "straight/csv").rglob("metrics.csv")).read_text().splitlines()))
    evaluations = [row for row in rows if row["val/mean_return"]]
    assert all(float(row["val/episodes"]) == 5 for row in evaluations)  # 3 + 2 episodes, gathered
    assert float(evaluations[-1]["val/mean_return"]) == 1.0  # learnt: every episode reaches the goal
    # x-axis: environment steps of both processes (a warm-up of 50 each, then 2 x 4 per update)
    assert int(evaluations[-1]["step"]) == processes[0]["env_loop"]["env_steps"] * 2

    runs = tmp_path / "resumed"
    fit(runs, epochs=2)
    resumed = state(fit(runs, 4, "--ckpt_path", "last"))
    # the corridor's reward threshold (1.0) in 3 evaluations in a row stopped both runs after epoch 3 of 4: the
    # resumed one only because it kept the evaluations before its resume
    assert resumed["global_step"] == straight["global_step"] == 300
    for name, tensor in straight["state_dict"].items():  # online and target networks
        assert torch.equal(resumed["state_dict"][name], tensor), name
    for mine, theirs in zip(resumed[AGENT_STATE_KEY]["processes"], processes, strict=True):
        assert torch.equal(mine["buffer"]["observations"], theirs["buffer"]["observations"])
        assert mine["env_loop"]["env_steps"] == theirs["env_loop"]["env_steps"]
