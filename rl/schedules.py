"""Schedules shared by the agents: exploration rates that change with experience."""

from __future__ import annotations


def linear_schedule(step: int, start: float, end: float, duration: int) -> float:
    """``start`` at ``step`` 0, falling (or rising) linearly to ``end`` at ``duration``, then ``end``.

    The unit of ``step`` and ``duration`` is the caller's: agent steps (rl/steps.py) for DQN, episodes for tabular
    Q-learning. A ``duration`` of 0 or less means ``end`` from the start.
    """
    if duration <= 0 or step >= duration:
        return end
    return start + (end - start) * step / duration
