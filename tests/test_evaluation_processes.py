"""One evaluation path for every agent: ``validate`` and ``test`` score the same episodes on 1 process or 2.

Each agent is trained briefly on one process; its checkpoint is then validated and tested on one process
(in-process) and on two (DDP on the CPU, a subprocess of cli.py, as a user runs it). The processes split the
evaluation seeds, play their shares and gather them, so every metric, the episode count included, must be
bit-identical, and the two-process run must give none of the warnings that used to come with it.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import lightning as L
import pytest

from cli import main
from lightning_classics.runs.resume import ResumeState
from lightning_classics.runs.rng import capture_rng_states
from rl.evaluation import evaluation_batches
from tests.helpers import QUIET, ROOT, preset

# Brief Taxi training: greedy returns that still vary from seed to seed. 250 test episodes: batches of
# 100, 100 and 50, so the two processes play different numbers of episodes.
TAXI = [
    "--config", preset("taxi_qlearning"),
    "--model.init_args.episodes_per_epoch", "300", "--model.init_args.val_episodes", "150",
    "--model.init_args.test_episodes", "250",
]  # fmt: skip
# An untrained-ish CartPole DQN: episodes of varied lengths; 7 test episodes split 4 + 3.
DQN = [
    "--model", "DQN", "--model.init_args.env_id", "CartPole-v0", "--model.init_args.hidden_sizes", "[16]",
    "--model.init_args.learning_starts", "50", "--model.init_args.steps_per_epoch", "20",
    "--model.init_args.val_episodes", "5", "--model.init_args.test_episodes", "7",
]  # fmt: skip
TWO_PROCESSES = ["--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.strategy", "ddp"]
NOISE = ("sync_dist", "RNG states", "DistributedSampler")  # warnings a correct evaluation does not cause


def csv_logger(save_dir: Path) -> list[str]:
    return ["--trainer.logger", "lightning.pytorch.loggers.CSVLogger", "--trainer.logger.save_dir", str(save_dir)]


def logged(save_dir: Path) -> list[dict[str, str]]:
    """The rows of metrics an evaluation command wrote, as CSVLogger wrote them (full precision)."""
    return list(csv.DictReader(next(save_dir.rglob("metrics.csv")).read_text().splitlines()))


def evaluate_both_ways(tmp_path: Path, agent: list[str], checkpoint: Path, command: str) -> tuple[list, list, str]:
    """``command`` (validate or test) on one process and on two: both runs' logged metrics, the second's output."""
    common = [*agent, "--runs_dir", str(tmp_path / "runs"), "--ckpt_path", str(checkpoint), *QUIET]
    one, two = tmp_path / f"{command}_one", tmp_path / f"{command}_two"
    main([command, *common, *csv_logger(one)])
    done = subprocess.run(
        [sys.executable, "cli.py", command, *common, *csv_logger(two), *TWO_PROCESSES],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return logged(one), logged(two), done.stdout + done.stderr


def fit_once(tmp_path: Path, agent: list[str], run_name: str) -> Path:
    main(
        [
            "fit",
            *agent,
            "--runs_dir",
            str(tmp_path / "runs"),
            "--run_name",
            run_name,
            "--trainer.max_epochs",
            "1",
            *QUIET,
        ]
    )
    return tmp_path / "runs" / run_name / "version_0" / "checkpoints" / "last.ckpt"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("agent", "val_episodes", "test_episodes"), [(TAXI, 150, 250), (DQN, 5, 7)], ids=["taxi", "dqn"]
)
def test_validate_and_test_give_the_same_metrics_on_one_and_two_processes(tmp_path, agent, val_episodes, test_episodes):
    checkpoint = fit_once(tmp_path, agent, "agent")
    for command, stage, episodes in (("validate", "val", val_episodes), ("test", "test", test_episodes)):
        one, two, output = evaluate_both_ways(tmp_path, agent, checkpoint, command)
        metrics = next(row for row in one if row[f"{stage}/episodes"])
        assert float(metrics[f"{stage}/episodes"]) == episodes
        assert float(metrics[f"{stage}/std_return"]) > 0  # episodes that differ: a lost or doubled one would show
        assert two == one
        assert not [line for line in output.splitlines() if any(noise in line for noise in NOISE)]


@pytest.mark.parametrize("world", [1, 2, 3])
@pytest.mark.parametrize(("episodes", "max_batch"), [(250, 100), (7, None), (2, None), (5, 2)])
def test_evaluation_batches_give_each_seed_to_one_process_and_each_process_as_many_batches(world, episodes, max_batch):
    batches = evaluation_batches(10, episodes, world, max_batch)
    shares = [batches[rank::world] for rank in range(world)]  # what process r plays, as DistributedSampler deals
    assert len({len(share) for share in shares}) == 1  # every process takes part in every step and the gather
    played = [seed for share in shares for batch in share for seed in batch]
    assert sorted(played) == list(range(10, 10 + episodes))  # each seed once
    assert all(len(batch) <= (max_batch or episodes) for batch in batches)


@pytest.mark.parametrize(("stage", "warns"), [("fit", True), ("validate", False), ("test", False)])
def test_rng_states_of_another_process_count_matter_only_to_a_resumed_fit(stage, warns):
    callback = ResumeState()
    callback.setup(SimpleNamespace(global_rank=0, world_size=2), L.LightningModule(), stage)  # type: ignore[arg-type]
    one_process = {"epoch": 0, "batches_done": 0, "epoch_done": True, "rng": [capture_rng_states()]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        callback.load_state_dict(one_process)
    assert any("RNG states" in str(warning.message) for warning in caught) == warns
