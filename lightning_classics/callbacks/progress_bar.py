"""The CLI's progress bar: Lightning's, except that for agents it counts agent steps (decisions, rl/steps.py)
instead of batches, that it does not show ``v_num``, and that it draws on stderr (stderr_progress_bar.py).

A DQN batch stands for ``train_freq`` agent steps (and the first epoch also holds the random warm-up), a
Taxi batch for ten whole episodes: what tells an RL user how far training is, and how fast it runs, is the
experience collected, the x-axis of every RL paper's curves. An agent says so by offering ``env_steps`` (all
processes together) and, if it can tell in advance, ``planned_env_steps()`` for the epoch about to start.
"""

from __future__ import annotations

from typing import Any

import lightning as L

from lightning_classics.callbacks.stderr_progress_bar import StderrProgressBar


def env_steps_of(module: L.LightningModule) -> int | None:
    """The module's count of agent steps, or ``None`` for modules that are not agents."""
    steps = getattr(module, "env_steps", None)
    return int(steps) if isinstance(steps, int) else None


class EnvStepsProgressBar(StderrProgressBar):
    """Lightning's TQDM bar, on stderr; while an agent trains, its position and total are agent steps of the epoch.

    The total is the agent's plan for the epoch (none if it cannot know, e.g. Taxi's episodes vary in length);
    at the end of the epoch the bar shows the steps really taken, and is full. The metrics leave out ``v_num``,
    the number of the log folder, which says nothing about training.
    """

    UNIT = " agent steps"  # decisions, not frames: rl/steps.py

    def __init__(self, refresh_rate: int = 1, process_position: int = 0, leave: bool = False) -> None:
        super().__init__(refresh_rate, process_position, leave)
        self._counting = False  # whether the module training now is an agent
        self._epoch_start_steps = 0  # the agent's count when the epoch began
        self._plan: int | None = None  # its plan for the epoch (the bar's total)

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Here, not at the epoch's start: Lightning fetches the first batch (and a DQN acts for it, warm-up
        # included) before on_train_epoch_start of the first epoch; a resumed agent's count is restored by now.
        steps = env_steps_of(pl_module)
        self._counting = steps is not None
        self._epoch_start_steps = steps or 0
        self._plan = self._planned(pl_module)

    @staticmethod
    def _planned(module: L.LightningModule) -> int | None:
        planned = getattr(module, "planned_env_steps", None)
        return planned() if callable(planned) else None

    def on_train_epoch_start(self, trainer: L.Trainer, *args: Any) -> None:
        super().on_train_epoch_start(trainer, *args)
        if self._counting:
            bar = self.train_progress_bar
            bar.total = self._plan
            bar.unit, bar.unit_scale = self.UNIT, True  # "12.3k/50.0k [..., 5.21k agent steps/s]"

    def steps_this_epoch(self, module: L.LightningModule) -> int:
        return (env_steps_of(module) or 0) - self._epoch_start_steps

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if not self._counting:
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        # Redraw every refresh_rate batches, as Lightning's bar does, but show the agent steps.
        elif self.redraw_due(batch_idx + 1, self.total_train_batches):
            self._show(self.steps_this_epoch(pl_module))
            self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module))

    def redraw_due(self, batches_done: int, total: int | float) -> bool:
        """Whether to redraw after ``batches_done`` batches: every ``refresh_rate`` batches and at the last one."""
        return self.is_enabled and (batches_done % self.refresh_rate == 0 or batches_done == total)

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return metrics

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._counting:
            steps = self.steps_this_epoch(pl_module)
            bar = self.train_progress_bar
            if bar.total != steps:  # no plan, or the last vector step (or a resume mid-epoch) differed from it
                bar.total = steps
            self._show(steps)
            self._epoch_start_steps += steps
            self._plan = self._planned(pl_module)
        super().on_train_epoch_end(trainer, pl_module)

    def _show(self, steps: int) -> None:
        bar = self.train_progress_bar
        if not bar.disable:
            bar.n = steps
            bar.refresh()
