"""Opening a model in the window: the background load, its failure dialog, declaring a
DCGAN's label size, and what the window does once a model is open.

A mixin of `MainWindow` (ui/main_window.py), which provides what these methods use:
`core` (the Explorer), `jobs`, `_cache`, `info`, `tabs`, `panels`, `mix_panel`,
`sample_panel`, `may_discard`, `set_view`, `show_panel`, `current_panel`, `tab_index`,
`error_box`, `_add_recent`, `_fill_picker`, the `modelChanged` / `modelLoadFailed` signals
and the status bar.
"""
from __future__ import annotations

import gc
from pathlib import Path

from ..models.loaded import LoadedModel
from ..session.state import SessionState


class ModelOpening:
    """The open-model flow: errors go to a dialog and the previous model stays open."""

    def open_model(self, path: str, then_state: SessionState | None = None, expect_sha: str = "",
                   ask: bool = True, restored: bool = False) -> None:
        """Open a checkpoint in the background. On failure the loader's message is shown in a
        dialog and the previous model stays loaded. Unsaved work is asked about first."""
        path = str(path)
        if ask and not self.may_discard(f"Open {Path(path).name}?"):
            return
        self.statusBar().showMessage(f"Opening {Path(path).name}…")
        self.jobs.start(self._cache.get, path, name="open model",
                        on_done=lambda m: self._model_loaded(m, then_state, expect_sha, restored),
                        on_error=self._model_failed)

    def declare_label_size(self, c_dim: int) -> None:
        """The open DCGAN's last c_dim inputs are a one-hot label (0: none), remembered for the
        file (models/declared.py); the model is opened again, read that way."""
        m = self.core.model
        if m is None:
            return
        from ..models.declared import remember_c_dim, with_c_dim
        from ..models.errors import CheckpointError
        try:
            with_c_dim(m, c_dim)          # checks the size before it is remembered
        except CheckpointError as e:
            self.error_box("Could not declare the label size", str(e))
            return
        remember_c_dim(m.sha256, c_dim or None)
        self.open_model(str(m.path), then_state=self.core.state, ask=False)

    def _model_failed(self, message: str) -> None:
        self.last_error = message
        self.statusBar().showMessage("Could not open the model; the previous one stays open.", 8000)
        self._fill_picker()
        self.modelLoadFailed.emit(message)
        self.error_box("Could not open the model", message)

    def _model_loaded(self, model: LoadedModel, then_state: SessionState | None, expect_sha: str,
                      restored: bool = False) -> None:
        self.last_error = ""
        self.core.model_loaded(model, then_state, restored)
        self._add_recent(str(model.path))
        self._fill_picker()
        self.info.show_model(model)
        self.setWindowTitle(f"GAN Explorer — {model.name}")
        if then_state is not None:
            self.set_view(then_state.view)
            if expect_sha and expect_sha != model.sha256:
                self.error_box("The model file changed",
                               f"{model.path.name} is not the file this session was saved with (its sha256 "
                               "differs), so the images may differ.")
        styles = model.G.has_styles
        self.tabs.setTabVisible(self.tab_index(self.mix_panel), styles)
        if not styles and self.current_panel() is self.mix_panel:
            self.show_panel(self.sample_panel)
        with self.core.muted():     # ranges adapting to the model are not gestures (no "cutoff 1" step)
            for p in self.panels:
                hook = getattr(p, "on_model", None)
                if hook is not None:
                    hook(model)
        if model.warnings:   # e.g. NaN weights: the model opens, but the user is told why images break
            self.statusBar().showMessage(" ".join(model.warnings), 20000)
        else:
            self.statusBar().showMessage(f"Opened {model.path.name}", 5000)
        self.core.refresh()
        self.modelChanged.emit(model)
        # The model, torch, Qt and pyqtgraph are long-lived: move them out of the collector's
        # sight, or every full collection walks them all (240 ms on the GUI thread, measured
        # with bench/ui_latency.py). Unfreeze and sweep everything first: what the previous
        # model and its history left as cyclic garbage must not be frozen forever (the soak
        # test saw memory grow with every model switch).
        gc.unfreeze()
        gc.collect()
        gc.freeze()
