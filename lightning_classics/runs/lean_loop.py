"""Lightning's per-batch bookkeeping, made cheaper where it does nothing for the run (framework tax).

Lightning's training loop does a fixed amount of Python work per batch: on the 2-core CPU about 1 ms
(BENCHMARKS.md), more than a third of a DQN update on CartPole. With no profiler asked for, Lightning still
enters ``profiler.profile(name)`` about 70 times a batch, each a new generator-based context manager around
two no-op calls: ``NoOpProfiler`` hands back one shared context instead. Worth 1.04-1.13x per DQN update,
median of 4 runs 1.08 (``python -m benchmarks.lean_loop --runs "DQN CartPole" --switch profiler --blocks 60``,
2026-12-03, load average 4-9); nothing measurable for the ANN's 17 ms step.

The other kept piece, torch's cached CUDA check (``CachedCudaCheck``), undoes something ``import lightning``
does, so it lives with the rest of Lightning's internals in lightning_classics/runs/lightning_internals.py.
"""

from __future__ import annotations

import contextlib

from lightning.pytorch.profilers import PassThroughProfiler

_NO_OP = contextlib.nullcontext()  # reusable and re-entrant: one instance serves every profiled action


class NoOpProfiler(PassThroughProfiler):
    """Lightning's default profiler (profiles nothing) whose ``profile`` context costs nothing either."""

    def profile(self, action_name: str) -> contextlib.nullcontext:  # type: ignore[override]
        return _NO_OP
