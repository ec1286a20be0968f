"""The one way this project reads a checkpoint: ``cli.py``, Lightning's own restore, ``rl.play``, export, serve.

Reading verifies the file's checksum (lightning_classics/runs/checkpoint_checksum.py) and unpickles with
``weights_only=True``: tensors and plain values only, so nothing in the file can run code. Building a model from a
checkpoint resolves its class path among the model classes its caller passes (``model_classes(lightning_modules,
rl)``: this module sits below the models and imports none of them): a module a checkpoint names is never imported
(an import runs the module's code), and neither is its ``_instantiator``. Every problem is one line (``UserError``)
that names the file.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import lightning as L
import torch
from lightning.pytorch.cli import instantiate_module

from lightning_classics.runs.checkpoint_checksum import ChecksumMismatch, ChecksumMissing, verify_checksum
from lightning_classics.runs.errors import UserError

# What LightningCLI writes as ``_instantiator``; the model is built with it (jsonargparse checks every type).
CLI_INSTANTIATOR = "lightning.pytorch.cli.instantiate_module"
_noticed: set[Path] = set()  # checkpoints without a checksum already reported: one notice per file and process
Model = TypeVar("Model", bound=L.LightningModule)
ModelClasses = Mapping[str, type[L.LightningModule]]  # the classes a checkpoint may name, by every name it may use


def model_classes(*packages: ModuleType) -> dict[str, type[L.LightningModule]]:
    """The LightningModules the ``packages`` export (their ``__all__``) by every name a checkpoint may give them
    (short, package and module path); callers pass this project's model packages, ``lightning_modules`` and ``rl``."""
    classes: dict[str, type[L.LightningModule]] = {}
    for package in packages:
        for name in package.__all__:
            cls = getattr(package, name)
            if isinstance(cls, type) and issubclass(cls, L.LightningModule):
                for key in (name, f"{package.__name__}.{name}", f"{cls.__module__}.{cls.__qualname__}"):
                    classes[key] = cls
    return classes


def model_class(class_path: Any, source: str, classes: ModelClasses) -> type[L.LightningModule]:
    """The model of ``classes`` that ``class_path`` names; anything else is refused without importing it."""
    if not isinstance(class_path, str) or class_path not in classes:
        known = sorted({cls.__name__ for cls in classes.values()})
        raise UserError(
            f"{source} names the class {class_path!r}, which is not one of this project's models ({', '.join(known)}); "
            "it is not imported"
        )
    return classes[class_path]


def _unreadable(err: Exception) -> str:
    """Why torch could not read the file, in words that never suggest unpickling arbitrary objects (torch's own
    message for a weights-only failure advises ``weights_only=False``: that advice is never repeated)."""
    text = str(err)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()] or [type(err).__name__]
    if "Weights only load failed" in text:
        if "global" in text.lower():  # the pickle names a function or class
            return (
                "it holds objects other than tensors and plain values (a raw pickle, not a checkpoint of this "
                "project), which are never unpickled here; pass a checkpoint written by `cli.py fit`"
            )
        lines = [line for line in lines if line.startswith("WeightsUnpickler error")] or ["not written by torch.save"]
    return f"not a readable PyTorch checkpoint (truncated or another kind of file: {lines[0][:200]})"


def read_checkpoint(path: str | Path, option: str = "--ckpt_path", map_location: Any = "cpu") -> dict[str, Any]:
    """The checkpoint dict in ``path``, checksum verified, loaded with ``weights_only=True``; a one-line
    ``UserError`` for a missing, foreign, damaged or unreadable file."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{option} {path} does not exist: pass a .ckpt file, or best/last for this run's checkpoints")
    if path.is_dir():
        raise UserError(f"{option} {path} is a folder, not a checkpoint file")
    if not path.is_file():
        raise UserError(f"{option} {path} is not a regular file (a device or a pipe): pass a .ckpt file")
    try:
        file = open(path, "rb")  # noqa: SIM115 (closed by the `with` below, after the error of open is handled)
    except OSError as err:
        raise UserError(f"{option} {path} cannot be read ({err.strerror or err})") from err
    with file, warnings.catch_warnings():
        # torch's note on a raw pickle's protocol: the file is refused below in one line anyway
        warnings.filterwarnings("ignore", message=r"Detected pickle protocol", category=UserWarning)
        try:
            kind = verify_checksum(file)
            checkpoint = torch.load(file, map_location=map_location, weights_only=True)
        except ChecksumMissing as missing:
            # Truncated files end this way too, and torch's error says more about them; one it reads is damaged.
            try:
                torch.load(file, map_location="meta", weights_only=True)
            except Exception as err:
                raise UserError(f"{option} {path}: {_unreadable(err)}") from err
            raise UserError(f"{option} {path} is damaged: {missing}; use another copy or checkpoint") from missing
        except ChecksumMismatch as err:
            raise UserError(f"{option} {path} is damaged: {err}; use another copy or checkpoint") from err
        except Exception as err:  # torch raises RuntimeError, UnpicklingError, EOFError, ... depending on the damage
            raise UserError(f"{option} {path}: {_unreadable(err)}") from err
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise UserError(f"{option} {path} is a PyTorch file but not a Lightning checkpoint (no state_dict)")
    if kind == "no checksum" and path.resolve() not in _noticed:
        _noticed.add(path.resolve())
        print(
            f"notice: {path} has no checksum (written before checksums existed); it is loaded unverified",
            file=sys.stderr,
        )
    return checkpoint


def hyper_parameters(checkpoint: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """The checkpoint's hyper-parameters: a dict with string keys, or a one-line error."""
    saved = checkpoint.get("hyper_parameters", {})
    if not isinstance(saved, dict) or not all(isinstance(key, str) for key in saved):
        raise UserError(
            f"checkpoint {path} holds hyper-parameters of type {type(saved).__name__}, not a dict of named values: "
            "it was not written by `cli.py fit`"
        )
    return dict(saved)


def check_state_dict(checkpoint: dict[str, Any], model: L.LightningModule, path: str | Path) -> None:
    """Refuse weights whose names or shapes differ from ``model``'s, naming the first few that do."""
    saved = checkpoint["state_dict"]
    if not isinstance(saved, dict):
        raise UserError(f"checkpoint {path}: its state_dict is a {type(saved).__name__}, not a dict of tensors")
    expected = model.state_dict()
    problems = []
    if model.strict_loading:
        problems += [f"missing {key}" for key in expected if key not in saved]
        problems += [f"unexpected {key}" for key in saved if key not in expected]
    for key, tensor in saved.items():
        if key in expected and not isinstance(tensor, torch.Tensor):
            problems.append(f"{key} is a {type(tensor).__name__}, not a tensor")
        elif key in expected and tuple(tensor.shape) != tuple(expected[key].shape):
            problems.append(f"{key} has shape {tuple(tensor.shape)}, the model's is {tuple(expected[key].shape)}")
    if problems:
        more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
        raise UserError(
            f"checkpoint {path} does not fit a {type(model).__name__} built from its own hyper-parameters: "
            f"{'; '.join(problems[:3])}{more}"
        )


def load_model(
    path: str | Path,
    base: type[Model],
    classes: ModelClasses,
    option: str = "--ckpt",
    class_path: str | None = None,
) -> Model:
    """The model saved in ``path``, on the CPU, in eval mode; it must be a ``base`` (e.g. ``ImageClassifier``).

    ``classes``: the models a checkpoint may name (``model_classes(lightning_modules, rl)``); nothing else is built.
    ``class_path``: the model class when the checkpoint names none (one of ``classes``, e.g. ``rl.dqn.DQN``).
    """
    checkpoint = read_checkpoint(path, option)
    saved = hyper_parameters(checkpoint, path)
    named = saved.pop("_class_path", None)
    instantiator = saved.pop("_instantiator", None)
    if class_path is not None:
        cls = model_class(class_path, "--class_path", classes)
    elif named is None:
        raise UserError(f"checkpoint {path} names no model class (not written by `cli.py fit`)")
    else:
        cls = model_class(named, f"checkpoint {path}", classes)
    if instantiator not in (None, CLI_INSTANTIATOR):
        raise UserError(
            f"checkpoint {path} names the instantiator {instantiator!r}; only {CLI_INSTANTIATOR} is used, "
            "and nothing a checkpoint names is imported"
        )
    if not issubclass(cls, base):
        raise UserError(f"checkpoint {path} holds a {cls.__name__}, not an {base.__name__}")
    try:
        model = instantiate_module(cls, saved)
    except Exception as err:  # jsonargparse reports a wrong name or type as one of several error classes
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise UserError(
            f"checkpoint {path}: its hyper-parameters do not build a {cls.__name__} ({first_line})"
        ) from err
    try:  # what load_from_checkpoint does: the module restores its own extra state
        model.on_load_checkpoint(checkpoint)
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise UserError(f"checkpoint {path}: its {cls.__name__} state is missing or damaged ({err!r})") from err
    check_state_dict(checkpoint, model, path)
    model.load_state_dict(checkpoint["state_dict"], strict=model.strict_loading)
    return model.eval()
