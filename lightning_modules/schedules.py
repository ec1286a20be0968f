"""Learning-rate schedules as multipliers of the base learning rate, by optimizer step."""

from __future__ import annotations

import math
from typing import Literal


def lr_multiplier(
    step: int, total_steps: int, schedule: Literal["onecycle", "cosine"], warmup_fraction: float
) -> float:
    """Multiplier of the base LR at ``step`` of ``total_steps``.

    ``onecycle``: linear warm-up over the first ``warmup_fraction`` of the steps, then cosine
    annealing to zero; ``cosine``: cosine annealing from the first step. (A constant rate needs no
    schedule: ``Classifier`` then configures none.)
    Computed from the step alone, so a resumed run that was given more epochs stretches the
    schedule instead of stepping past its end.
    """
    total_steps = max(total_steps, 1)
    warmup = int(total_steps * warmup_fraction) if schedule == "onecycle" else 0
    if step < warmup:
        return (step + 1) / warmup
    progress = min((step - warmup) / max(total_steps - warmup, 1), 1.0)
    return 0.5 * (1 + math.cos(math.pi * progress))
