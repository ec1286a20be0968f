"""Every command in the README's code blocks runs as written, on a copy of the tree with tiny data.

Each command is looked up in ``HOW`` by its text (comment stripped, spaces collapsed): either options appended to
shorten it (a few steps instead of a whole training run; later options override earlier ones, so what the README
wrote still has to parse and build), or the reason it is skipped here. A README command missing from ``HOW`` fails
the test: a new command gets an entry, so no command in the README goes untried. ``$DATA`` is a folder of tiny
MNIST-format files; the commands run one after another in README order, so later ones find earlier runs' files.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.helpers import ROOT, predictions_file
from tests.mnist_fixtures import write_mnist_files

README = ROOT / "README.md"

SHORT_FIT = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "2"]
QUIET = ["--trainer.enable_progress_bar", "false"]
# The same in fit and test: a checkpoint refuses a configuration that differs from its own in these.
SHORT_TAXI = ["--model.init_args.episodes_per_epoch", "20", "--model.init_args.val_episodes", "20"]
SHORT_TAXI += ["--model.init_args.test_episodes", "20"]
SHORT_DQN = ["--model.init_args.steps_per_epoch", "8", "--model.init_args.learning_starts", "64"]
SHORT_DQN += ["--model.init_args.val_episodes", "2", "--model.init_args.test_episodes", "2"]

HOW: dict[str, list[str] | str] = {
    "make install": "set-up: creates .venv with pip (network)",
    "make demo DATA=$DATA": "set-up: make install first (network); its sample output is checked below",
    "python cli.py fit --config mnist_cnn --data.data_dir $DATA": [*SHORT_FIT, *QUIET],
    "python cli.py fit --config mnist_cnn --data.data_dir $DATA --trainer.max_epochs 14 --ckpt_path last": [
        *SHORT_FIT[2:], "--trainer.max_epochs", "2", *QUIET,
    ],
    "python cli.py test --config mnist_cnn --data.data_dir $DATA --ckpt_path last": QUIET,
    "python cli.py fit --config mnist_cnn --config overlays/fashion_mnist --data.data_dir $DATA": [*SHORT_FIT, *QUIET],
    "python cli.py predict --config tiny_net --data.predict_inputs '[[1, 2, 3]]'": [],
    "python cli.py fit --config mnist_cnn --print_config > my.yaml": [],
    "python cli.py fit --model.help CNN": [],
    "python cli.py predict --config mnist_cnn --data.data_dir $DATA --ckpt_path best --data.predict_path my_digits/": [],
    "python cli.py test --config mnist_cnn --data.data_dir $DATA --ckpt_path best": QUIET,
    "python -m lightning_classics.plots.curves runs/mnist_cnn": [],
    "python -m lightning_classics.inference.export --ckpt runs/mnist_cnn/version_0/checkpoints/best.ckpt --format onnx": [],
    "python -m lightning_classics.inference.serve --ckpt runs/mnist_cnn/version_0/checkpoints/best.ckpt": (
        "a server that runs until stopped; tests/test_serve.py drives it"
    ),
    "python cli.py fit --config taxi_qlearning": ["--trainer.max_epochs", "1", *SHORT_TAXI, *QUIET],
    "python cli.py test --config taxi_qlearning --ckpt_path best": [*SHORT_TAXI, *QUIET],
    "python cli.py fit --config cartpole_dqn": ["--trainer.max_epochs", "1", *SHORT_DQN, *QUIET],
    "python cli.py test --config cartpole_dqn --ckpt_path best": [*SHORT_DQN, *QUIET],
    "python cli.py fit --config cartpole_dqn --config overlays/cartpole_v1": ["--trainer.max_epochs", "1", *SHORT_DQN],
    "python cli.py fit --config cartpole_dqn --model.init_args.double_dqn false": [
        "--trainer.max_epochs", "1", *SHORT_DQN, *QUIET,
    ],
    "python -m rl.play --ckpt runs/cartpole_dqn/version_0/checkpoints/best.ckpt --seed 3 --record cartpole.gif": [],
    "python -m rl.play --random --env CartPole-v0 --seed 3 --record random.gif": [],
}  # fmt: skip
NEEDS = {"--format onnx": "onnxscript", "--record": "pygame"}  # optional extras a command cannot run without


def readme_commands() -> list[str]:
    """The commands of the README's ```bash blocks, each with its trailing comment stripped, spaces collapsed."""
    blocks = re.findall(r"^```bash\n(.*?)^```", README.read_text(), flags=re.DOTALL | re.MULTILINE)
    commands = []
    for line in "\n".join(blocks).replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if words:  # shlex keeps quoted words whole: re-quote them as the README wrote them
            commands.append(" ".join(w if re.fullmatch(r"[\w$@%+=:,./>-]+", w) else f"'{w}'" for w in words))
    return commands


def demo_sample() -> list[str]:
    """The lines the README says the demo ends with (the plain code block after 'The demo ends with:')."""
    text = README.read_text().split("The demo ends with:", 1)[1]
    return text.split("```\n", 2)[1].strip().splitlines()


def sample_pattern(line: str) -> re.Pattern[str]:
    """A sample line as a pattern: '...' stands for anything, a number written '0.98..' for any number."""
    parts = []
    for piece in re.split(r"(\.\.\.|\d[\d.]*)", line):
        if piece == "...":
            parts.append(".+")
        elif piece and piece[0].isdigit():
            parts.append(r"[\d.]+")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts))


def copy_of_the_tree(dest: Path) -> Path:
    """What a fresh clone holds: the tracked files and the new ones git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True
    )
    assert listed.returncode == 0, listed.stderr
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(source.read_bytes())
    return dest


def my_digits(folder: Path) -> None:
    """Two photos of digits as a user might take them: dark ink on light paper, not 28x28."""
    folder.mkdir()
    for name, stroke in (("one.png", [(30, 10), (30, 70)]), ("seven.png", [(10, 10), (50, 10), (25, 70)])):
        image = Image.new("RGB", (60, 80), (230, 230, 225))
        ImageDraw.Draw(image).line(stroke, fill=(20, 20, 20), width=6)
        image.save(folder / name)


def test_every_readme_command_has_an_entry():
    missing = [command for command in readme_commands() if command not in HOW]
    assert not missing, f"README commands without an entry in tests/test_readme.py HOW: {missing}"


def test_the_demo_sample_is_what_the_demo_prints_in_shape():
    printed = "Run folder: runs/demo/version_0\nTest results: {'test/loss': 0.12, 'test/acc': 0.9871} from x"
    assert sample_pattern("Run folder: runs/demo/version_0").fullmatch(printed.splitlines()[0])
    assert sample_pattern("Test results: {'test/loss': ..., 'test/acc': 0.99..} from ...").fullmatch(
        printed.splitlines()[1]
    )
    assert not sample_pattern("Run folder: runs/demo/version_0").fullmatch("Run folder: runs/demo/version_1x")


@pytest.mark.slow  # about twenty commands, each a fresh Python process
def test_every_readme_command_runs_on_a_fresh_copy(tmp_path):
    tree = copy_of_the_tree(tmp_path / "tree")
    data = write_mnist_files(tmp_path / "mnist", train=5300, test=100)  # the presets' 5,000 validation images fit
    my_digits(tree / "my_digits")
    env = {**os.environ, "DATA": str(data), "MPLBACKEND": "Agg"}
    ran = []
    for command in readme_commands():
        how = HOW[command]
        if isinstance(how, str):
            continue  # skipped: the reason is in HOW
        missing = [module for flag, module in NEEDS.items() if flag in command and not importlib.util.find_spec(module)]
        if missing:
            continue
        words = [str(data) if w == "$DATA" else w for w in shlex.split(command)]
        out_file = None
        if ">" in words:
            words, out_file = words[: words.index(">")], tree / words[words.index(">") + 1]
        assert words[0] == "python", command
        done = subprocess.run([sys.executable, *words[1:], *how], cwd=tree, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        if out_file is not None:
            out_file.write_text(done.stdout)
        ran.append(command)
    assert len(ran) >= 15, ran
    assert predictions_file(tree / "runs" / "mnist_cnn" / "version_0").is_file()  # the own-images command
    assert (tree / "cartpole.gif").stat().st_size > 0 and (tree / "random.gif").stat().st_size > 0
    # "a config that runs as is": the printed config is a config the CLI takes back
    check = [sys.executable, "cli.py", "fit", "--config", "my.yaml", "--print_config"]
    assert subprocess.run(check, cwd=tree, env=env, capture_output=True).returncode == 0


@pytest.mark.slow  # one epoch of the CNN on tiny data, and its test
def test_the_demo_prints_what_the_readme_shows(tmp_path):
    """The Makefile's demo commands (without the venv set-up), shortened: every sample line appears, in order."""
    data = write_mnist_files(tmp_path / "mnist", train=5300, test=100)
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ndemo: install\n", 1)[1].split("\n\n", 1)[0]
    printed = ""
    for command in recipe.replace("\\\n", " ").splitlines():
        words = shlex.split(command.replace("$(BIN)/python", "python").replace("$(RUNS)", str(tmp_path / "runs")))
        words = [str(data) if w == "$(DATA)" else w for w in words]
        assert words[0] == "python", command
        args = [str(ROOT / "cli.py"), *words[2:], *(SHORT_FIT[2:] if "fit" in words else [])]
        # results on stdout, diagnostics (the "Saved" pictures) on stderr: merged, as a terminal shows them
        # unbuffered: a pipe would hold stdout back while stderr goes straight through, reordering the lines
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        done = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert done.returncode == 0, done.stdout[-3000:]
        printed += done.stdout
    lines = [line.replace(str(tmp_path) + "/", "") for line in printed.splitlines()]
    position = 0
    for sample in demo_sample():
        pattern = sample_pattern(sample)
        found = next((i for i in range(position, len(lines)) if pattern.fullmatch(lines[i].strip())), None)
        assert found is not None, f"the README's demo line {sample!r} is not printed (after line {position})"
        position = found + 1
