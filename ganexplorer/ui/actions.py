"""The window's actions (with shortcuts and tooltips), the toolbar with the model picker
and device box, the menus, the status-bar labels, and the settings they restore.

A mixin of `MainWindow` (ui/main_window.py): the actions call the window's commands
(`open_model_dialog`, `export_dialog`, `train_wizard`, ...) and the core's (`core.undo`,
`core.pin_current`, ...); `panels`, the docks and `image_view` exist before these are built.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QMessageBox, QToolBar


class WindowActions:
    """Actions, toolbar, menus and status bar of the explorer window."""

    def _action(self, text: str, slot, shortcut: Any = None, tip: str = "", checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        a.setToolTip(f"{tip or text.rstrip('…')}" + (f" ({keys})" if keys else ""))
        a.setStatusTip(tip or text)
        a.setCheckable(checkable)
        (a.toggled if checkable else a.triggered).connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        A = self._action
        SK = QKeySequence.StandardKey
        self.act_open = A("Open model…", self.open_model_dialog, SK.Open, "Open a checkpoint file")
        self.act_open_session = A("Open session…", self.open_session_dialog, "Ctrl+Shift+O",
                                  "Open a saved session (model, pins, groups, directions, view)")
        self.act_save_session = A("Save session…", self.save_session_dialog, SK.Save,
                                  "Save the session as JSON; reopening restores the exact images")
        self.act_export = A("Export…", self.export_dialog, "Ctrl+E", "Export a grid of pins or the current view")
        self.act_copy = A("Copy image", self.copy_image, "Ctrl+Shift+C", "Copy the shown image to the clipboard")
        self.act_save_npy = A("Save latent (.npy)…", self.save_latent_dialog, "Ctrl+Shift+S",
                              "Save the current latent ws [1, num_ws, w_dim] as .npy")
        self.act_quit = A("Quit", self.close, SK.Quit, "Close GAN Explorer")
        self.act_undo = A("Undo", self.core.undo, SK.Undo, "Undo the last change")
        self.act_redo = A("Redo", self.core.redo, SK.Redo, "Redo")
        self.act_pin = A("Pin current latent", self.core.pin_current, "P", "Keep the current latent as a pin")
        self.act_prev = A("Previous seed", lambda: self.sample_panel.step(-1), "Alt+Left", "Previous seed")
        self.act_next = A("Next seed", lambda: self.sample_panel.step(+1), "Alt+Right", "Next seed")
        self.act_random = A("Random seed", lambda: self.sample_panel.random_seed(), "Ctrl+R", "A random seed")
        self.act_zoom_in = A("Zoom in", lambda: self.image_view.zoom(1.25), SK.ZoomIn, "Zoom in")
        self.act_zoom_out = A("Zoom out", lambda: self.image_view.zoom(0.8), SK.ZoomOut, "Zoom out")
        self.act_fit = A("Fit image", self.image_view.fit, "F", "Fit the image to the view")
        self.act_smooth = A("Smooth zoom", self._set_smooth, "S", "Smooth (bilinear) or nearest-pixel zoom",
                            checkable=True)
        self.act_train = A("Train a model…", self.train_wizard, "Ctrl+T",
                           "Train a new model from a folder of images")
        self.act_about = A("About GAN Explorer", self._about, None, "About")
        self.panel_actions = []
        for p in self.panels:
            self.panel_actions.append(A(p.title, lambda _=False, p=p: self.show_panel(p), p.shortcut,
                                        f"Show the {p.title} panel"))

    def _build_toolbar_and_menus(self) -> None:
        tb = QToolBar("Main")
        tb.setObjectName("main-toolbar")
        tb.setMovable(False)
        self.addToolBar(tb)
        self.picker = QComboBox()
        self.picker.setMinimumWidth(260)
        self.picker.setToolTip("Choose a model: bundled, sample models from installed packages, recent "
                               "files, or Open… (you can also drop a file onto the window)")
        self.picker.activated.connect(self._picker_activated)
        tb.addWidget(QLabel(" Model "))
        tb.addWidget(self.picker)
        tb.addAction(self.act_open)
        tb.addSeparator()
        self.device_box = QComboBox()
        self.device_box.setToolTip("Where the generator runs: CPU or a CUDA GPU")
        self.device_box.addItem("CPU", "cpu")
        try:
            import torch
            for i in range(torch.cuda.device_count()):
                self.device_box.addItem(f"GPU {i}: {torch.cuda.get_device_name(i)}", f"cuda:{i}")
        except Exception:   # a broken CUDA install must not stop the window
            pass
        self.device_box.currentIndexChanged.connect(lambda _i: self.set_device(self.device_box.currentData()))
        tb.addWidget(QLabel(" Device "))
        tb.addWidget(self.device_box)
        tb.addSeparator()
        for a in (self.act_undo, self.act_redo, self.act_pin, self.act_zoom_in, self.act_zoom_out,
                  self.act_fit, self.act_smooth, self.act_export, self.act_train):
            tb.addAction(a)
        self.toolbar = tb

        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.act_open)
        self.recent_menu = m.addMenu("Recent models")
        m.addSeparator()
        for a in (self.act_open_session, self.act_save_session):
            m.addAction(a)
        m.addSeparator()
        for a in (self.act_export, self.act_copy, self.act_save_npy):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Edit")
        for a in (self.act_undo, self.act_redo, self.act_pin, self.act_prev, self.act_next, self.act_random):
            m.addAction(a)
        m.addSeparator()
        from .dialogs.preferences import open_preferences   # the render back end (issue 16)
        self.act_preferences = m.addAction("Pre&ferences…")
        self.act_preferences.setMenuRole(self.act_preferences.MenuRole.PreferencesRole)
        self.act_preferences.setToolTip("Choose the render back end and see which one is in use")
        self.act_preferences.triggered.connect(lambda: open_preferences(self))
        m = mb.addMenu("&View")
        for a in (self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_smooth):
            m.addAction(a)
        m.addSeparator()
        for a in self.panel_actions:
            m.addAction(a)
        m.addSeparator()
        for d in (self.panels_dock, self.info_dock, self.pins_dock):
            m.addAction(d.toggleViewAction())
        self.view_menu = m
        m = mb.addMenu("&Train")
        m.addAction(self.act_train)
        m = mb.addMenu("&Help")
        m.addAction(self.act_about)

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.ms_label = QLabel("—")
        self.ms_label.setToolTip("Time the last frame took in the renderer")
        self.fps_label = QLabel("—")
        self.fps_label.setToolTip("Frames shown per second (last second)")
        self.dev_label = QLabel(self.core.device)
        self.dev_label.setToolTip("Device the generator runs on")
        for w in (self.ms_label, self.fps_label, self.dev_label):
            sb.addPermanentWidget(w)

    def _tooltips_for_qt_parts(self) -> None:
        """Qt's own buttons (dock float / close, tab scrollers) get tooltips too."""
        from PySide6.QtWidgets import QAbstractButton
        tips = {"qt_dockwidget_floatbutton": "Detach this panel into its own window (double-click its title "
                                             "to dock it again)",
                "qt_dockwidget_closebutton": "Hide this panel (View menu brings it back)",
                "ScrollLeftButton": "Scroll the tabs left", "ScrollRightButton": "Scroll the tabs right",
                "qt_toolbar_ext_button": "More tools", "qt_menubar_ext_button": "More menus"}
        for b in self.findChildren(QAbstractButton):
            if not b.toolTip() and b.objectName() in tips:
                b.setToolTip(tips[b.objectName()])

    def _restore_settings(self) -> None:
        geo = self.settings.value("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        smooth = str(self.settings.value("smooth", "false")).lower() == "true"
        self.act_smooth.setChecked(smooth)
        self.image_view.set_smooth(smooth)
        i = self.device_box.findData(self.core.device)
        if i < 0:
            self.statusBar().showMessage(f"Device {self.core.device} is not available; rendering on the CPU.", 10000)
            self.core.device = self.jobs.device = "cpu"
            i = 0
        self.device_box.blockSignals(True)
        self.device_box.setCurrentIndex(i)
        self.device_box.blockSignals(False)
        self.dev_label.setText(self.core.device)
        self._fill_picker()

    def _set_smooth(self, on: bool) -> None:
        self.image_view.set_smooth(on)
        self.settings.setValue("smooth", "true" if on else "false")

    def _about(self) -> None:
        QMessageBox.about(self, "About GAN Explorer",
                          "GAN Explorer: open a trained GAN and explore its latent space by hand.\n\n"
                          "Shortcuts: Ctrl+O open, Alt+←/→ seed, Ctrl+R random seed, P pin, "
                          "Ctrl+Z / Ctrl+Shift+Z undo / redo, Ctrl+1…5 panels, F fit, S smooth zoom, "
                          "Ctrl+E export, Ctrl+Shift+C copy image.")
