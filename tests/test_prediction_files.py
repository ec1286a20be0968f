"""Every ``predict`` writes its own ``predictions-<UTC time>[-n].csv`` (and ``.pt``), atomically, and names it."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import torch

from cli import main
from lightning_classics.inference.prediction_table import write_csv
from tests.helpers import QUIET, preset


def rows_of(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def test_writes_in_the_same_second_get_numbered_names_and_leave_no_temporary_file(tmp_path):
    now = datetime(2026, 12, 3, 12, 0, 5, tzinfo=UTC)
    paths = [write_csv([{"index": i, "prediction": "7"}], tmp_path, now) for i in range(3)]
    assert [p.name for p in paths] == [
        "predictions-20261203T120005Z.csv",
        "predictions-20261203T120005Z-2.csv",
        "predictions-20261203T120005Z-3.csv",
    ]
    assert [rows_of(p) for p in paths] == [[{"index": str(i), "prediction": "7"}] for i in range(3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)  # no temporary file left
    later = write_csv([{"index": 0}], tmp_path, datetime(2026, 12, 3, 12, 0, 6, tzinfo=UTC))
    assert later.name == "predictions-20261203T120006Z.csv"


def test_a_second_predict_keeps_the_first_ones_results(tmp_path, capsys):
    base = ["--config", preset("tiny_net"), "--runs_dir", str(tmp_path), *QUIET]
    main(["fit", *base, "--trainer.max_epochs", "1"])
    capsys.readouterr()
    main(["predict", *base, "--ckpt_path", "best", "--data.predict_inputs", "[[1, 2, 3]]"])  # own inputs
    first_summary = capsys.readouterr().out
    main(["predict", *base, "--ckpt_path", "best"])  # then the example inputs
    second_summary = capsys.readouterr().out

    run = tmp_path / "tiny_net" / "version_0"
    tables = sorted(run.glob("predictions-*.csv"))
    assert len(tables) == 2
    assert sorted(len(rows_of(t)) for t in tables) == [1, 3]  # both predictions kept
    for table, summary in zip(
        sorted(tables, key=lambda t: len(rows_of(t))), (first_summary, second_summary), strict=True
    ):
        assert f"Saved to {table} and {table.with_suffix('.pt')}" in summary  # the summary names its own file
        (batch, *rest) = torch.load(table.with_suffix(".pt"), weights_only=True)
        assert len(batch["prediction"]) + sum(len(b["prediction"]) for b in rest) == len(rows_of(table))
