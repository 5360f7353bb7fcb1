"""Labels: mark samples as having (+) or lacking (−) a named attribute and learn its
direction (InterFaceGAN): a linear classifier in W (Z for a DCGAN) whose boundary normal
becomes a saved direction, a slider in the Directions panel with its held-out accuracy.

Click a thumbnail (a seed of the page, or a pin) to cycle it: unmarked → + → − → unmarked.
"Import attribute file…" reads a `seed,label` CSV. "Keep fixed" lists saved directions the
new one is made orthogonal to (conditional manipulation: "more smile, same gender").
Learning runs as a job on its own copy of the model, never on the GUI thread.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QPushButton, QSpinBox, QVBoxLayout)

from ...latent.labelled import LabelledDirection, labelled_direction, read_label_csv
from ...session.state import SavedDirection, SessionState
from ...views import View
from ...views.labels import LabelsState, TrainingSet, training_set
from ..context import PanelContext
from ..widgets.thumbs import ThumbList
from .base import Panel

HAS = QColor(60, 170, 80, 110)        # the tint of a thumbnail marked +
LACKS = QColor(210, 60, 60, 110)      # ... marked −
MIN_EACH = 2                          # the classifier's least: 2 of each (5 or more for 5-fold CV)


def learn(job_model, ts: TrainingSet, name: str, others: np.ndarray | None) -> LabelledDirection:
    """The job: fit the boundary on the job's own copy of G (worker thread)."""
    return labelled_direction(job_model.G, list(ts.pos_seeds), list(ts.neg_seeds), name, others,
                              pos_latents=ts.pos_latents, neg_latents=ts.neg_latents)


class LabelsPanel(Panel):
    view = View.LABELS
    shortcut = "Ctrl+6"
    learned = Signal(str)             # the name of a direction just learned and saved (tests wait on it)
    learnFailed = Signal(str)

    def __init__(self, ctx: PanelContext):
        super().__init__(ctx)
        self._job = None
        self._page_key: str | None = None
        self._page_tiles: dict[int, np.ndarray] = {}
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Attribute"))
        self.attribute = QLineEdit()
        self.attribute.setPlaceholderText("e.g. smiling")
        self.attribute.setToolTip("The attribute's name: the learned direction is saved under it")
        row.addWidget(self.attribute, 1)
        lay.addLayout(row)

        row = QHBoxLayout()
        self.prev_page = QPushButton("◀")
        self.prev_page.setToolTip("The previous page of seeds to mark")
        self.next_page = QPushButton("▶")
        self.next_page.setToolTip("The next page of seeds to mark")
        self.page_label = QLabel()
        self.page_size = QSpinBox()
        self.page_size.setRange(4, 64)
        self.page_size.setToolTip("How many seeds a page shows")
        row.addWidget(self.prev_page)
        row.addWidget(self.page_label, 1)
        row.addWidget(self.next_page)
        row.addWidget(QLabel("per page"))
        row.addWidget(self.page_size)
        lay.addLayout(row)
        self.grid = ThumbList(56, tooltip="Click to mark: + has the attribute, − lacks it, again to unmark")
        lay.addWidget(self.grid, 1)
        self.counts = QLabel()
        self.counts.setWordWrap(True)
        lay.addWidget(self.counts)
        row = QHBoxLayout()
        self.import_btn = QPushButton("Import attribute file…")
        self.import_btn.setToolTip("Read a seed,label CSV (labels 1/0, yes/no, +/-): each seed takes its label")
        self.clear_btn = QPushButton("Clear marks")
        self.clear_btn.setToolTip("Unmark every sample")
        row.addWidget(self.import_btn, 1)
        row.addWidget(self.clear_btn)
        lay.addLayout(row)
        lay.addWidget(QLabel("Keep fixed (orthogonal to):"))
        self.keep = QListWidget()
        self.keep.setMaximumHeight(90)
        self.keep.setToolTip("Saved directions the learned one is made orthogonal to, so moving along it "
                             "leaves them unchanged (InterFaceGAN's conditional manipulation)")
        lay.addWidget(self.keep)
        self.learn_btn = QPushButton("Learn direction")
        self.learn_btn.setToolTip("Fit a linear classifier to the marked samples (off the GUI thread); its "
                                  "boundary normal becomes a saved direction in the Directions panel")
        lay.addWidget(self.learn_btn)
        self.status = QLabel()
        self.status.setWordWrap(True)
        lay.addWidget(self.status)

        self.attribute.editingFinished.connect(self._attribute_edited)
        self.prev_page.clicked.connect(lambda: self._page(-1))
        self.next_page.clicked.connect(lambda: self._page(+1))
        self.page_size.valueChanged.connect(lambda n: self.change_sub(f"{n} seeds per page", None, page_size=n))
        self.grid.clickedData.connect(self.toggle)
        self.import_btn.clicked.connect(self._import_dialog)
        self.clear_btn.clicked.connect(lambda: self.change_sub("clear marks", None, marks=()))
        self.keep.itemChanged.connect(self._keep_changed)
        self.learn_btn.clicked.connect(self.learn)

    # ------------------------------------------------------------------ gestures
    def _attribute_edited(self) -> None:
        name = self.attribute.text().strip()
        if name and name != self.sub.attribute:
            self.change_sub(f"attribute {name}", None, attribute=name)

    def _page(self, step: int) -> None:
        s: LabelsState = self.sub
        start = max(0, s.page_start + step * s.page_size)
        if start != s.page_start:
            self.change_sub(f"label seeds from {start}", None, page_start=start)

    def toggle(self, target) -> None:
        """A click on a thumbnail: ('seed', s) or ('pin', id) cycles unmarked → + → −."""
        kind, key = target
        s: LabelsState = self.sub
        new = s.cycled(seed=key) if kind == "seed" else s.cycled(pin_id=key)
        mark = new.mark(seed=key) if kind == "seed" else new.mark(pin_id=key)
        what = f"{kind} {key}" if kind == "seed" else f"pin #{key}"
        word = {True: "+", False: "−", None: "unmarked"}[mark]
        self.change_sub(f"{what} {word} {s.attribute}", None, marks=new.marks)

    def import_file(self, path: str) -> None:
        """Marks from a `seed,label` file, one undo step; a bad file says why and changes nothing."""
        try:
            pos, neg = read_label_csv(path)
        except (OSError, ValueError) as e:
            self.ctx.error_box("Attribute file", str(e))
            return
        if not pos and not neg:
            self.ctx.error_box("Attribute file", f"{path}: no seed,label rows found")
            return
        new = self.sub.with_seed_labels(pos, neg)
        self.change_sub(f"import {len(pos)} + / {len(neg)} −", None, marks=new.marks)
        self.ctx.status(f"Imported {len(pos)} seeds with and {len(neg)} without {self.sub.attribute}.")

    def _import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import attribute file", "", "seed,label files (*.csv *.txt)")
        if path:
            self.import_file(path)

    def _keep_changed(self, _item) -> None:
        names = tuple(self.keep.item(i).text() for i in range(self.keep.count())
                      if self.keep.item(i).checkState() == Qt.CheckState.Checked)
        if names != self.sub.orthogonal_to:
            self.change_sub("keep fixed: " + (", ".join(names) or "nothing"), None, orthogonal_to=names)

    # ------------------------------------------------------------------ learning
    def learn(self) -> None:
        """Fit the classifier as a job; the result is saved as a direction named after the attribute."""
        model = self.ctx.current_model()
        if model is None:
            self.status.setText("Open a model first.")
            return
        if self._job is not None:
            return
        state = self.ctx.state
        s: LabelsState = state.sub(View.LABELS)
        ts = training_set(s, state, model.G.w_dim)
        n_pos, n_neg = ts.counts
        if n_pos < MIN_EACH or n_neg < MIN_EACH:
            self.status.setText(f"Mark at least {MIN_EACH} samples with and {MIN_EACH} without "
                                f"{s.attribute} (now {n_pos} and {n_neg}).")
            return
        keep = [d for d in state.saved_directions if d.name in s.orthogonal_to and d.name != s.attribute]
        others = np.stack([d.vector for d in keep]) if keep else None
        name = s.attribute
        self.learn_btn.setEnabled(False)
        self.status.setText(f"Learning {name} from {n_pos} + and {n_neg} − samples…")

        def done(d: LabelledDirection) -> None:
            self._job = None
            self.learn_btn.setEnabled(True)
            if self.ctx.current_model() is not model:      # another model was opened meanwhile
                self.status.setText(f"{d.name} was learned on the model closed since; not saved.")
                return
            saved = tuple(x for x in self.ctx.state.saved_directions if x.name != d.name)
            new = SavedDirection(d.name, d.direction.astype(np.float32), float(d.scale), float(d.accuracy))
            self.ctx.change(f"learn direction {d.name}", None, saved_directions=saved + (new,))
            kept = f", orthogonal to {d.conditioned_on} kept direction(s)" if d.conditioned_on else ""
            self.status.setText(f"{d.name}: held-out accuracy {d.accuracy:.2f} ({d.folds}-fold, "
                                f"{d.n_pos} + / {d.n_neg} −){kept}. It is a slider in Directions ▸ "
                                "Saved directions.")
            self.learned.emit(d.name)

        def failed(message: str) -> None:
            self._job = None
            self.learn_btn.setEnabled(True)
            self.status.setText(f"Learning failed: {message}")
            self.learnFailed.emit(message)

        self._job = self.ctx.jobs.start_on_model(model, learn, ts, name, others, name="labelled direction",
                                                 on_done=done, on_error=failed)

    # ------------------------------------------------------------------ sync
    def sync(self, state: SessionState) -> None:
        s: LabelsState = state.sub(View.LABELS)
        if self.attribute.text().strip() != s.attribute:
            self.attribute.setText(s.attribute)
        self.page_size.setValue(s.page_size)
        self.page_label.setText(f"seeds {s.page_start}–{s.page_start + s.page_size - 1}")
        self.prev_page.setEnabled(s.page_start > 0)
        pos, neg = s.counts()
        self.counts.setText(f"{pos} marked with {s.attribute}, {neg} without. At least {MIN_EACH} of each; "
                            "20 or more of each give a steadier direction.")
        self.keep.blockSignals(True)
        self.keep.clear()
        for d in state.saved_directions:
            if d.name == s.attribute:
                continue
            it = QListWidgetItem(d.name)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Checked if d.name in s.orthogonal_to else Qt.CheckState.Unchecked)
            self.keep.addItem(it)
        self.keep.blockSignals(False)
        self._show_grid(state)

    def on_result(self, result) -> None:
        fig = result.extras.get("labels_page")
        key = result.extra_keys.get("labels_page")
        pins_changed = "pins" in result.extra_keys and result.extra_keys["pins"] != getattr(self, "_pins_key", None)
        page_changed = fig is not None and key != self._page_key
        if page_changed:
            self._page_key = key
            self._page_tiles = {int(s): t for s, t in zip(fig.meta.get("seeds", []), fig.tiles)}
        if page_changed or pins_changed:       # an unchanged page and pins: the grid stands
            self._pins_key = result.extra_keys.get("pins")
            self._show_grid(self.ctx.state)

    def _show_grid(self, state: SessionState) -> None:
        """The page's seeds then the pins, each tinted and captioned by its mark."""
        s: LabelsState = state.sub(View.LABELS)
        seeds = list(range(s.page_start, s.page_start + s.page_size))
        pins_fig = self.ctx.figure("pins")
        pin_tiles = (dict(zip([p.id for p in state.pins], pins_fig.tiles))
                     if pins_fig is not None and len(pins_fig.tiles) == len(state.pins) else {})
        targets = [("seed", k) for k in seeds] + [("pin", p.id) for p in state.pins]
        tiles = [self._page_tiles.get(k) if kind == "seed" else pin_tiles.get(k) for kind, k in targets]
        marks = [s.mark(seed=k) if kind == "seed" else s.mark(pin_id=k) for kind, k in targets]
        names = [str(k) if kind == "seed" else f"pin #{k}" for kind, k in targets]
        labels = [("+ " if m else "− " if m is False else "") + n for m, n in zip(marks, names)]
        if all(t is not None for t in tiles) and tiles:
            self.grid.set_tiles(tiles, labels, targets,
                                [f"{n}: {'has' if m else 'lacks' if m is False else 'not marked for'} "
                                 f"{s.attribute}; click to change" for m, n in zip(marks, names)])
        else:
            self.grid.set_placeholders(labels, targets)
        for i, m in enumerate(marks):
            if m is not None:
                self.grid.item(i).setBackground(QBrush(HAS if m else LACKS))
