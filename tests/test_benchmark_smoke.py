"""The GPU benchmark's code paths, run on the CPU with tiny data and a few steps (numbers meaningless)."""

import argparse

import pytest

from benchmarks import gpu


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
