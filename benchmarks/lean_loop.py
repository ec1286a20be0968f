"""What training_runs/lean_loop.py buys: ms per training batch through the shipped CLI, with it and without.

    .venv/bin/python -m benchmarks.lean_loop --data-dir ../shared/datasets/mnist
    .venv/bin/python -m benchmarks.lean_loop --runs "DQN CartPole" --reps 3
    python -m benchmarks.lean_loop --runs "ANN, 8-wide" ANN -- --trainer.accelerator gpu   # on a GPU

Each run is the shipped ``fit`` (the preset, TensorBoard logging, checkpoints, progress bar), timed from
the start of batch ``--warmup`` to the start of batch ``--warmup + --steps``: start-up and validation are
not in the window. Repetitions alternate the two variants, so a change in machine load hits both alike:

* lean: as shipped (the CLI's ``NoOpProfiler``, the modules' ``CheapHookName``, ``CachedCudaCheck``);
* plain: the same run with Lightning's ``PassThroughProfiler``, ``nn.Module.__setattr__`` and the NVML
  CUDA check on every optimizer step.

Prints one markdown table: ms per batch of each (median over repetitions) and plain / lean per pair of
repetitions (median, min and max).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import statistics
import tempfile
import time
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.profilers import PassThroughProfiler
from torch import nn

from cli import main as cli_main
from training_runs.lean_loop import NVML_CHECK, CachedCudaCheck, CheapHookName

ROOT = Path(__file__).resolve().parents[1]
MNIST_RUNS = {"ANN, 8-wide": ["--model.init_args.hidden_sizes", "[8,8,8]"], "ANN": []}
RUNS = [*MNIST_RUNS, "DQN CartPole"]


class BatchTimer(L.Callback):
    """Seconds from the start of batch ``warmup`` to the start of batch ``warmup + steps``; then stops."""

    def __init__(self, warmup: int, steps: int) -> None:
        self.warmup, self.steps = warmup, steps
        self.seconds: float | None = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if batch_idx in (self.warmup, self.warmup + self.steps) and pl_module.device.type == "cuda":
            torch.cuda.synchronize()  # the GPU's queued work belongs to the batches before
        if batch_idx == self.warmup:
            self._start = time.perf_counter()
        elif batch_idx == self.warmup + self.steps:
            self.seconds = time.perf_counter() - self._start
            trainer.should_stop = True


def without_lean_loop(cli) -> None:
    """The run as Lightning would do it: its default profiler, no cached CUDA check, and the module's
    attributes set through ``nn.Module.__setattr__`` (a subclass that skips ``CheapHookName``)."""
    cli.trainer.profiler = PassThroughProfiler()
    cli.trainer.callbacks[:] = [c for c in cli.trainer.callbacks if not isinstance(c, CachedCudaCheck)]
    module_class = type(cli.model)
    assert issubclass(module_class, CheapHookName), f"{module_class.__name__} has no CheapHookName to take away"
    cli.model.__class__ = type(f"Plain{module_class.__name__}", (module_class,), {"__setattr__": nn.Module.__setattr__})


def ms_per_batch(
    name: str, lean: bool, runs_dir: str, data_dir: str, warmup: int, steps: int, extra: list[str]
) -> float:
    if name == "DQN CartPole":
        args = ["--config", str(ROOT / "configs" / "cartpole_dqn.yaml")]
    else:
        args = ["--config", str(ROOT / "configs" / "mnist_ann.yaml"), "--data.data_dir", data_dir, *MNIST_RUNS[name]]
    args += ["--runs_dir", runs_dir, "--trainer.max_epochs", "1", "--trainer.num_sanity_val_steps", "0", *extra]
    cli = cli_main(args, run=False)
    if not lean:
        without_lean_loop(cli)
    timer = BatchTimer(warmup, steps)
    cli.trainer.callbacks.append(timer)  # type: ignore[attr-defined]  # Trainer sets it at run time
    gc.collect()  # the previous run's garbage, collected outside this run's window
    with contextlib.redirect_stdout(io.StringIO()):  # the model summary
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    assert timer.seconds is not None, "the epoch ended before the timed window did: lower --warmup/--steps"
    return timer.seconds / steps * 1000


def run(names: list[str], data_dir: str, reps: int, warmup: int, steps: int, extra: list[str]) -> str:
    torch.set_num_threads(2)
    times: dict[str, dict[bool, list[float]]] = {name: {True: [], False: []} for name in names}
    with tempfile.TemporaryDirectory() as runs_dir:
        for rep in range(reps):
            for name in names:
                for lean in (rep % 2 == 0, rep % 2 == 1):  # who goes first alternates too
                    times[name][lean].append(ms_per_batch(name, lean, runs_dir, data_dir, warmup, steps, extra))
                print(f"rep {rep} {name}: lean {times[name][True][-1]:.3f} ms, plain {times[name][False][-1]:.3f} ms")
    rows = [
        "| run | plain ms/batch (median) | lean ms/batch (median) | plain / lean median | min-max | reps |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, t in times.items():
        ratios = [plain / lean for plain, lean in zip(t[False], t[True], strict=True)]
        rows.append(
            f"| {name} | {statistics.median(t[False]):.3f} | {statistics.median(t[True]):.3f} | "
            f"**{statistics.median(ratios):.3f}** | {min(ratios):.3f}-{max(ratios):.3f} | {reps} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "datasets" / "mnist"))
    parser.add_argument("--runs", nargs="+", default=RUNS, choices=RUNS)
    parser.add_argument("--reps", type=int, default=6, help="repetitions of each variant")
    parser.add_argument("--warmup", type=int, default=20, help="untimed batches before the window")
    parser.add_argument("--steps", type=int, default=200, help="timed batches per repetition")
    parser.add_argument("extra", nargs="*", help="more cli.py options for every run, after --")
    args = parser.parse_args(argv)
    table = run(args.runs, args.data_dir, args.reps, args.warmup, args.steps, args.extra)
    print(table)
    print(f"(NVML CUDA check per step in the plain runs: {NVML_CHECK}=1, as `import lightning` sets it)")
    return table


if __name__ == "__main__":
    main()
