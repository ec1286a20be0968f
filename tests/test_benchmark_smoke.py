"""The GPU benchmark's code paths, run on the CPU with tiny data and a few steps (numbers meaningless)."""

import argparse

import pytest

from benchmarks import fused_step, gpu, lean_loop, lightning_floor, op_count, step_segments


@pytest.mark.slow
def test_gpu_benchmark_runs_on_the_cpu(mnist_dir):
    args = argparse.Namespace(
        data_dir=str(mnist_dir),
        accelerator="cpu",
        warmup=2,
        steps=3,
        reps=1,
        dqn_epochs=1,
        models=["CNN"],
        sections=gpu.SECTIONS,
        tiny=True,
    )
    rows = gpu.run(args)
    measured = {(what, setting) for what, setting, _ in rows}
    assert ("CNN images/s", "NCHW (channels_last false)") in measured and ("CNN images/s", "bf16-mixed") in measured
    assert ("CNN Lightning / hand-written", "median of 1") in measured
    assert {"speedrun to 99.0%", "speedrun to 99.5%"} <= {what for what, _, _ in rows}
    assert ("DQN CartPole agent steps/s", "cpu") in measured
    assert all(value for _, _, value in rows)


def test_op_count_sees_the_same_network_step_in_both_loops(mnist_dir):
    tiny = ["--data.val_size", "50", "--data.batch_size", "50"]
    lightning, hand = op_count.count("ANN", str(mnist_dir), tiny, step=2)
    # Four linear layers: the same matrix products forward and backward in both, so both counted one whole step.
    assert lightning["addmm"] == hand["addmm"] == 4
    assert lightning["mm"] == hand["mm"] > 0
    assert sum(hand.values()) > 50 and sum(lightning.values()) > 50


@pytest.mark.slow
def test_pong_throughput_times_the_environment_and_the_updates(capsys):
    pytest.importorskip("ale_py", reason="ale-py (Atari emulator and ROMs) is not installed")
    from benchmarks import pong_throughput

    pong_throughput.main(["--steps", "40", "--updates", "2", "--threads", "1", "--batch-size", "8"])
    out = capsys.readouterr().out
    assert "env: 40 agent steps = 160 frames in" in out
    assert "updates (cpu, 1 torch thread(s), batch 8): 2 in" in out and "samples/s)" in out


def test_fused_step_benchmark_prints_one_row_per_network():
    table = fused_step.main(["--models", "ANN", "CNN 16-32-64 (speedrun)", "--steps", "1", "--reps", "1"])
    rows = table.splitlines()[2:]
    assert [row.split(" | ")[0] for row in rows] == ["| ANN", "| CNN 16-32-64 (speedrun)"]
    assert all(float(row.split(" | ")[1]) > 0 and row.endswith("x |") for row in rows)


def test_lean_loop_benchmark_times_both_variants_of_a_run(mnist_dir):
    argv = ["--data-dir", str(mnist_dir), "--runs", "ANN, 8-wide", "--warmup", "1", "--block", "1", "--blocks", "2"]
    table = lean_loop.main([*argv, "--", "--data.val_size", "44", "--data.batch_size", "32"])
    row = next(line for line in table.splitlines() if line.startswith("| ANN, 8-wide |"))
    plain_ms, lean_ms = (float(cell) for cell in row.split("|")[2:4])
    assert plain_ms > 0 and lean_ms > 0
    assert row.split("|")[6].strip() == "2"  # block pairs


def test_step_segments_times_every_phase_of_both_loops(mnist_dir):
    argv = ["--data-dir", str(mnist_dir), "--warmup", "1", "--steps", "3"]
    table = step_segments.main([*argv, "--", "--data.val_size", "44", "--data.batch_size", "32"])
    cells = {row.split(" | ")[0].removeprefix("| "): row.split(" | ")[1:] for row in table.splitlines()[2:]}
    for phase in step_segments.PHASES:
        lightning_ms, hand_ms = float(cells[phase][0]), float(cells[phase][1])
        assert lightning_ms > 0 and hand_ms > 0, phase
    assert all(float(cells[part][0]) > 0 for part in step_segments.LIGHTNING_PARTS)
    assert "sum of the medians" in cells and "mean step" in cells


def test_lightning_floor_pairs_both_lightning_fits_with_the_hand_loop(mnist_dir):
    argv = ["--data-dir", str(mnist_dir), "--warmup", "1", "--steps", "3", "--reps", "2"]
    table = lightning_floor.main([*argv, "--", "--data.val_size", "44", "--data.batch_size", "32"])
    row = next(line for line in table.splitlines() if line.startswith("| ANN |"))
    cells = [cell.strip().strip("*") for cell in row.split("|")[2:-1]]
    shipped, floor = float(cells[0]), float(cells[2])
    assert 0 < shipped < 5 and 0 < floor < 5  # ratios of two measured times, both contenders ran
    assert cells[-1] == "2"  # repetitions
