"""Training data: folders, zips, packaged datasets, and readable refusals."""
from __future__ import annotations

import zipfile

import pytest
import torch
from PIL import Image

from trainer.data import BatchSource, DatasetError, load_dataset, summarize


def _save(path, size=(20, 20), mode="RGB", color=(200, 10, 10)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)


def test_folder_recursive_rgba_on_white(tmp_path):
    for i in range(6):
        _save(tmp_path / f"a{i}.png")
    # Fully transparent RGBA in a sub-folder: must become white, not black.
    for i in range(4):
        _save(tmp_path / "sub" / f"t{i}.png", mode="RGBA", color=(0, 0, 0, 0))
    _save(tmp_path / "sub" / "x.webp")
    _save(tmp_path / "j.jpg")
    ds = load_dataset(str(tmp_path), resolution=16)
    assert ds.images.shape == (12, 3, 16, 16) and ds.images.dtype == torch.uint8
    whites = [(img == 255).all().item() for img in ds.images]
    assert sum(whites) == 4


def test_grey_folder_gives_one_channel(tmp_path):
    for i in range(8):
        _save(tmp_path / f"g{i}.png", mode="L", color=100)
    ds = load_dataset(str(tmp_path), resolution=16)
    assert ds.channels == 1


def test_zip_archive(tmp_path):
    src = tmp_path / "imgs"
    for i in range(8):
        _save(src / f"{i}.png", size=(40, 30))
    zp = tmp_path / "data.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        for p in src.iterdir():
            zf.write(p, f"inner/{p.name}")
    ds = load_dataset(str(zp), resolution=16)
    assert ds.count == 8 and ds.size_histogram == {"40x30": 8}


def test_zip_without_images(tmp_path):
    zp = tmp_path / "empty.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.writestr("readme.txt", "no pictures")
    with pytest.raises(DatasetError, match="holds no .png"):
        load_dataset(str(zp))


def test_bad_folder_lists_problems(tmp_path):
    for i in range(3):
        _save(tmp_path / f"ok{i}.png")
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    (tmp_path / "half.jpg").write_bytes(b"\xff\xd8\xff\xe0garbage")
    _save(tmp_path / "tiny.png", size=(3, 3))
    with pytest.raises(DatasetError) as ei:
        load_dataset(str(tmp_path))
    text = str(ei.value)
    assert "broken.png" in text and "half.jpg" in text          # unreadable, named
    assert "tiny.png (3x3)" in text                               # too small, named
    assert "only 3 usable" in text                                # too few


def test_empty_and_missing(tmp_path):
    with pytest.raises(DatasetError, match="holds no"):
        load_dataset(str(tmp_path))
    with pytest.raises(DatasetError, match="no such folder"):
        load_dataset(str(tmp_path / "nope"))


def test_mixed_sizes_crop_or_refuse(tmp_path):
    for i in range(4):
        _save(tmp_path / f"w{i}.png", size=(64, 32))
        _save(tmp_path / f"s{i}.png", size=(32, 32))
    assert load_dataset(str(tmp_path), resolution=16, resize="pad").count == 8
    with pytest.raises(DatasetError, match="different sizes"):
        load_dataset(str(tmp_path), resize="refuse")


def test_digits_and_summary():
    ds = load_dataset("digits", resolution=16)
    assert ds.images.shape == (1797, 1, 16, 16) and ds.images.max() == 255
    s = summarize("digits")
    assert s["count"] == 1797 and s["resolution"] == 32 and s["problems"] == []


def test_mnist5k_and_lfw_read_from_wheels():
    m = load_dataset("mnist5k", resolution=32)
    assert m.images.shape == (5000, 1, 32, 32) and "MNIST" in m.credit
    f = load_dataset("lfw-subset", resolution=16)
    assert f.images.shape == (100, 1, 16, 16)


def test_batch_source_epochs_and_resume_state():
    ds = load_dataset("digits", resolution=16)
    src = BatchSource(ds, torch.device("cpu"), 32, True, torch.Generator().manual_seed(0))
    for _ in range(60):   # more than one epoch
        x = src.next()
        assert x.shape == (32, 1, 16, 16) and x.min() >= -1 and x.max() <= 1
    # The data order is part of the resume state: restoring it repeats the same indices.
    st = src.state()
    a = src._indices()
    src.load_state(st)
    assert torch.equal(a, src._indices())
