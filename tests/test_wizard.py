"""The training wizard, driven like a person would, with the real trainer in a child process.

Every training here is tiny (digits, batch 16, one CPU thread, ticks every second) and is
stopped or killed after a few events; the tests wait on signals, never on sleep.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from ganexplorer.session.runs import list_runs
from ganexplorer.ui.dialogs.train_wizard import (BUDGET_PAGE, DATA_PAGE, LIVE_PAGE, MODEL_PAGE,
                                                 SUMMARY_PAGE, TrainWizard)
from ganexplorer.ui.training import controller as C

DRY_RUN_MS = 60_000       # a dry run starts Python and torch: seconds on a busy 2-core machine
TRAIN_MS = 120_000
TINY = "--batch 16 --threads 1 --tick-seconds 1 --grid-size 16"


@pytest.fixture
def wizard(qtbot, tmp_path):
    w = TrainWizard(runs_root=tmp_path / "runs")
    qtbot.addWidget(w)
    yield w
    # never leave a trainer behind, whatever the test did
    ctl = w.controller
    if ctl is not None and ctl.process.is_running():
        with qtbot.waitSignal(ctl.process.finished, timeout=30_000):
            ctl.process.kill()


def _next(qtbot, w: TrainWizard, expected: int) -> None:
    button = w.button(QWizard.WizardButton.CommitButton if w.currentId() == SUMMARY_PAGE
                      else QWizard.WizardButton.NextButton)
    assert button.isEnabled()
    button.click()
    assert w.currentId() == expected


def walk_to_live(qtbot, w: TrainWizard, extra: str) -> None:
    """Data (digits) -> Model (DCGAN-32) -> Budget (tiny) -> Summary -> Start training."""
    w.show()
    page = w.data_page
    with qtbot.waitSignals([page.dry_run.succeeded, page.previewShown], timeout=DRY_RUN_MS):
        page.set_source("digits")        # dry run in a process, thumbnails in a thread
    assert page.isComplete(), page.problems.text()
    assert "1,797 images" in page.status.text()
    assert page.thumbs.count() > 0

    _next(qtbot, w, MODEL_PAGE)
    model = w.model_page
    assert "Recommended" in model.recommendation.text()
    model.preset_combo.setCurrentIndex(model.preset_combo.findData("dcgan-32"))
    model.augment_combo.setCurrentIndex(model.augment_combo.findData("none"))

    _next(qtbot, w, BUDGET_PAGE)
    budget = w.budget_page
    budget.kimg_spin.setValue(20)                   # far more than the test lets it train
    budget.device_combo.setCurrentIndex([d[1] for d in budget.devices].index("cpu"))
    budget.extra_edit.setText(extra)
    assert "Estimated time" in budget.estimate.text()

    summary = w.summary_page
    with qtbot.waitSignal(summary.dry_run.succeeded, timeout=DRY_RUN_MS):
        _next(qtbot, w, SUMMARY_PAGE)
    assert summary.isComplete(), summary.problems.text()
    assert "--preset dcgan-32" in summary.command_edit.text()
    assert summary.config_tree.findItems("kimg", Qt.MatchFlag.MatchExactly)

    _next(qtbot, w, LIVE_PAGE)
    assert w.controller is not None and w.controller.state == C.RUNNING


@pytest.mark.slow   # runs the real trainer (make test-fast skips it)
def test_train_digits_watch_stop_and_open(qtbot, wizard, tmp_path):
    walk_to_live(qtbot, wizard, TINY + " --snap-kimg 100")
    monitor = wizard.live_page.monitor
    ctl = wizard.controller

    # at least two tick events reach the curves
    with qtbot.waitSignal(monitor.curvesUpdated, timeout=TRAIN_MS, check_params_cb=lambda n: n >= 2):
        pass
    smooth, raw = monitor._curve_items["loss_G"]
    assert len(raw.getData()[0]) >= 2 and len(smooth.getData()[0]) >= 2
    assert "loss_D" in monitor._curve_items
    assert monitor.speed_label.text() != "—"

    # Stop: the trainer saves a checkpoint and exits cleanly
    with qtbot.waitSignal(wizard.checkpointSaved, timeout=TRAIN_MS) as saved, \
            qtbot.waitSignal(ctl.stateChanged, timeout=TRAIN_MS, check_params_cb=lambda s: s == C.STOPPED):
        monitor.stop_button.click()
    assert Path(saved.args[0]).is_file()
    assert not ctl.process.is_running()
    assert ctl.history.end["reason"] == "stopped"
    monitor.refresh()                     # (normally on its 100 ms redraw timer)
    assert not monitor.grid_label.pixmap().isNull()      # the sample grid saved on the way out

    # Open in explorer: the newest EMA checkpoint
    assert monitor.open_button.isEnabled()
    with qtbot.waitSignal(wizard.openCheckpointRequested, timeout=5000) as blocker:
        monitor.open_button.click()
    path = Path(blocker.args[0])
    assert path.suffix == ".safetensors" and path.is_file()
    assert path.parent == ctl.run_dir
    # and the run is offered to the model picker
    assert list_runs(tmp_path / "runs") == [(ctl.run_dir, path)]

    from ganexplorer.models.registry import load_model
    assert load_model(path) is not None


def test_empty_folder_shows_problem_and_blocks_next(qtbot, wizard, tmp_path):
    folder = tmp_path / "no_images"
    folder.mkdir()
    (folder / "notes.txt").write_text("not an image")
    wizard.show()
    page = wizard.data_page
    with qtbot.waitSignal(page.dry_run.succeeded, timeout=DRY_RUN_MS):
        page.set_source(str(folder))
    assert page.problems.isVisible()
    assert "no .png, .jpg or .webp images" in page.problems.text()
    assert not page.isComplete()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert wizard.currentId() == DATA_PAGE


@pytest.mark.slow   # runs the real trainer (make test-fast skips it)
def test_killed_trainer_shows_message_offers_checkpoint_and_resumes(qtbot, wizard, tmp_path):
    walk_to_live(qtbot, wizard, TINY + " --snap-kimg 0.1")
    monitor = wizard.live_page.monitor
    ctl = wizard.controller
    with qtbot.waitSignal(ctl.eventsApplied, timeout=TRAIN_MS,
                          check_params_cb=lambda evs: any(e["type"] == "checkpoint" for e in evs)):
        pass
    ckpt = ctl.history.last_good_checkpoint()
    assert ckpt is not None

    with qtbot.waitSignal(ctl.failure, timeout=30_000) as blocker:
        os.kill(ctl.process.pid(), signal.SIGKILL)
    assert "killed" in blocker.args[0]
    assert ctl.state == C.FAILED
    assert monitor.banner.isVisible()
    text = monitor.banner.label.text()
    assert "last good checkpoint" in text and ctl.history.last_good_checkpoint().path.name in text
    assert monitor.open_last_button.isVisible() and monitor.resume_last_button.isEnabled()
    with qtbot.waitSignal(wizard.openCheckpointRequested, timeout=5000) as opened:
        monitor.open_last_button.click()
    assert Path(opened.args[0]).is_file()

    # Reopen the run from its folder in a fresh wizard: curves come back from events.jsonl,
    # and Resume continues it with --resume from the last complete state.
    run_dir = ctl.run_dir
    again = TrainWizard(runs_root=tmp_path / "runs")
    qtbot.addWidget(again)
    again.show()
    ctl2 = again.open_run(run_dir)
    assert again.currentId() == LIVE_PAGE
    assert ctl2.state == C.IDLE and ctl2.can_resume()
    assert len(ctl2.history.losses["loss_G"]) >= 1
    monitor2 = again.live_page.monitor
    assert monitor2.pause_button.text() == "Resume" and monitor2.pause_button.isEnabled()
    with qtbot.waitSignal(ctl2.eventsApplied, timeout=TRAIN_MS,
                          check_params_cb=lambda evs: any(e["type"] == "tick" for e in evs)):
        monitor2.pause_button.click()
    assert ctl2.history.starts == 2 and ctl2.history.start.get("resumed_from")
    assert ctl2.history.start["step"] >= ckpt.step
    with qtbot.waitSignal(ctl2.stateChanged, timeout=TRAIN_MS, check_params_cb=lambda s: s == C.PAUSED):
        monitor2.pause_button.click()     # Pause = checkpoint and exit; Resume is offered again
    assert monitor2.pause_button.text() == "Resume"


def test_a_trainer_that_refuses_to_start_shows_its_own_words(qtbot, tmp_path):
    import sys
    from ganexplorer.ui.training.command import Command
    from ganexplorer.ui.training.controller import RunController
    from ganexplorer.ui.training.live import TrainingMonitor
    ctl = RunController(tmp_path / "run")
    monitor = TrainingMonitor()
    qtbot.addWidget(monitor)
    monitor.set_controller(ctl)
    code = ("import sys; print('loading...'); "
            "print('ganexplorer-train: error: --out holds a run already', file=sys.stderr); sys.exit(1)")
    with qtbot.waitSignal(ctl.failure, timeout=30_000) as blocker:
        ctl._launch(Command(sys.executable, ("-c", code)))
    assert "exited with code 1" in blocker.args[0]
    assert "--out holds a run already" in blocker.args[0]
    assert "No checkpoint had been saved yet" in monitor.banner.label.text()
    assert not monitor.open_last_button.isVisible() and not monitor.open_button.isEnabled()


def test_log_rewrites_progress_lines_in_place(qtbot):
    from ganexplorer.ui.training.live import LogView
    log = LogView()
    qtbot.addWidget(log)
    log.append_text("start\n 10%|█ | 0.1/1 kimg\r")
    log.append_text(" 20%|██ | 0.2/1 kimg\r 30%|███ | 0.3")
    log.append_text("/1 kimg\rdone\nnext line\n")
    assert log.text().splitlines() == ["start", "done", "next line"]


def test_budget_page_refuses_a_folder_that_holds_a_run(qtbot, wizard, tmp_path):
    run = tmp_path / "old_run"
    run.mkdir()
    (run / "events.jsonl").write_text("")
    budget = wizard.budget_page
    # A run killed before its first complete state may start again in place (the trainer's rule) ...
    budget.out_edit.setText(str(run))
    assert budget.isComplete()
    (run / "resume-00000002.pt").write_bytes(b"")     # ... one that saved a state may not.
    budget.out_edit.setText("")
    budget.out_edit.setText(str(run))
    assert not budget.isComplete()
    assert "already holds a training run" in budget.out_problem.text()
    budget.out_edit.setText(str(tmp_path / "fresh"))
    budget.extra_edit.setText("--seed '1")
    assert not budget.isComplete() and "quotes" in budget.out_problem.text()
    budget.extra_edit.setText("--seed 1")
    assert budget.isComplete() and budget.extra_args() == ["--seed", "1"]


def test_trainer_commands_one_device_and_torchrun():
    import sys
    from ganexplorer.ui.training.command import trainer_command
    from ganexplorer.ui.training.controller import resumable_flags
    from trainer.__main__ import config_from_args
    from trainer.config import from_preset
    cfg = from_preset("stylegan2-64", data="/data/my cats", kimg=0.5, batch=32, augment="ada",
                      device="cuda", out=str(Path("/runs/x")), seed=3)
    gpus = (0, 1)
    args = cfg.to_args()                       # TrainConfig renders its own command line ...
    assert config_from_args(args) == cfg       # ... which the trainer resolves back to it
    assert args[:6] == ["--preset", "stylegan2-64", "--data", "/data/my cats", "--kimg", "0.5"]
    assert ["--device", "cuda"] == args[args.index("--device"):args.index("--device") + 2]
    cmd = trainer_command(args, gpus)
    assert cmd.program == sys.executable
    assert cmd.args[:4] == ("-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2")
    assert ("CUDA_VISIBLE_DEVICES", "0,1") in cmd.env
    line = cmd.shell()
    assert line.startswith("CUDA_VISIBLE_DEVICES=0,1 python -m torch.distributed.run")
    assert "'/data/my cats'" in line and "PYTHONUNBUFFERED" not in line
    one = trainer_command(from_preset("dcgan-32", data="digits", device="cpu", out="/r").to_args())
    assert one.args[:2] == ("-m", "trainer") and "--device" in one.args
    # a resume repeats only what the trainer lets a resumed run change
    assert resumable_flags(["--preset", "dcgan-32", "--batch", "16", "--kimg", "5", "--device", "cpu",
                            "--tick-seconds=1", "--no-progress", "--seed", "2"]) == \
        ["--kimg", "5", "--device", "cpu", "--tick-seconds=1", "--no-progress"]


def test_recommendation_follows_dataset_size_and_device():
    from ganexplorer.ui.dialogs.train_wizard import recommend
    small_grey = {"count": 1797, "size_histogram": {"8x8": 1797}}
    assert recommend(small_grey, has_gpu=False)[:2] == ("dcgan-32", "ada")
    photos = {"count": 50000, "size_histogram": {"512x512": 40000, "640x480": 10000}}
    assert recommend(photos, has_gpu=True)[:2] == ("stylegan2-256", "none")
    assert recommend(photos, has_gpu=False)[0] == "dcgan-64"
    few_faces = {"count": 900, "size_histogram": {"128x128": 900}}
    preset, augment, why = recommend(few_faces, has_gpu=True)
    assert preset == "stylegan2-64" and augment == "ada" and "900 images" in why


@pytest.mark.slow   # runs the real trainer (make test-fast skips it)
def test_reopened_run_trained_elsewhere_is_watched_not_resumed(qtbot, wizard, tmp_path):
    import subprocess
    import sys
    run = tmp_path / "runs" / "from-a-terminal"
    proc = subprocess.Popen([sys.executable, "-m", "trainer", "--preset", "dcgan-32", "--data", "digits",
                             "--kimg", "20", "--batch", "16", "--threads", "1", "--tick-seconds", "1",
                             "--snap-kimg", "100", "--device", "cpu", "--no-progress", "--out", str(run)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wizard.show()
        ctl = wizard.open_run(run)      # the folder may not even have events yet
        with qtbot.waitSignal(ctl.stateChanged, timeout=TRAIN_MS, check_params_cb=lambda s: s == C.ELSEWHERE):
            pass
        monitor = wizard.live_page.monitor
        assert not ctl.can_resume() and not monitor.pause_button.isEnabled()
        assert "Another process is training this run" in monitor.banner.label.text()
        with qtbot.waitSignal(ctl.stateChanged, timeout=TRAIN_MS, check_params_cb=lambda s: s == C.PAUSED):
            proc.send_signal(signal.SIGTERM)     # Ctrl-C/SIGTERM in the terminal: checkpoint, end "stopped"
        assert ctl.can_resume() and monitor.pause_button.text() == "Resume"
    finally:
        proc.kill()
        proc.wait()
