"""Work is never lost: the autosave tick, the "unsaved work" question before anything
replaces the session, and the offer to restore what a crashed window autosaved.

A mixin of `MainWindow` (ui/main_window.py), which provides what these methods use:
`core` (the Explorer, which owns the autosave), `dirty`, `save_session_dialog`,
`open_model` and the status bar. Tests replace `ask_discard` / `ask_restore` on the
window to answer the questions.
"""
from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from ..session.recovery import Orphan


class UnsavedWork:
    """Autosave, the discard question and crash recovery."""

    def _flush_autosave(self) -> None:
        error = self.core.flush_autosave()
        if error:
            self.statusBar().showMessage(error, 8000)

    def mark_saved(self) -> None:
        """What is shown now is saved (or the user chose to let it go)."""
        self.core.mark_saved()

    def ask_discard(self, what: str) -> str:
        """'save', 'discard' or 'cancel'. Tests replace this method to answer it."""
        B = QMessageBox.StandardButton
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved work",
                          f"{what}\n\nThe pins, groups, directions and undo history of this session "
                          "are not saved.", B.Save | B.Discard | B.Cancel, self)
        box.setDefaultButton(B.Save)
        box.setObjectName("discard-dialog")
        answer = B(box.exec())
        return {B.Save: "save", B.Discard: "discard"}.get(answer, "cancel")

    def may_discard(self, what: str) -> bool:
        """True when the work on screen may be replaced: nothing unsaved, or the user saved
        it or chose to discard it."""
        if not self.core.dirty:
            return True
        answer = self.ask_discard(what)
        if answer == "save":
            self.save_session_dialog()
            return not self.core.dirty
        return answer == "discard"

    def ask_restore(self, orphan: Orphan) -> bool:
        """Offer a session a crash left behind. Tests replace this method to answer it."""
        B = QMessageBox.StandardButton
        box = QMessageBox(QMessageBox.Icon.Question, "Restore the last session?",
                          "GAN Explorer did not close normally last time. Restore the work it "
                          f"autosaved?\n\n{orphan.summary()}", B.Yes | B.No, self)
        box.button(B.Yes).setText("Restore")
        box.button(B.No).setText("Discard")
        box.setObjectName("restore-dialog")
        return B(box.exec()) == B.Yes

    def offer_recovery(self) -> bool:
        """At start: offer what a crashed or killed window autosaved; True when restored."""
        found = self.core.orphans()
        if not found:
            return False
        newest = found[0]
        restore = self.ask_restore(newest)
        self.core.discard_orphans(found)   # restored into this window (its own autosave takes over), or declined
        if not restore or newest.model is None:
            return False
        self.open_model(newest.model.path, then_state=newest.state, expect_sha=newest.model.sha256,
                        ask=False, restored=True)
        return True
