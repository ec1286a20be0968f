"""Bar chart of Lightning against the hand-written loop, drawn from the tables recorded in docs/results.md.

    python -m benchmarks.speed_chart                       # -> docs/lightning_vs_hand.png
    python -m benchmarks.speed_chart --out /tmp/chart.png

Reads the ``overhead`` table (``cli.py fit`` against the hand loop, per model) and the ``lightning_floor`` table
(a bare LightningModule fed free batches, the ANN) between their markers, so the picture always shows the
figures the page states; it measures nothing itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from benchmarks.results_page import markers, tables

ROOT = Path(__file__).resolve().parents[1]


def recorded_rows(page: str, name: str) -> list[dict[str, str]]:
    """The rows of the first table between NAME's markers, as {column header: cell} with ** and spaces removed."""
    start, end = markers(name)
    if start not in page or end not in page:
        raise SystemExit(f"error: the results page has no '{start}' section to read")
    found = tables(page.split(start)[1].split(end)[0])
    if not found:
        raise SystemExit(f"error: the '{name}' section of the results page holds no table")
    lines = found[0].splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = [cell.strip().strip("*") for cell in line.strip("|").split("|")]
        rows.append(dict(zip(header, cells, strict=False)))
    return rows


def ratios(page: str) -> dict[str, dict[str, float]]:
    """{model: {"Lightning, as shipped": ratio, "Lightning, bare module": ratio}} from the recorded tables."""
    result: dict[str, dict[str, float]] = {}
    for row in recorded_rows(page, "overhead"):
        result.setdefault(row["model"], {})["Lightning, as shipped (cli.py fit)"] = float(row["ratio median"])
    for row in recorded_rows(page, "lightning_floor"):
        result.setdefault(row["model"], {})["Lightning, bare module fed free batches"] = float(
            row["floor / hand (median)"]
        )
    return result


def draw(values: dict[str, dict[str, float]], out: Path) -> None:
    models = sorted(values)
    kinds = ["hand-written PyTorch loop", *sorted({k for v in values.values() for k in v}, reverse=True)]
    figure, axes = plt.subplots(figsize=(7, 3.6), dpi=120)
    width = 0.8 / len(kinds)
    for k, kind in enumerate(kinds):
        heights = [1.0 if k == 0 else values[m].get(kind, float("nan")) for m in models]
        positions = [i + (k - (len(kinds) - 1) / 2) * width for i in range(len(models))]
        bars = axes.bar(positions, heights, width, label=kind)
        axes.bar_label(bars, labels=["" if h != h else f"{h:.2f}" for h in heights], fontsize=7, padding=2)
    axes.set_xticks(range(len(models)), models)
    axes.set_ylim(0, 1.15)
    axes.set_ylabel("images/s relative to the hand loop")
    axes.set_title("Training throughput on the CPU: Lightning against a hand-written loop", fontsize=9)
    axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, frameon=False)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "docs" / "results.md")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "lightning_vs_hand.png")
    args = parser.parse_args(argv)
    draw(ratios(args.results.read_text()), args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
