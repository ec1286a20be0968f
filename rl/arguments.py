"""Checks of agent arguments, so that a bad value stops the command at once with the option's name and the
accepted range (``train_freq 0``, for one, would otherwise never step the environment again)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym


def at_least(minimum: int, **values: int) -> None:
    for name, value in values.items():
        if value < minimum:
            raise ValueError(f"--model.init_args.{name} must be at least {minimum}, got {value}")


def in_range(name: str, value: float, low: float, high: float, low_open: bool = False) -> None:
    if not (low < value if low_open else low <= value) or value > high:
        bracket = "(" if low_open else "["
        raise ValueError(f"--model.init_args.{name} must be in {bracket}{low}, {high}], got {value}")


def positive(**values: float) -> None:
    for name, value in values.items():
        if value <= 0:
            raise ValueError(f"--model.init_args.{name} must be positive, got {value}")


def make_env(env_id: str, option: str = "--model.init_args.env_id", **kwargs: Any) -> gym.Env:
    """``gym.make`` with a one-line error, naming ``option``, for an id that gymnasium does not know."""
    try:
        return gym.make(env_id, **kwargs)
    except gym.error.Error as err:  # NameNotFound, VersionNotFound, DeprecatedEnv, ...
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"{option} {env_id!r} cannot be made: {reason} (ids look like CartPole-v1 or Taxi-v4)"
        ) from err
