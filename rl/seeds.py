"""Seeds of the evaluation episodes, the same for every agent.

Evaluation episode ``i`` starts from ``env.reset(seed=FIRST_SEED + i)``: every evaluation plays the same start
states, so two checkpoints are scored on exactly the same episodes. Validation (which picks the best
checkpoint) and test (which reports it) use disjoint seed ranges, and training episodes draw their start states
from a generator seeded with a random 31-bit number (:func:`training_seed`), so test episodes are never the ones
a checkpoint was selected on.
"""

from __future__ import annotations

import numpy as np

VAL_FIRST_SEED = 1_000_000  # validation: seeds 1,000,000 .. 1,000,000 + val_episodes - 1
TEST_FIRST_SEED = 0  # test: seeds 0 .. test_episodes - 1 (1,000 by default: "1,000 unseen start states")


def evaluation_seeds(first_seed: int, episodes: int) -> list[int]:
    return list(range(first_seed, first_seed + episodes))


def training_seed(rng: np.random.Generator, rank: int = 0) -> int:
    """The seed of the training environment's first reset, drawn from the agent's own generator.

    Process ``rank`` of a multi-process run takes the ``rank``-th draw, so every process starts from its own
    states, and process 0 from the same ones as a single-process run.
    """
    return int(rng.integers(2**31, size=rank + 1)[-1])
