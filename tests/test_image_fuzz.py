"""A seeded fuzz corpus of damaged PNG, BMP, GIF, TIFF, JPEG and WebP files: each one is classified or refused
with the project's image error (one line that names it), never another exception."""

from __future__ import annotations

import warnings

from lightning_classics.images import ImageInputError, preprocess
from tests.image_fuzz import damaged_pictures, seed_files

CASES = 3000


def test_every_seed_picture_is_readable():
    for name, data in seed_files().items():
        assert preprocess(data).shape == (28, 28), name  # the mutations start from pictures that work


def test_damaged_pictures_are_classified_or_refused_with_one_line():
    outcomes = {"read": 0, "refused": 0}
    escaped = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about some damaged files (EXIF, truncation) and goes on
        for label, data in damaged_pictures(CASES, seed=23):
            try:
                assert preprocess(data).shape == (28, 28)
                outcomes["read"] += 1
            except ImageInputError as err:
                message = str(err)
                assert message.startswith("the request body: ") and "\n" not in message, (label, message)
                outcomes["refused"] += 1
            except Exception as err:  # what this test is for: anything else is a picture that escapes
                escaped.append(f"{label}: {type(err).__name__}: {err}")
    assert not escaped, f"{len(escaped)} of {CASES} damaged pictures escaped the image error:\n" + "\n".join(escaped)
    # The corpus exercises both outcomes, so it neither only breaks headers nor leaves the files intact.
    assert outcomes["read"] > CASES // 20 and outcomes["refused"] > CASES // 4, outcomes
