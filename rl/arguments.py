"""Checks of agent arguments, so that a bad value stops the command at once with the option's name and the
accepted range (``train_freq 0``, for one, would otherwise never step the environment again)."""

from __future__ import annotations


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
