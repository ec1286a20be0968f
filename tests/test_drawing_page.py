"""The drawing page in headless Chromium: draw a digit with mouse events and read the prediction off the page."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lightning_classics.inference.serve import LocalServer, load_models
from tests.crafted_checkpoints import classifier_checkpoint
from tests.helpers import ROOT

# Rewritten when UPDATE_DOCS_PICTURES=1; DRAWING_PAGE_CKPTS=a.ckpt,b.ckpt,... serves those checkpoints instead of
# the test's own (the README's screenshot shows the ANN, CNN and LSTM trained on MNIST).
SCREENSHOT = ROOT / "docs" / "drawing_page.png"
VIEWPORT = {"width": 1000, "height": 800}  # a laptop's browser window: the page must fit it without scrolling


def chromium_path() -> str | None:
    """Debian's chromium (apt-get install chromium); playwright's own browser download is not needed."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def stroke(page, points: list[tuple[float, float]], box: dict) -> None:
    """Press, move through ``points`` (fractions of the pad) in small steps, release."""
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0] * box["width"], y0 + points[0][1] * box["height"])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x * box["width"], y0 + y * box["height"], steps=8)
    page.mouse.up()


@pytest.mark.slow
def test_drawing_a_seven_shows_seven(drawn_cnn, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
    browser_path = chromium_path()
    if browser_path is None:
        pytest.skip("no Chromium found: apt-get install chromium (or set CHROMIUM=/path/to/chrome)")

    checkpoints = [c for c in os.environ.get("DRAWING_PAGE_CKPTS", "").split(",") if c] or [str(drawn_cnn)]
    with LocalServer(load_models(checkpoints), port=0).in_background() as server, playwright.sync_playwright() as p:
        url = server.url
        # --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        box = page.locator("#pad").bounding_box()
        assert box is not None
        # A seven: the top bar, then the long diagonal down to the left.
        stroke(page, [(0.25, 0.22), (0.75, 0.22), (0.42, 0.85)], box)
        predictions = page.get_by_test_id("prediction")
        page.wait_for_function("document.querySelector('[data-testid=prediction]').textContent !== '–'")
        page.wait_for_timeout(300)  # let the last request after mouse-up land
        assert predictions.all_text_contents() == ["7"] * len(checkpoints)  # one panel per model
        values = [float(v.rstrip("%")) for v in page.locator(".bar .value").all_text_contents()[:10]]
        assert len(values) == 10 and sum(values) == pytest.approx(100, abs=0.5)
        assert max(values) == values[7]
        shot = page.screenshot(path=str(tmp_path / "page.png"))
        if os.environ.get("UPDATE_DOCS_PICTURES") == "1":
            SCREENSHOT.parent.mkdir(exist_ok=True)
            Path(SCREENSHOT).write_bytes(shot)

        page.click("#clear")
        assert predictions.all_text_contents() == ["–"] * len(checkpoints)
        browser.close()
    assert (tmp_path / "page.png").read_bytes()[:4] == b"\x89PNG"


def inside(box: dict | None, viewport: dict) -> bool:
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and (box["x"] + box["width"] <= viewport["width"] and box["y"] + box["height"] <= viewport["height"])
    )


@pytest.mark.slow  # starts Chromium
def test_at_1000x800_three_panels_sit_beside_the_pad_above_the_fold(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
    browser_path = chromium_path()
    if browser_path is None:
        pytest.skip("no Chromium found: apt-get install chromium (or set CHROMIUM=/path/to/chrome)")
    # three untrained classifiers in three run folders: the layout, not the predictions, is under test
    checkpoints = [str(classifier_checkpoint(tmp_path / run / "checkpoints" / "best.ckpt")) for run in "abc"]
    with LocalServer(load_models(checkpoints), port=0).in_background() as server, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(server.url)
        page.wait_for_selector("body[data-ready=true]")
        pad = page.locator("#pad").bounding_box()
        panels = [panel.bounding_box() for panel in page.locator(".model").all()]
        assert len(panels) == 3
        for what, box in [
            ("pad", pad),
            ("preview", page.locator("#seen").bounding_box()),
            *zip("123", panels, strict=True),
        ]:
            assert inside(box, VIEWPORT), f"{what} {box} is outside the {VIEWPORT} viewport"
        assert pad is not None and all(box is not None and box["x"] >= pad["x"] + pad["width"] for box in panels)
        browser.close()
