"""Temporally extended epsilon-greedy ("ez-greedy", Dabney, Ostrovski and Barreto, ICLR 2021): an exploratory
action is held for a random number of agent steps instead of one.

Plain epsilon-greedy dithers: on MountainCar-v0 uniformly random actions almost never build up the swing that
reaches the flag (0 of 100 random episodes at frame_skip 4), while random actions held for durations drawn from
a zeta(2) distribution (most short, a few long) reach it in some (6 of 100 with holds of at most 10 agent
steps), which gives the Q-network its first rewards to propagate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

ZETA_EXPONENT = 2.0  # the paper's choice: P(n) proportional to n^-2


class HeldExploration:
    """Per environment copy: the exploratory action being held and how many more agent steps it is held.

    ``max_hold`` 1 is plain epsilon-greedy: nothing is ever held and no random number is drawn, so runs without
    it are unchanged to the bit.
    """

    def __init__(self, num_envs: int, max_hold: int) -> None:
        if max_hold < 1:
            raise ValueError(f"--model.init_args.exploration_hold must be at least 1, got {max_hold}")
        self.max_hold = max_hold
        self.actions = np.zeros(num_envs, dtype=np.int64)
        self.steps_left = np.zeros(num_envs, dtype=np.int64)  # agent steps still to hold after this one

    def holding(self) -> np.ndarray:
        """(N,) bool: copies that repeat their held exploratory action at this step."""
        return self.steps_left > 0

    def duration(self, rng: np.random.Generator) -> int:
        """A zeta(2) number of agent steps, redrawn until it is at most ``max_hold``."""
        while True:
            steps = int(rng.zipf(ZETA_EXPONENT))
            if steps <= self.max_hold:
                return steps

    def choose(self, actions: np.ndarray, explore: np.ndarray, rng: np.random.Generator) -> None:
        """Completes this step's ``actions`` in place: held copies repeat their action, and each copy that starts
        exploring (``explore``, its random action already in ``actions``) draws how long it holds it."""
        held = self.holding()
        actions[held] = self.actions[held]
        self.steps_left[held] -= 1
        if self.max_hold == 1:
            return
        for i in np.flatnonzero(explore & ~held):
            self.actions[i] = actions[i]
            self.steps_left[i] = self.duration(rng) - 1  # this step is the first of the hold

    def end_episode(self, index: int) -> None:
        """A new episode starts without a hold (the held action belonged to the last one's states)."""
        self.steps_left[index] = 0

    def state_dict(self) -> dict[str, Any]:
        return {
            "actions": torch.from_numpy(self.actions.copy()),
            "steps_left": torch.from_numpy(self.steps_left.copy()),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.actions = state["actions"].numpy().copy()
        self.steps_left = state["steps_left"].numpy().copy()
