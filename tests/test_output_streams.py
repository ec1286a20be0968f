"""Results on stdout, progress bars and diagnostics on stderr: ``cli.py predict ... > out.txt`` keeps the results."""

from __future__ import annotations

from cli import main
from tests.helpers import preset


def test_results_go_to_stdout_and_progress_bars_to_stderr(tmp_path, capfd):
    base = ["--config", preset("tiny_net"), "--runs_dir", str(tmp_path), "--trainer.enable_model_summary", "false"]
    main(["fit", *base, "--trainer.max_epochs", "1"])
    out, err = capfd.readouterr()
    assert "Best checkpoint:" in out and "Run folder:" in out  # where the trained weights are: fit's result
    assert "Epoch 0" in err and "Epoch 0" not in out  # the training bar

    main(["test", *base, "--ckpt_path", "best"])
    out, err = capfd.readouterr()
    assert "Test metric" in out and "test/acc" in out  # Lightning's results table
    assert "Test results: {" in out
    assert "Testing" in err and "Testing" not in out

    main(["predict", *base, "--ckpt_path", "best"])
    out, err = capfd.readouterr()
    assert "Predicted 3 rows" in out and "runner_up" in out
    assert "Predicting" in err and "Predicting" not in out
