from types import SimpleNamespace

import pytest
import torch

import datamodules.mnist_files as mnist_files
from datamodules import DataNotFoundError, MNISTDataModule
from datamodules.augment import random_affine
from datamodules.mnist_files import FILE_STEMS
from datamodules.tensor_data import ShardSampler
from tests.mnist_fixtures import write_mnist_files


def prepared(data_dir, **kwargs) -> MNISTDataModule:
    dm = MNISTDataModule(data_dir=str(data_dir), download=False, **kwargs)
    dm.prepare_data()
    dm.setup("fit")
    return dm


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "raw"])
@pytest.mark.parametrize("layout", ["flat", "torchvision"])
def test_finds_files_in_every_layout(tmp_path, gz, layout):
    folder = tmp_path if layout == "flat" else tmp_path / "MNIST" / "raw"
    write_mnist_files(folder, gz=gz)
    dm = prepared(tmp_path, val_size=50)
    assert len(dm.sets["train"]) + len(dm.sets["val"]) == 300
    assert len(dm.sets["test"]) == 100


def test_fashion_mnist_uses_its_torchvision_folder(tmp_path):
    write_mnist_files(tmp_path / "FashionMNIST" / "raw")
    # The easy digits are dark like MNIST, so the data module also warns that they look like MNIST.
    with pytest.warns(UserWarning, match="typical of mnist .* point at the fashion_mnist files"):
        dm = prepared(tmp_path, dataset="fashion_mnist", val_size=50)
    assert len(dm.sets["test"]) == 100
    # The model normalises with these (linked by the CLI): Fashion-MNIST's statistics, not MNIST's.
    assert (dm.pixel_mean, dm.pixel_std) == (0.2860, 0.3530)
    assert dm.class_names[0] == "T-shirt/top" and len(dm.class_names) == 10


def test_files_that_look_like_the_chosen_dataset_raise_no_warning(mnist_dir, recwarn):
    prepared(mnist_dir, dataset="mnist", val_size=50)
    assert not [w for w in recwarn if "typical of" in str(w.message)]


def test_split_sizes_are_disjoint_and_cover_training_images(mnist_dir):
    dm = prepared(mnist_dir, val_size=60)
    assert (len(dm.sets["train"]), len(dm.sets["val"]), len(dm.sets["test"])) == (240, 60, 100)
    train, val = set(dm.train_indices.tolist()), set(dm.val_indices.tolist())
    assert not train & val
    assert train | val == set(range(300))


def test_split_is_fixed_by_its_seed(mnist_dir):
    first, again = prepared(mnist_dir, val_size=60), prepared(mnist_dir, val_size=60)
    other = prepared(mnist_dir, val_size=60, split_seed=1)
    assert torch.equal(first.val_indices, again.val_indices)
    assert not torch.equal(first.val_indices, other.val_indices)


def test_val_size_must_leave_training_images(mnist_dir):
    with pytest.raises(ValueError, match="val_size must be between 1 and 299"):
        prepared(mnist_dir, val_size=300)


def test_batches_stay_uint8_until_the_device_hook_scales_them_to_0_1(mnist_dir):
    dm = prepared(mnist_dir, val_size=60, batch_size=32)
    images, labels = next(iter(dm.train_dataloader()))
    assert images.dtype == torch.uint8 and images.shape == (32, 1, 28, 28)
    assert labels.dtype == torch.long and labels.shape == (32,)
    dm.trainer = SimpleNamespace(training=False)
    scaled, same_labels = dm.on_after_batch_transfer((images, labels), 0)
    assert torch.allclose(scaled, images.float() / 255)  # normalising is the model's job
    assert torch.equal(same_labels, labels)


def test_eval_loaders_cover_each_image_exactly_once(mnist_dir):
    dm = prepared(mnist_dir, val_size=60, eval_batch_size=7)
    seen = torch.cat([images for images, _ in dm.test_dataloader()])
    assert torch.equal(seen, dm.sets["test"].tensors[0])


def test_augmentation_only_applies_while_training(mnist_dir):
    dm = prepared(mnist_dir, val_size=60, augment=True)
    batch = next(iter(dm.val_dataloader()))
    dm.trainer = SimpleNamespace(training=False)
    evaluated, _ = dm.on_after_batch_transfer(batch, 0)
    dm.trainer = SimpleNamespace(training=True)
    trained, _ = dm.on_after_batch_transfer(batch, 0)
    assert not torch.allclose(evaluated, trained)
    assert evaluated.shape == trained.shape


def test_random_affine_keeps_shapes_and_mostly_keeps_content():
    images = torch.zeros(16, 1, 28, 28)
    images[:, :, 10:18, 10:18] = 1.0
    moved = random_affine(images, degrees=10, translate=0.1)
    assert moved.shape == images.shape
    # A small transform moves the square a little: most of its mass stays in the frame.
    assert torch.all(moved.sum(dim=(1, 2, 3)) > 0.7 * images.sum(dim=(1, 2, 3)))
    assert not torch.allclose(moved, images)


@pytest.mark.parametrize("world_size", [2, 3])
def test_eval_shards_are_disjoint_cover_all_and_are_not_padded(mnist_dir, world_size):
    dm = prepared(mnist_dir, val_size=60)
    shards = []
    for rank in range(world_size):
        cpu = SimpleNamespace(root_device=torch.device("cpu"))  # the host-side loaders (no on-device data)
        dm.trainer = SimpleNamespace(world_size=world_size, global_rank=rank, strategy=cpu)
        loader = dm.test_dataloader()
        assert isinstance(loader.sampler, ShardSampler)
        shards.append(list(loader.sampler))
    flat = [i for shard in shards for i in shard]
    assert sorted(flat) == list(range(100))  # each test image exactly once over all processes


def test_missing_files_without_download_give_one_clear_line(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        MNISTDataModule(data_dir=str(tmp_path / "nowhere"), download=False).prepare_data()
    message = str(info.value)
    assert "\n" not in message
    assert all(stem in message for stem in FILE_STEMS)
    assert "--data.data_dir" in message


def test_failed_download_leaves_nothing_behind(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(root, train, download):
        (tmp_path / "data").joinpath("partial.gz").write_bytes(b"half")  # what a broken transfer leaves
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: <urlopen error [Errno -3] DNS>")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(DataNotFoundError, match=r"the download failed .*Error downloading"):
        MNISTDataModule(data_dir=str(tmp_path / "data")).prepare_data()
    assert not (tmp_path / "data").exists()


def test_download_moves_verified_files_into_torchvision_layout(tmp_path, monkeypatch):
    import torchvision.datasets

    def fake_download(root, train, download):
        write_mnist_files(tmp_path.joinpath(root, "MNIST", "raw"))

    monkeypatch.setattr(torchvision.datasets, "MNIST", fake_download)
    dm = MNISTDataModule(str(tmp_path / "data"), val_size=50)
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm.sets["test"]) == 100
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["MNIST"]  # no temporary folder left


def test_corrupt_file_names_the_file(mnist_dir):
    (mnist_dir / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz"):
        prepared(mnist_dir)


def test_system_folder_is_searched_for_fashion_mnist(tmp_path, monkeypatch):
    system = write_mnist_files(tmp_path / "usr-share")
    monkeypatch.setitem(
        mnist_files.DATASETS,
        "fashion_mnist",
        mnist_files.DatasetInfo("FashionMNIST", 0.286, 0.353, system_dirs=(str(system),)),
    )
    with pytest.warns(UserWarning, match="typical of mnist"):
        dm = prepared(tmp_path / "empty", dataset="fashion_mnist", val_size=50)
    assert len(dm.sets["test"]) == 100
