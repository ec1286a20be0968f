"""The benchmarks' code paths, run on the CPU with tiny data and a few steps.

The timings themselves mean nothing at this size, so each test checks what must hold whatever the machine: the
rows the table promises, numbers that agree with each other, and clock marks that come in the order of a step.
The ones that take seconds (the GPU benchmark, Pong, Lightning's floor) run in the full suite only.
"""

import argparse
import json

import pytest
from PIL import Image

from benchmarks import fused_step, gpu, lean_loop, lightning_floor


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


@pytest.mark.slow
def test_pong_throughput_times_the_environment_and_the_updates(capsys):
    pytest.importorskip("ale_py", reason="ale-py (Atari emulator and ROMs) is not installed")
    from benchmarks import pong_throughput

    pong_throughput.main(["--steps", "40", "--updates", "2", "--threads", "1", "--batch-size", "8"])
    out = capsys.readouterr().out
    assert "env: 40 agent steps = 160 frames in" in out
    assert "updates (cpu, 1 torch thread(s), batch 8): 2 in" in out and "samples/s)" in out


def test_fused_step_benchmark_prints_one_row_per_network():
    table = fused_step.main(["--models", "ANN", "CNN 16-32-64 (speedrun)", "--steps", "2", "--reps", "3"])
    rows = table.splitlines()[2:]
    assert [row.split(" | ")[0] for row in rows] == ["| ANN", "| CNN 16-32-64 (speedrun)"]
    for row in rows:
        default_ms, fused_ms, speed_up = row.removesuffix("x |").split(" | ")[1:]
        # the speed-up is the ratio of the two times it prints (to their rounding), and both optimizers did the
        # same work: within 10x of each other on any machine (the median of 3 repetitions, for a loaded one)
        assert float(speed_up) == pytest.approx(float(default_ms) / float(fused_ms), abs=0.01 + 0.01 * float(speed_up))
        assert 0.1 < float(speed_up) < 10, row


def test_lean_loop_benchmark_times_both_variants_of_a_run(mnist_dir):
    argv = ["--data-dir", str(mnist_dir), "--runs", "ANN, 8-wide", "--warmup", "1", "--block", "1", "--blocks", "2"]
    table = lean_loop.main([*argv, "--", "--data.val_size", "44", "--data.batch_size", "32"])
    row = next(line for line in table.splitlines() if line.startswith("| ANN, 8-wide |"))
    plain_ms, lean_ms = (float(cell) for cell in row.split("|")[2:4])
    assert plain_ms > 0 and lean_ms > 0
    assert row.split("|")[6].strip() == "2"  # block pairs


@pytest.mark.slow  # four one-epoch fits
def test_lightning_floor_pairs_both_lightning_fits_with_the_hand_loop(mnist_dir):
    argv = ["--data-dir", str(mnist_dir), "--warmup", "1", "--steps", "3", "--reps", "2"]
    table = lightning_floor.main([*argv, "--", "--data.val_size", "44", "--data.batch_size", "32"])
    row = next(line for line in table.splitlines() if line.startswith("| ANN |"))
    cells = [cell.strip().strip("*") for cell in row.split("|")[2:-1]]
    shipped, floor = float(cells[0]), float(cells[2])
    assert 0 < shipped < 5 and 0 < floor < 5  # ratios of two measured times, both contenders ran
    assert cells[-1] == "2"  # repetitions


def test_pixel_seeds_refuses_no_jobs_in_one_line(tmp_path, capsys):
    from benchmarks import pixel_seeds

    with pytest.raises(SystemExit) as stop:
        pixel_seeds.main(["--seeds", "12", "--jobs", "0", "--runs_dir", str(tmp_path / "runs")])
    assert stop.value.code == 2
    assert "--jobs 0: pass at least 1" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # refused before anything was trained or written


def test_classic_control_draws_the_curves_of_its_json_files(tmp_path, capsys):
    from benchmarks import classic_control

    def run(seed: int, curve: list[list[float]]) -> dict:
        result = {"mean": -80.0, "min": -150.0, "share_above": None, "meets": False}
        return {"task": "acrobot", "seed": seed, "frames": 4000, "train_seconds": 9.0, "target_seconds": None,
                "target_frames": None, "curve": curve, "best": result, "last": result}  # fmt: skip

    saved = tmp_path / "acrobot.json"
    saved.write_text(
        json.dumps(
            {
                "acrobot": {
                    "ours": [run(0, [[2000, -300.0], [4000, -90.0]])],
                    "sb3": [{**run(0, [-400.0, -95.0]), "seconds": None}],
                }
            }
        )
    )
    classic_control.main(["--table", str(saved), "--figure", str(tmp_path / "curves.png"), "--ymin", "-200"])
    assert "| acrobot | 0 | 4,000 |" in capsys.readouterr().out
    with Image.open(tmp_path / "curves.png") as picture:
        assert picture.width > 400 and picture.height > 300
    with pytest.raises(SystemExit):  # drawing needs the runs of --table
        classic_control.main(["--figure", str(tmp_path / "alone.png")])
    assert "pass the --json files there" in capsys.readouterr().err and not (tmp_path / "alone.png").exists()
    with pytest.raises(SystemExit):  # a missing file is one line, not a traceback
        classic_control.main(["--table", str(tmp_path / "missing.json")])
    assert "missing.json: No such file or directory; pass a --json file" in capsys.readouterr().err
