"""`cli.py predict --data.predict_path`: own pictures in several styles, a table and a CSV, bad files skipped."""

import csv
import logging
import os

import pytest

from cli import main
from tests.drawn_digits import draw_digit
from tests.helpers import cli_args, predictions_file
from tests.test_preprocess import png_with_short_header

STYLES = {
    "thin": {"height": 70},
    "thick": {"stroke": 6, "height": 70},
    "light-on-dark": {"dark_on_light": False},
    "off-centre": {"canvas": (300, 200), "height": 60, "at": (0.8, 0.3)},
    "large-canvas": {"canvas": (1600, 1200), "height": 600, "stroke": 10},
}


@pytest.mark.slow
def test_predict_classifies_drawn_pictures_and_names_a_bad_file(drawn_cnn, tmp_path, caplog, capsys):
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    for style, options in STYLES.items():
        for digit in range(10):
            suffix = "jpg" if digit % 3 == 0 else "png"
            draw_digit(digit, **options).save(pictures / f"{style}-{digit}.{suffix}")
    (pictures / "notes.txt").write_text("not a picture")
    (pictures / "short-header.png").write_bytes(png_with_short_header(draw_digit(3)))  # Pillow's ValueError
    os.mkfifo(pictures / "pipe.png")  # reading it would wait for a writer forever
    runs = drawn_cnn.parents[3]  # runs/mnist_cnn/version_0/checkpoints/best.ckpt

    with caplog.at_level(logging.INFO):
        main(cli_args("predict", "mnist_cnn", runs, "--ckpt_path", "best", "--data.predict_path", str(pictures)))

    assert f"{pictures / 'notes.txt'}: not a readable image" in caplog.text  # named, and the rest still classified
    assert f"{pictures / 'short-header.png'}: not a readable image (ValueError" in caplog.text
    assert f"{pictures / 'pipe.png'}: a FIFO, not an image file" in caplog.text
    printed = capsys.readouterr().out
    assert "file" in printed and "runner_up" in printed  # the printed table's header
    with open(predictions_file(runs / "mnist_cnn" / "version_0")) as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 10 * len(STYLES)
    assert set(rows[0]) == {"file", "prediction", "probability", "runner_up", "runner_up_probability"}
    for style in STYLES:
        right = [row for row in rows if f"/{style}-" in row["file"] and row["file"][-5] == row["prediction"]]
        assert len(right) >= 8, f"{style}: only {len(right)} of 10 digits right"


def test_predict_on_the_test_set_reports_label_and_index(tmp_path, mnist_dir):
    runs = tmp_path / "runs"
    data = ["--data.data_dir", str(mnist_dir), "--data.val_size", "50"]
    main(cli_args("fit", "mnist_ann", runs, *data, "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2"))
    main(cli_args("predict", "mnist_ann", runs, *data, "--ckpt_path", "last", "--data.eval_batch_size", "30"))
    with open(predictions_file(runs / "mnist_ann" / "version_0")) as file:
        rows = list(csv.DictReader(file))
    assert [int(row["index"]) for row in rows] == list(range(100))  # every test image once, in order
    labels = [int(row["label"]) for row in rows]
    from tests.mnist_fixtures import easy_digits

    assert labels == easy_digits(100, seed=2)[1].tolist()  # the test files' own labels
