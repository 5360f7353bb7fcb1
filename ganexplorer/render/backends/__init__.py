"""Render back ends: eager PyTorch (the reference) and a fast compiled graph (OpenVINO on a
CPU), with the selection between them and a load-aware thread policy.

For the window (Qt-free; call from the render thread or a settings dialog):
    preference() / save_preference('auto' | 'eager' | 'openvino')   the Preferences entry
    prepare_async(G, (1, G.num_ws, G.w_dim)) -> Prepared            optional: build early
    Prepared.ready() / .done() / .error / .max_abs_diff             poll, never wait
    active_backend(G, shape), describe(G, shape)                     for the status bar / dialog
    release_model(G)                                                 a model closed: free its graphs
`ganexplorer.render.synth.synthesize` routes every synthesis call through
`render_synthesis`, so the renderer needs nothing else.
"""
from .graphs import CACHE, TOLERANCE, Prepared
from .setting import CHOICES, check_choice, preference, save_preference, set_preference
from .selection import (PREPARE_AFTER_S, active_backend, describe, prepare_async, release_model,
                        render_synthesis)
from .threads import POLICY

__all__ = ["CACHE", "CHOICES", "POLICY", "PREPARE_AFTER_S", "TOLERANCE", "Prepared", "active_backend",
           "check_choice", "describe", "preference", "prepare_async", "release_model", "render_synthesis",
           "save_preference", "set_preference"]
