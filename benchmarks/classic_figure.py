"""The classic-control table's validation curves: one panel per task, one line per seed (SB3's dashed), read from the
``--json`` files of ``benchmarks.classic_control`` (``--table ... --figure PNG``)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from benchmarks.classic_tasks import SB3_EVAL_EVERY, TASKS
from lightning_classics.plots.figures import render, save_png


def curve(points: list[list[float]] | list[float]) -> tuple[list[float], list[float]]:
    """Frames and validation means; SB3's trials record only the means, one every ``SB3_EVAL_EVERY`` frames."""
    if points and not isinstance(points[0], list | tuple):
        return [SB3_EVAL_EVERY * (i + 1) for i in range(len(points))], list(points)
    return [p[0] for p in points], [p[1] for p in points]  # type: ignore[index]


def figure(
    results: dict[str, dict[str, list[dict[str, Any]]]], path: Path, title: str, ymin: float | None = None
) -> Path:
    """``ymin``: the panels' lowest return shown (default: 250 below each task's target)."""
    fig = Figure(figsize=(5.5 * len(results), 4.2), dpi=110, layout="constrained")
    panels = fig.subplots(1, len(results), squeeze=False)
    for axes, (name, runs) in zip(panels[0], results.items(), strict=True):
        task = TASKS[name]
        for agent, style in (("ours", "-"), ("sb3", "--")):
            for run in runs[agent]:
                frames, means = curve(run["curve"])
                label = f"{'SB3 ' if agent == 'sb3' else ''}seed {run['seed']}"
                color = f"C{run['seed'] % 10}"  # a seed's two agents in one colour
                axes.plot(frames, means, style, color=color, marker="o", markersize=2, linewidth=1.1, label=label)
        axes.axhline(task.target, color="black", linestyle=":", linewidth=0.9, label=f"target ({task.target:g})")
        axes.set_title(task.env_id)
        axes.set_xlabel("environment frames")
        axes.set_ylabel("validation mean return (100 episodes)")
        floor = task.target - 250 if ymin is None else ymin  # early episodes that never finish: off the panel
        axes.set_ylim(bottom=max(axes.get_ylim()[0], floor))
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7, loc="lower right", ncols=2)
    fig.suptitle(textwrap.fill(title, 70 * len(results)), fontsize=9)
    return save_png(render(fig), path)
