"""Grids, metadata and animations."""
import numpy as np
import pytest
from PIL import Image

from ganexplorer.export.animation import save_animation
from ganexplorer.export.images import make_grid, to_uint8
from ganexplorer.export.metadata import read_metadata, save_image


def test_to_uint8_range_and_grey():
    x = np.array([[[[-1.0, 0.0, 1.0, 3.0]]]], np.float32)  # [1, 1, 1, 4]
    out = to_uint8(x)
    assert out.shape == (1, 1, 4, 3)
    assert out[0, 0, :, 0].tolist() == [0, 128, 255, 255]


def test_grid_layout_row_major():
    tiles = np.stack([np.full((4, 4, 3), i * 10, np.uint8) for i in range(5)])
    g = np.asarray(make_grid(tiles, cols=3, padding=1))
    assert g.shape == (2 * 4 + 3, 3 * 4 + 4, 3)
    assert g[1, 1, 0] == 0 and g[1, 6, 0] == 10 and g[6, 1, 0] == 30 and g[6, 6, 0] == 40
    assert g[6, 11, 0] == 255  # empty cell is background
    with pytest.raises(ValueError):
        make_grid(np.zeros((0, 4, 4, 3), np.uint8))


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_metadata_round_trip(tmp_path, suffix):
    lat = np.random.RandomState(0).randn(2, 3, 5).astype(np.float32)
    img = Image.new("RGB", (8, 8), (1, 2, 3))
    path = save_image(img, tmp_path / f"x{suffix}", {"seeds": [1, 2], "psi": 0.5}, {"ws": lat})
    meta, latents = read_metadata(path)
    assert meta["seeds"] == [1, 2] and meta["psi"] == 0.5
    np.testing.assert_array_equal(latents["ws"], lat)


def test_animation_gif_and_mp4(tmp_path):
    frames = np.random.RandomState(0).randint(0, 255, (6, 17, 17, 3)).astype(np.uint8)
    gif = save_animation(frames, tmp_path / "a.gif", fps=10)
    assert Image.open(gif).n_frames == 6
    mp4 = save_animation(frames, tmp_path / "a.mp4", fps=10)
    import imageio.v2 as imageio
    reader = imageio.get_reader(str(mp4), format="FFMPEG")
    try:
        assert reader.count_frames() == 6
        assert reader.get_data(0).shape[:2] == (136, 136)  # upscaled x8 for the encoder, then even
    finally:
        reader.close()
    with pytest.raises(ValueError):
        save_animation(frames, tmp_path / "a.avi")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gif", "a.mp4"]


def test_atomic_files_follow_the_umask(tmp_path):
    import os
    from ganexplorer.atomic import atomic_write_bytes
    old = os.umask(0o022)
    try:
        # the module read the umask at import; a fresh file gets 0o666 & ~umask-at-import
        atomic_write_bytes(tmp_path / "a.bin", b"x")
        mode = (tmp_path / "a.bin").stat().st_mode & 0o777
        assert mode & 0o044, oct(mode)          # readable by others, not 0600 as mkstemp makes
        (tmp_path / "a.bin").chmod(0o640)
        atomic_write_bytes(tmp_path / "a.bin", b"y")   # replacing keeps the old file's mode
        assert (tmp_path / "a.bin").stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)
