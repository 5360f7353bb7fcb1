"""The one error every checkpoint reader raises."""
from __future__ import annotations


class CheckpointError(Exception):
    """A checkpoint could not be opened. The message is a sentence a person can act on,
    e.g. "model.pkl is a TensorFlow StyleGAN pickle; convert it with ...".
    """
