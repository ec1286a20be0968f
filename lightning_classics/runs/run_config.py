"""``validate``/``test``/``predict`` on a run start from the configuration the run was trained with.

``fit`` saves its whole configuration as ``<run folder>/config.yaml``. An evaluation that names a run's checkpoint
(``--run_name NAME --ckpt_path best|last``, or ``--ckpt_path`` of a file inside a run folder) reads that file
first, as if ``--config <run folder>/config.yaml`` came right after the subcommand: the model, environment and
data are the trained ones without repeating a dozen options, and every option given on the command line (a
``--config`` preset too) still overrides it, under the checkpoint checks of lightning_classics/runs/checkpoint_match.py.
Where the run ran is not part of what it trained: the Trainer's ``accelerator``, ``devices``, ``strategy`` and
``num_nodes`` go back to the CLI's defaults (a run trained with DDP on 2 GPUs is evaluated where it is evaluated).

The run is found before the arguments are parsed (parsing needs the model the file names), from the options on
the command line and the keys of the ``--config`` files it gives, the later winning as in the parser itself.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from lightning_classics.runs.folders import NAMED_CHECKPOINTS, RunFolder, check_run_name, existing_run, run_of_checkpoint

SAVED_CONFIG = "config.yaml"  # what LightningCLI's SaveConfigCallback writes into the run folder (its log_dir)
EVAL_SUBCOMMANDS = ("validate", "test", "predict")
SUBCOMMANDS = ("fit", *EVAL_SUBCOMMANDS)
_NO_MODEL = re.compile(r"required: (validate|test|predict)\.model\b")
RUN_OPTIONS = {"run_name": "default", "runs_dir": "runs", "version": None, "ckpt_path": None}  # and defaults


def saved_config(run: RunFolder) -> Path | None:
    """The configuration ``fit`` saved in the run folder, if it is there."""
    path = run.path / SAVED_CONFIG
    return path if path.is_file() else None


def saved_config_of_checkpoint(ckpt_path: str | Path) -> Path | None:
    """The saved configuration of the run a checkpoint file belongs to, if it belongs to one that has it."""
    run = run_of_checkpoint(Path(ckpt_path))
    return saved_config(run) if run is not None else None


def _run_options_of_file(value: str) -> dict[str, Any]:
    """The run options a ``--config`` file sets (nothing for inline YAML or a file that does not parse)."""
    path = Path(value)
    if not path.is_file():
        return {}
    try:
        content = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}  # the parser reports it, in its own words
    if not isinstance(content, dict):
        return {}
    return {key: content[key] for key in RUN_OPTIONS if key in content}


def run_options(args: list[str]) -> dict[str, Any]:
    """``run_name``, ``runs_dir``, ``version`` and ``ckpt_path`` as the command gives them (else their defaults)."""
    found = dict(RUN_OPTIONS)
    i = 0
    while i < len(args):
        flag, has_inline, inline = args[i].partition("=")
        key = flag.removeprefix("--")
        if flag.startswith("--") and (key in RUN_OPTIONS or key == "config"):
            if not has_inline:
                if i + 1 == len(args):
                    break
                i += 1
            value = inline if has_inline else args[i]
            if key == "config":
                found.update(_run_options_of_file(value))
            else:
                found[key] = None if value in ("null", "None") else value
        i += 1
    return found


def run_to_evaluate(args: list[str]) -> RunFolder | None:
    """The run whose checkpoint an evaluation command's ``args`` (after the subcommand) name, if any.

    A run named with ``--ckpt_path best|last`` that does not exist is the one-line error of ``existing_run``."""
    options = run_options(args)
    ckpt_path = options["ckpt_path"]
    if ckpt_path is None:
        return None
    if str(ckpt_path) in NAMED_CHECKPOINTS:
        version = options["version"]
        if version is not None and not str(version).isdigit():
            return None  # the parser says what is wrong with it
        check_run_name(str(options["run_name"]))
        number = None if version is None else int(version)
        return existing_run(Path(str(options["runs_dir"])), str(options["run_name"]), number, "evaluate")
    path = Path(str(ckpt_path))
    return run_of_checkpoint(path) if path.is_file() else None


def with_run_config(args: list[str], where_it_runs: dict[str, Any]) -> tuple[list[str], Path | None]:
    """``args`` with ``--config <run folder>/config.yaml`` right after an evaluation subcommand that names a run's
    checkpoint, then ``where_it_runs`` (Trainer options, the defaults) over the file's; and that file. Other
    commands, and runs without a saved configuration, get ``args`` and ``None``."""
    if "-h" in args or "--help" in args:
        return args, None
    where = next((i for i, arg in enumerate(args) if arg in SUBCOMMANDS), None)
    if where is None or args[where] not in EVAL_SUBCOMMANDS:
        return args, None
    run = run_to_evaluate(args[where + 1 :])
    config = saved_config(run) if run is not None else None
    if config is None or str(config) in args:  # a DDP launcher's re-run of a command line that has it already
        return args, None
    resets = [item for key, value in where_it_runs.items() for item in (f"--trainer.{key}", str(value))]
    return [*args[: where + 1], "--config", str(config), *resets, *args[where + 1 :]], config


def no_model_hint(parse_error: str) -> str:
    """For an evaluation that names no model (nor a run's checkpoint): how to evaluate a run with its own config."""
    if not _NO_MODEL.search(" ".join(parse_error.split())):
        return ""
    return (
        "; to evaluate a run, name its checkpoint (--run_name NAME --ckpt_path best|last, or --ckpt_path FILE in a "
        "run folder) and its saved config.yaml is used; else pass --config PRESET"
    )
