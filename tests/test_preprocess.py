"""MNIST-style preprocessing of arbitrary pictures: polarity, scale, centring, transparency, bad input."""

import io
import os

import numpy
import pytest
import torch
from PIL import Image

from lightning_classics.images import MAX_PIXELS, ImageInputError, image_files, preprocess, preprocess_files
from tests.drawn_digits import draw_digit
from tests.image_fuzz import png_chunk, png_chunks


def png_bytes(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def box_and_centre(image: torch.Tensor) -> tuple[int, int, float, float]:
    """Bounding-box height and width of the ink, and its centre of mass (row, column)."""
    ink = image.float()
    rows, cols = (ink > 50).any(dim=1).nonzero(), (ink > 50).any(dim=0).nonzero()
    com_row = (ink.sum(dim=1) * torch.arange(28)).sum() / ink.sum()
    com_col = (ink.sum(dim=0) * torch.arange(28)).sum() / ink.sum()
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1), com_row.item(), com_col.item()


@pytest.mark.parametrize(
    "style",
    [
        {},
        {"dark_on_light": False},
        {"canvas": (1600, 1200), "height": 500, "at": (0.85, 0.2)},  # large canvas, off-centre
        {"canvas": (40, 30), "height": 20},  # smaller than MNIST
        {"stroke": 8, "colour": "#204080"},  # thick, coloured ink
    ],
    ids=["dark-on-light", "light-on-dark", "large-off-centre", "small", "thick-coloured"],
)
def test_digits_come_out_white_on_black_in_a_20_pixel_box_centred_by_mass(style):
    image = preprocess(png_bytes(draw_digit(4, **style)))
    assert image.shape == (28, 28) and image.dtype == torch.uint8
    assert image[0].max() == 0 and image[:, 0].max() == 0  # black background
    assert image.max() == 255  # full-strength ink
    height, width, com_row, com_col = box_and_centre(image)
    assert max(height, width) in (19, 20, 21)  # the longer side fills the 20x20 box (bilinear edges aside)
    assert abs(com_row - 13.5) <= 1.0 and abs(com_col - 13.5) <= 1.0


def test_the_same_digit_looks_the_same_however_it_was_drawn():
    plain = preprocess(png_bytes(draw_digit(7))).float()
    for style in ({"dark_on_light": False}, {"canvas": (900, 700), "height": 300, "at": (0.3, 0.6)}):
        other = preprocess(png_bytes(draw_digit(7, **style))).float()
        assert (plain - other).abs().mean() < 20  # out of 255: the same shape in the same place


def test_transparent_background_counts_as_paper():
    # As a drawing app saves it: black ink whose opacity is its coverage, on fully transparent pixels.
    gray = draw_digit(3).convert("L")
    coverage = gray.point(lambda value: 255 - value)
    picture = Image.new("RGBA", gray.size, (0, 0, 0, 0))
    picture.putalpha(coverage)
    assert picture.getpixel((0, 0)) == (0, 0, 0, 0)
    difference = preprocess(png_bytes(picture)).int() - preprocess(png_bytes(draw_digit(3))).int()
    assert difference.abs().max() <= 2  # the same digit, up to rounding of the alpha blend


def test_bad_pictures_give_one_line_errors(tmp_path):
    with pytest.raises(ImageInputError, match="not a readable image"):
        preprocess(b"this is not a picture")
    with pytest.raises(ImageInputError, match="blank"):
        preprocess(png_bytes(Image.new("RGB", (50, 50), "white")))
    huge = Image.new("L", (MAX_PIXELS // 1000 + 1, 1000))
    with pytest.raises(ImageInputError, match="larger than"):
        preprocess(png_bytes(huge))


def test_a_folder_of_files_keeps_going_past_a_bad_one(tmp_path):
    draw_digit(1).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_text("not an image")
    draw_digit(2).save(tmp_path / "c.jpg")
    images, kept, errors = preprocess_files(image_files(tmp_path))
    assert images.shape == (2, 28, 28)
    assert [p.name for p in kept] == ["a.png", "c.jpg"]
    assert len(errors) == 1 and errors[0].startswith(str(tmp_path / "b.png")) and "\n" not in errors[0]
    with pytest.raises(ImageInputError, match="does not exist"):
        image_files(tmp_path / "missing")


def png_with_short_header(picture: Image.Image) -> bytes:
    """A PNG whose IHDR chunk is cut short but has a right CRC: Pillow raises ValueError, not its OSError."""
    data = png_bytes(picture)
    (offset, kind, payload), *_ = png_chunks(data)
    return data[:offset] + png_chunk(kind, payload[:9]) + data[offset + 12 + len(payload) :]


def test_sixteen_bit_grayscale_keeps_its_contrast():
    # Dark ink 5000 on paper 60000: PIL's convert("L") clips both at 255 and the digit vanishes.
    ink = numpy.asarray(draw_digit(4).convert("L")) < 128
    wide = Image.fromarray(numpy.where(ink, 5000, 60000).astype(numpy.uint16))
    assert wide.mode == "I;16"
    eight_bit = preprocess(png_bytes(draw_digit(4))).int()
    for picture, file_format in ((wide, "PNG"), (wide.convert("I"), "TIFF")):  # 16-bit PNGs open as 'I' in old Pillows
        buffer = io.BytesIO()
        picture.save(buffer, format=file_format)
        assert (preprocess(buffer.getvalue()).int() - eight_bit).abs().max() <= 40, file_format


def test_a_folder_names_every_entry_it_skips(tmp_path):
    draw_digit(1).save(tmp_path / "a.png")
    (tmp_path / "b-short-header.png").write_bytes(png_with_short_header(draw_digit(2)))
    os.mkfifo(tmp_path / "c-fifo.png")  # opening it for reading would wait for a writer forever
    (tmp_path / "d-loop.png").symlink_to(tmp_path / "d-loop.png")
    (tmp_path / "e-folder").mkdir()
    draw_digit(6).save(tmp_path / "f.png")
    (tmp_path / ".hidden").write_text("left out silently, as ls does")

    images, kept, errors = preprocess_files(image_files(tmp_path))

    assert [p.name for p in kept] == ["a.png", "f.png"] and images.shape == (2, 28, 28)
    assert errors == [
        f"{tmp_path / 'b-short-header.png'}: not a readable image (ValueError: Truncated IHDR chunk)",
        f"{tmp_path / 'c-fifo.png'}: a FIFO, not an image file",
        f"{tmp_path / 'd-loop.png'}: a symlink loop, not an image file",
        f"{tmp_path / 'e-folder'}: a folder, not an image file",
    ]
    with pytest.raises(ImageInputError, match="a FIFO"):  # given alone, it is named too
        preprocess(tmp_path / "c-fifo.png")
