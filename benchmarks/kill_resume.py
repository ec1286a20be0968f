"""Kill a training run with SIGKILL again and again, resume it each time, and check it ends where a run never
killed ends: the same final weights and optimizer state, bit for bit.

    .venv/bin/python -m benchmarks.kill_resume classifier --kills 20
    .venv/bin/python -m benchmarks.kill_resume mnist --data-dir data --kills 20               # sampler data path
    .venv/bin/python -m benchmarks.kill_resume mnist_on_device --data-dir data --kills 20     # device data path
    .venv/bin/python -m benchmarks.kill_resume dqn --kills 20

The two MNIST targets run the same preset on the two training data paths: a DataLoader with ``EpochShuffleSampler``
and the device-resident ``DeviceBatchLoader`` (the default on a GPU; forced here, so it runs on the CPU too).

Every second kill waits for a new checkpoint write to begin (a ``.partial-`` file in the checkpoint folder that
was not left there by an earlier kill) and kills the process in the middle of it; the others wait until the resumed
run has written a new ``last.ckpt`` (so every such resume makes progress) and then kill at a random moment up to
``--max-delay`` seconds later. ``$TMPDIR`` points at a small tmpfs, i.e. another filesystem than the run folder (the
setup in which Lightning's own saves were not atomic). After every kill each checkpoint of the run must load with
``torch.load(weights_only=True)``; at the end the weights, the optimizer and (DQN) the replay buffer, counters,
environments and RNGs must equal the uninterrupted run's.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
DETERMINISTIC = ["--trainer.deterministic", "true", "--trainer.enable_progress_bar", "false", "--seed_everything", "7"]
MNIST_RUN = [
    *["--trainer.max_epochs", "2", "--model.init_args.hidden_sizes", "[64, 32, 32]"],
    *["--checkpoint_every_n_steps", "20"],
]
TARGETS = {
    # The tiny_net classifier preset on 5 epochs of 20,000 points (313 batches each), a checkpoint every 20 batches:
    # seconds per attempt, so 20 kills fit in minutes on a busy 2-core machine, and the run is long enough that
    # the random kills (each after a new checkpoint) do not reach its end before the 20th.
    "classifier": (
        "tiny_net",
        [
            *["--trainer.max_epochs", "5", "--data.train_size", "20000"],
            *["--checkpoint_every_n_steps", "20"],
        ],
    ),
    # The MNIST MLP, narrowed so that a step costs little, on 2 epochs of its 55,000 training images (430 batches
    # each), a checkpoint every 20 batches, on each training data path (the reproduction: resuming the
    # device path from a mid-epoch checkpoint failed with an AssertionError).
    "mnist": ("mnist_ann", [*MNIST_RUN, "--data.on_device", "false"]),
    "mnist_on_device": ("mnist_ann", [*MNIST_RUN, "--data.on_device", "true"]),
    # The Double-DQN preset (16 environments) for 40 epochs (10,000 updates, 40,000 agent steps), a checkpoint every
    # 200 updates. It trains hundreds of updates per second, hence the short default --max-delay (0.3 s): the
    # random kills do not reach the end before the 20th.
    "dqn": (
        "cartpole_dqn",
        [
            *["--trainer.max_epochs", "40", "--model.init_args.stop_return", "null"],
            *["--model.init_args.val_episodes", "10", "--checkpoint_every_n_steps", "200"],
        ],
    ),
}


def command(target: str, runs: Path, data_dir: str | None, *extra: str) -> list[str]:
    preset, options = TARGETS[target]
    args = [sys.executable, "cli.py", "fit", "--config", f"configs/{preset}.yaml", "--runs_dir", str(runs)]
    if preset.startswith("mnist"):
        args += ["--data.data_dir", data_dir or "data"]
    return [*args, *DETERMINISTIC, *options, *extra]


def final_state(checkpoint: Path) -> dict:
    saved = torch.load(checkpoint, weights_only=True)
    return {
        "state_dict": saved["state_dict"],
        "optimizer_states": saved["optimizer_states"],
        "step": saved["global_step"],
        "agent_state": saved.get("agent_state"),  # the DQN's buffer, counters, environments and RNGs
    }


def identical(a: object, b: object) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return (
            isinstance(b, list | tuple) and len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b, strict=True))
        )
    return a == b


def all_checkpoints_load(folder: Path) -> tuple[bool, int]:
    files = sorted(folder.glob("*.ckpt"))
    for path in files:
        try:
            torch.load(path, weights_only=True)
        except Exception as err:
            print(f"  UNLOADABLE {path}: {err}")
            return False, len(files)
    return True, len(files)


def ended(process: subprocess.Popen) -> bool:
    return process.poll() is not None


def first_checkpoint_or_end(checkpoints: Path, process: subprocess.Popen) -> bool:
    return (checkpoints / "last.ckpt").exists() or ended(process)


def partial_files(checkpoints: Path) -> set[str]:
    return {path.name for path in checkpoints.glob(".*.partial-*")}


def write_begun_or_end(checkpoints: Path, leftovers: set[str], process: subprocess.Popen) -> bool:
    return bool(partial_files(checkpoints) - leftovers) or ended(process)


def new_checkpoint_or_end(last: Path, before: int, process: subprocess.Popen) -> bool:
    return (last.exists() and last.stat().st_mtime_ns != before) or ended(process)


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.001)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("target", choices=sorted(TARGETS))
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    parser.add_argument("--data-dir", default=None, help="folder with the MNIST files (mnist, mnist_on_device)")
    parser.add_argument("--work", default=None, help="folder for the runs (default: a temporary folder)")
    parser.add_argument("--max-delay", type=float, default=0.3, help="latest random kill, s after a new checkpoint")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(args.work or tempfile.mkdtemp(prefix="kill-resume-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    tmpfs = work / "tmpfs"
    tmpfs.mkdir(exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(tmpfs)]).returncode == 0:
        env["TMPDIR"] = str(tmpfs)  # another filesystem than the run folder
    preset = TARGETS[args.target][0]

    started = time.monotonic()
    reference = subprocess.run(
        command(args.target, work / "reference", args.data_dir), cwd=ROOT, env=env, capture_output=True, text=True
    )
    if reference.returncode != 0:
        sys.exit(f"reference run failed:\n{reference.stderr[-3000:]}")
    reference_seconds = time.monotonic() - started
    expected = final_state(work / "reference" / preset / "version_0/checkpoints/last.ckpt")

    runs = work / "killed"
    checkpoints = runs / preset / "version_0/checkpoints"
    kills = during_write = loadable_after_kill = progressed = 0
    resume: list[str] = []
    last = checkpoints / "last.ckpt"
    started = time.monotonic()
    while kills < args.kills:
        leftovers = partial_files(checkpoints) if checkpoints.exists() else set()  # of earlier kills
        step_before = torch.load(last, weights_only=True)["global_step"] if last.exists() else -1
        process = subprocess.Popen(
            command(args.target, runs, args.data_dir, *resume),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if not resume:  # the first run: the first checkpoint must exist before a kill can be resumed from
            wait_for(partial(first_checkpoint_or_end, checkpoints, process), 600)
        in_write = kills % 2 == 1
        if in_write:
            wait_for(partial(write_begun_or_end, checkpoints, leftovers, process), 600)
        else:  # after the resumed process has written a new checkpoint (progress), at a random moment
            before = last.stat().st_mtime_ns if last.exists() else 0
            wait_for(partial(new_checkpoint_or_end, last, before, process), 600)
            wait_for(partial(ended, process), rng.uniform(0.0, args.max_delay))
        if process.poll() is not None:
            print(f"  run finished before kill {kills + 1}; starting over is not needed, resuming the rest")
            break
        process.kill()
        process.wait()
        kills += 1
        struck_write = bool(partial_files(checkpoints) - leftovers)  # the kill left a new temporary file behind
        during_write += int(in_write and struck_write)
        ok, count = all_checkpoints_load(checkpoints)
        loadable_after_kill += int(ok)
        step = torch.load(last, weights_only=True)["global_step"] if ok else -1
        progressed += int(step > step_before)
        what = "during a write" if in_write else "random moment"
        print(
            f"kill {kills:2d} ({what}, inside a write: {struck_write}): {count} checkpoints, all loadable: {ok}, "
            f"last.ckpt at step {step} (before this attempt: {step_before})",
            flush=True,
        )
        resume = ["--ckpt_path", "last"]
    final = subprocess.run(
        command(args.target, runs, args.data_dir, "--ckpt_path", "last"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if final.returncode != 0:
        sys.exit(f"final resume failed:\n{final.stderr[-3000:]}")
    leftovers = partial_files(checkpoints)
    got = final_state(checkpoints / "last.ckpt")
    same = identical(got, expected)
    print(
        f"\n{args.target} ({preset}): {kills} SIGKILLs ({during_write} inside a checkpoint write), "
        f"last.ckpt advanced in {progressed}/{kills} killed attempts, "
        f"checkpoints loadable after {loadable_after_kill}/{kills} kills, temporary files left: {len(leftovers)}, "
        f"final step {got['step']} (reference {expected['step']}), final weights and optimizer identical: {same}; "
        f"reference run {reference_seconds:.0f} s, killed-and-resumed runs {time.monotonic() - started:.0f} s"
    )
    subprocess.run(["umount", str(tmpfs)], capture_output=True)
    if kills < args.kills:
        print(f"only {kills} of {args.kills} kills: the run ended first (make it longer or --max-delay shorter)")
    if not same or loadable_after_kill != kills or kills < args.kills:
        sys.exit(1)


if __name__ == "__main__":
    main()
