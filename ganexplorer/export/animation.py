"""Image sequences to GIF (Pillow) or MP4 (imageio-ffmpeg's bundled encoder)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from ..atomic import atomic_path

FORMATS = (".gif", ".mp4")


def save_animation(frames: np.ndarray, path: str | os.PathLike, fps: float = 24.0,
                   loop: bool = True) -> Path:
    """frames [T, H, W, 3] uint8 -> .gif or .mp4, written atomically."""
    path = Path(path)
    frames = np.asarray(frames, np.uint8)
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise ValueError("an animation needs frames shaped [T, H, W, 3]")
    suffix = path.suffix.lower()
    if suffix == ".gif":
        images = [Image.fromarray(f) for f in frames]
        with atomic_path(path) as tmp:
            images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                           duration=max(int(round(1000 / fps)), 20), loop=0 if loop else 1)
        return path
    if suffix == ".mp4":
        import imageio.v2 as imageio
        # H.264 wants even sizes and >= 16 px: pad tiny frames by edge repetition.
        T, H, W, _ = frames.shape
        scale = max(1, int(np.ceil(128 / max(H, W))))
        if scale > 1:
            frames = frames.repeat(scale, axis=1).repeat(scale, axis=2)
        H2, W2 = frames.shape[1] + frames.shape[1] % 2, frames.shape[2] + frames.shape[2] % 2
        if (H2, W2) != frames.shape[1:3]:
            frames = np.pad(frames, ((0, 0), (0, H2 - frames.shape[1]), (0, W2 - frames.shape[2]), (0, 0)),
                            mode="edge")
        with atomic_path(path) as tmp:
            writer = imageio.get_writer(str(tmp), format="FFMPEG", fps=fps, codec="libx264",
                                        quality=8, macro_block_size=1, pixelformat="yuv420p")
            try:
                for f in frames:
                    writer.append_data(f)
            finally:
                writer.close()
        return path
    raise ValueError(f"{path.name}: animations are saved as .gif or .mp4")
