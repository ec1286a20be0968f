"""Every benchmark the results page records, by purpose, with its full command and its tiny variant.

``python -m benchmarks`` (``benchmarks/__main__.py``) runs them. A command is what follows ``python``: a module of
this folder (``-m benchmarks.NAME ...``) or ``cli.py ...``. Placeholders: ``{data}`` is the MNIST folder (in the
quick mode, tiny generated files), ``{work}`` a temporary folder for runs and checkpoints. ``needs`` names what
an entry cannot run without: a Python module, or ``cuda`` for a GPU; without it the entry is skipped, saying why.
"""

from __future__ import annotations

from dataclasses import dataclass

PURPOSES = ("results", "robustness", "speed")

# Options that make any classifier fit tiny: the quick mode's data has 300 training and 100 test images.
TINY_FIT = ("--data.val_size", "44", "--data.batch_size", "32")


@dataclass(frozen=True)
class Benchmark:
    name: str  # the section's marker in docs/results.md: <!-- benchmark:NAME --> ... <!-- /benchmark:NAME -->
    purpose: str  # one of PURPOSES
    what: str  # one line: the question it answers
    commands: tuple[tuple[str, ...], ...]  # the full run, one command after the other
    quick: tuple[tuple[str, ...], ...] = ()  # the tiny variant (seconds): checks the path, not the figure
    no_quick: str = ""  # why there is no tiny variant, when there is none
    needs: tuple[str, ...] = ()  # importable modules, or "cuda"
    section: bool = True  # False: it writes a file (a figure), not a table of docs/results.md


def _seeds(command: tuple[str, ...], seeds: range) -> tuple[tuple[str, ...], ...]:
    return tuple((*command, "--", "--seed_everything", str(seed)) for seed in seeds)


def _mnist(preset: str, *options: str) -> tuple[str, ...]:
    return ("-m", "benchmarks.mnist_presets", preset, "--data-dir", "{data}", "--runs-dir", "{work}", *options)


def _dqn_run(config: str, seed: int, *extra: str) -> tuple[tuple[str, ...], ...]:
    """Fit one seed of an agent preset, then test its best checkpoint (``extra`` in both: a checkpoint refuses a
    configuration that differs from its own)."""
    run = ("--runs_dir", "{work}", "--run_name", f"seed{seed}", "--seed_everything", str(seed))
    quiet = ("--trainer.enable_progress_bar", "false")
    return (
        ("cli.py", "fit", "--config", config, *run, *quiet, *extra),
        ("cli.py", "test", "--config", config, *run, *quiet, *extra, "--ckpt_path", "best"),
    )


ANN_CKPT = "{work}/bench_ann/version_0/checkpoints/best.ckpt"
FIT_ANN = (
    *("cli.py", "fit", "--config", "mnist_ann", "--run_name", "bench_ann", "--runs_dir", "{work}"),
    *("--data.data_dir", "{data}", "--trainer.enable_progress_bar", "false"),
)

BENCHMARKS: tuple[Benchmark, ...] = (
    # --- results: what each preset reaches ---
    Benchmark(
        "mnist",
        "results",
        "test accuracy and time of every MNIST preset (seed 0; the speed presets and the best CNN over seeds 0-4)",
        (
            _mnist("mnist_ann"),
            _mnist("mnist_lstm"),
            _mnist("mnist_cnn", "--epochs", "1", "--", "--data.augment", "false"),  # = make demo
            _mnist("mnist_cnn", "--", "--config", "configs/overlays/fashion_mnist.yaml"),
            *_seeds(_mnist("mnist_cnn"), range(5)),
            *_seeds(_mnist("mnist_speedrun"), range(5)),
            *_seeds(_mnist("mnist_cnn_best"), range(5)),
        ),
        quick=(_mnist("mnist_speedrun", "--", *TINY_FIT, "--trainer.limit_train_batches", "2"),),
    ),
    Benchmark(
        "taxi",
        "results",
        "tabular Q-learning on Taxi-v4 over 8 seeds, against the optimum on the same seeds",
        (
            ("-m", "benchmarks.taxi_optimum"),
            ("-m", "benchmarks.taxi_seeds", "--seeds", *map(str, range(8))),
        ),
        quick=(
            ("-m", "benchmarks.taxi_optimum", "--val_episodes", "20", "--test_episodes", "20"),
            (
                "-m",
                "benchmarks.taxi_seeds",
                "--seeds",
                "0",
                "--trainer.max_epochs",
                "1",
                "--model.init_args.val_episodes",
                "20",
                "--model.init_args.test_episodes",
                "20",
            ),
        ),
    ),
    Benchmark(
        "cartpole_dqn",
        "results",
        "the CartPole presets to the full score over seeds 0-4 (1,000 unseen test episodes), and the ablation",
        (("-m", "benchmarks.cartpole_dqn"),),
        no_quick="each seed trains to the stop rule (minutes); tests/test_dqn_agent.py covers the path",
    ),
    Benchmark(
        "cartpole_v1_seeds",
        "results",
        "CartPole-v1 at scale: the v1 preset over 20 training seeds, each tested on 1,000 unseen episodes",
        (("-m", "benchmarks.cartpole_dqn", "--only", "solve", "--envs", "v1", "--seeds", *map(str, range(20))),),
        no_quick="each seed trains to the stop rule (minutes); tests/test_dqn_agent.py covers the path",
    ),
    Benchmark(
        "sb3",
        "results",
        "wall-clock to solve CartPole-v1: ours against Stable-Baselines3 with RL Zoo's settings, seeds 0-4",
        (("-m", "benchmarks.sb3_vs_ours", "--seeds", "0", "1", "2", "3", "4"),),
        no_quick="each seed trains to a solve (minutes)",
        needs=("stable_baselines3",),
    ),
    Benchmark(
        "cartpole_pixels",
        "results",
        "DQN on CartPole-v0 from rendered frames: the preset's 160,000 agent steps, seeds 0-2",
        tuple(c for seed in range(3) for c in _dqn_run("configs/cartpole_pixels_dqn.yaml", seed)),
        quick=_dqn_run(
            "configs/cartpole_pixels_dqn.yaml",
            0,
            *("--trainer.max_steps", "3", "--model.init_args.steps_per_epoch", "3"),
            *("--model.init_args.learning_starts", "40", "--model.init_args.val_episodes", "1"),
            *("--model.init_args.test_episodes", "1"),
        ),
        needs=("pygame",),
    ),
    Benchmark(
        "cartpole_pixels_seeds",
        "results",
        "the pixel preset with a decaying learning rate on 5 seeds it was not tuned on: 1,000-episode tests, one figure",
        (
            (
                *("-m", "benchmarks.pixel_seeds", "--seeds", "12", "13", "14", "15", "16", "--jobs", "2"),
                *("--model.init_args.lr_end", "5e-5"),
            ),
        ),
        quick=(
            (
                *("-m", "benchmarks.pixel_seeds", "--seeds", "12", "--quick"),
                *("--runs_dir", "{work}", "--figure", "{work}/seeds.png"),
            ),
        ),
        needs=("pygame", "matplotlib"),
    ),
    Benchmark(
        "pong",
        "results",
        "DQN on Atari Pong from pixels: 1M emulator frames (10 epochs), seeds 0 and 1",
        tuple(c for seed in range(2) for c in _dqn_run("configs/pong_dqn.yaml", seed, "--trainer.max_epochs", "10")),
        no_quick="an hour a seed on a CPU; the speed entry pong_throughput runs its agent's path",
        needs=("ale_py",),
    ),
    Benchmark(
        "own_images",
        "results",
        "accuracy kept when MNIST test digits are redrawn as photos and preprocessed back (ANN, 4 epochs)",
        (
            (*FIT_ANN, "--trainer.max_epochs", "4"),
            ("-m", "benchmarks.own_images", "--ckpt", ANN_CKPT, "--data-dir", "{data}", "--count", "2000"),
        ),
        quick=(
            (*FIT_ANN, "--trainer.max_epochs", "1", *TINY_FIT),  # one epoch: a validated best.ckpt
            ("-m", "benchmarks.own_images", "--ckpt", ANN_CKPT, "--data-dir", "{data}", "--count", "10"),
        ),
    ),
    # --- robustness: what a run survives ---
    Benchmark(
        "kill_resume",
        "robustness",
        "20 SIGKILLs, resumed each time: final weights and optimizer bit-identical to a run never killed",
        (
            ("-m", "benchmarks.kill_resume", "classifier", "--kills", "20"),
            ("-m", "benchmarks.kill_resume", "dqn", "--kills", "20"),
        ),
        no_quick="its reference run alone takes minutes; tests/test_crash_safety.py kills runs in the suite",
    ),
    Benchmark(
        "steady_memory",
        "robustness",
        "resident memory of a 200,000-step DQN run levels off",
        (("-m", "benchmarks.steady_memory", "dqn"),),
        no_quick="the point is a long run",
    ),
    Benchmark(
        "serve_load",
        "robustness",
        "the drawing page's server: 200 concurrent requests, 150 stalled bodies, RSS over 10,000 requests",
        (("-m", "benchmarks.serve_load"),),
        quick=(
            (
                "-m",
                "benchmarks.serve_load",
                "--concurrent",
                "5",
                "--stalled",
                "2",
                "--body-timeout",
                "1",
                "--requests",
                "40",
                "--max-growth-mib",
                "50",
            ),
        ),
    ),
    Benchmark(
        "torchrun",
        "robustness",
        "2 nodes x 1 process with torchrun on 127.0.0.1: one run folder, and a SIGKILLed run resumed",
        (("-m", "benchmarks.torchrun_two_nodes", "--data-dir", "{data}"),),
        no_quick="two torchrun launches with DDP start-up (a minute); tests/test_ddp.py covers DDP",
    ),
    # --- speed: what it costs ---
    Benchmark(
        "lightning_floor",
        "speed",
        "the shipped cli.py fit and a bare LightningModule against a hand-written loop (the ANN, CPU)",
        (("-m", "benchmarks.lightning_floor", "--data-dir", "{data}"),),
        quick=(
            (
                "-m",
                "benchmarks.lightning_floor",
                "--data-dir",
                "{data}",
                "--reps",
                "1",
                "--warmup",
                "1",
                "--steps",
                "3",
                "--",
                *TINY_FIT,
            ),
        ),
    ),
    Benchmark(
        "classic_control",
        "results",
        "one DQN on Acrobot, MountainCar and LunarLander against RL Zoo's targets, 3 seeds, with SB3 side by side",
        (("-m", "benchmarks.classic_control", "--seeds", "0", "1", "2", "--sb3", "--runs_dir", "{work}"),),
        quick=(("-m", "benchmarks.classic_control", "--quick", "--runs_dir", "{work}"),),
        needs=("Box2D", "stable_baselines3"),
    ),
    Benchmark(
        "dqn_story",
        "results",
        "plain DQN, then frame skip/stack, replay and a target network, each added: one figure of learning curves",
        (("-m", "benchmarks.dqn_story", "--out", "docs/dqn_story.png"),),
        quick=(("-m", "benchmarks.dqn_story", "--quick", "--out", "{work}/dqn_story.png"),),
        needs=("matplotlib",),
        section=False,
    ),
    Benchmark(
        "speed_chart",
        "speed",
        "the bar chart of Lightning against the hand-written loop, drawn from the recorded table",
        (("-m", "benchmarks.speed_chart", "--out", "docs/lightning_vs_hand.png"),),
        quick=(("-m", "benchmarks.speed_chart", "--out", "{work}/lightning_vs_hand.png"),),
        needs=("matplotlib",),
        section=False,
    ),
    Benchmark(
        "overhead",
        "speed",
        "cli.py fit against a hand-written loop for the ANN, CNN and LSTM (CPU)",
        (("-m", "benchmarks.overhead", "--data-dir", "{data}"),),
        quick=(
            (
                "-m",
                "benchmarks.overhead",
                "--data-dir",
                "{data}",
                "--models",
                "ANN",
                "--reps",
                "1",
                "--warmup",
                "1",
                "--steps",
                "3",
                "--",
                *TINY_FIT,
            ),
        ),
    ),
    Benchmark(
        "fused_step",
        "speed",
        "whole training steps with torch's default AdamW and the fused one",
        (("-m", "benchmarks.fused_step"),),
        quick=(("-m", "benchmarks.fused_step", "--models", "ANN", "--steps", "2", "--reps", "1"),),
    ),
    Benchmark(
        "lean_loop",
        "speed",
        "what each piece of the lean loop buys per DQN update on CartPole (no-op profiler, cached CUDA check)",
        tuple(
            ("-m", "benchmarks.lean_loop", "--runs", "DQN CartPole", "--switch", piece, "--blocks", "60")
            for piece in ("profiler", "nvml")
        ),
        quick=(
            (
                "-m",
                "benchmarks.lean_loop",
                "--data-dir",
                "{data}",
                "--runs",
                "ANN, 8-wide",
                "--warmup",
                "1",
                "--block",
                "1",
                "--blocks",
                "2",
                "--",
                *TINY_FIT,
            ),
        ),
    ),
    Benchmark(
        "gpu",
        "speed",
        "images/s per switch, Lightning / hand-written, the speed presets and DQN steps/s on a GPU",
        (("-m", "benchmarks.gpu", "--data-dir", "{data}"),),
        no_quick="tests/test_benchmark_smoke.py runs its --tiny mode on the CPU",
        needs=("cuda",),
    ),
    Benchmark(
        "cartpole_vector",
        "speed",
        "DQN acting throughput and time to solve CartPole-v1 for 1, 4, 16 and 64 environments",
        (("-m", "benchmarks.cartpole_vector", "--seeds", "0", "1", "2"),),
        no_quick="each setting trains to a solve (minutes)",
    ),
    Benchmark(
        "cartpole_ddp",
        "speed",
        "DQN on CartPole-v0 with 1 and 2 processes (DDP on the CPU): time to solve",
        (("-m", "benchmarks.cartpole_ddp"),),
        no_quick="each run trains to a solve (minutes); tests/test_dqn_ddp.py covers the path",
    ),
    Benchmark(
        "pong_throughput",
        "speed",
        "Pong: environment frames/s and Nature-CNN updates/s on this machine",
        (("-m", "benchmarks.pong_throughput", "--steps", "1000", "--updates", "50"),),
        quick=(("-m", "benchmarks.pong_throughput", "--steps", "40", "--updates", "2", "--batch-size", "8"),),
        needs=("ale_py",),
    ),
    Benchmark(
        "frame_replay_memory",
        "speed",
        "memory of a 1M-transition Atari replay buffer that stores each frame once",
        (("-m", "benchmarks.frame_replay_memory", "--capacity", "1000000"),),
        quick=(("-m", "benchmarks.frame_replay_memory", "--capacity", "2000", "--episode", "100", "--size", "16"),),
    ),
    Benchmark(
        "taxi_core_speed",
        "speed",
        "the plain numpy Q-learning loop on Taxi, no Lightning: env steps/s",
        (("-m", "benchmarks.taxi_core_speed", "--repeats", "2"),),
        quick=(("-m", "benchmarks.taxi_core_speed", "--episodes", "100", "--repeats", "1"),),
    ),
)

BY_NAME = {benchmark.name: benchmark for benchmark in BENCHMARKS}
