"""Lightning's per-batch bookkeeping, made cheaper where it does nothing for the run (framework tax).

Lightning's training loop does a fixed amount of Python work per batch, a large share of a small step such as
a DQN update on CartPole. With no profiler asked for, Lightning still enters ``profiler.profile(name)`` about 70
times a batch, each a new generator-based context manager around two no-op calls: ``NoOpProfiler`` hands back
one shared context instead. What it buys: ``python -m benchmarks.lean_loop --switch profiler``, recorded in
docs/results.md ("What the shipped speed settings buy").

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
