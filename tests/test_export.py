"""`python -m lightning_classics.inference.export`: each format is one file whose outputs match PyTorch's on raw images."""

import pytest
import torch

from lightning_classics.inference.checkpoints import load_classifier
from lightning_classics.inference.export import main as export_main
from tests.crafted_checkpoints import agent_checkpoint, classifier_checkpoint
from tests.drawn_digits import draw_digit
from tests.test_preprocess import png_bytes


def raw_images() -> torch.Tensor:
    """(11, 1, 28, 28) uint8: ten preprocessed drawings and one of random noise."""
    from lightning_classics.images import preprocess

    digits = [preprocess(png_bytes(draw_digit(d, stroke=d % 3))) for d in range(10)]
    noise = torch.randint(0, 256, (28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return torch.stack([*digits, noise]).unsqueeze(1)  # (11, 28, 28) -> (11, 1, 28, 28)


def run_exported(path, fmt: str, images: torch.Tensor) -> torch.Tensor:
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return torch.from_numpy(session.run(None, {"images": images.numpy()})[0])
    if fmt == "exported-program":
        return torch.export.load(str(path)).module()(images)
    with pytest.warns(FutureWarning, match="torch.jit.load"):  # TorchScript is deprecated; the README says so
        return torch.jit.load(str(path))(images)


# torch's dynamo-based ONNX export takes seconds: in the full suite; the other two formats in the fast one.
@pytest.mark.parametrize("fmt", [pytest.param("onnx", marks=pytest.mark.slow), "exported-program", "torchscript"])
def test_exported_file_matches_pytorch_on_raw_images(drawn_cnn, tmp_path, fmt):
    out = export_main(["--ckpt", str(drawn_cnn), "--format", fmt, "--out", str(tmp_path / f"model.{fmt}")])
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # one self-contained file, nothing beside it
    model = load_classifier(drawn_cnn)
    images = raw_images()
    with torch.no_grad():
        expected = model(images)
        # A batch size other than the one traced with: the batch dimension is dynamic.
        got = run_exported(out, fmt, images)
    assert got.shape == (11, 10)
    assert torch.allclose(got, expected, atol=1e-5, rtol=0)
    assert got[:10].argmax(dim=1).tolist() == expected[:10].argmax(dim=1).tolist()


def test_export_refuses_a_checkpoint_that_is_not_a_classifier(tmp_path):
    agent = agent_checkpoint(tmp_path / "agent.ckpt")
    with pytest.raises(SystemExit, match="holds a TabularQLearning, not an ImageClassifier"):
        export_main(["--ckpt", str(agent), "--format", "onnx"])
    with pytest.raises(SystemExit, match="does not exist"):
        export_main(["--ckpt", str(tmp_path / "missing.ckpt"), "--format", "onnx"])
    gone = classifier_checkpoint(tmp_path / "gone.ckpt", _class_path="gone.module.Model")
    with pytest.raises(SystemExit, match=r"'gone\.module\.Model', which is not one of this project's models"):
        export_main(["--ckpt", str(gone), "--format", "onnx"])
