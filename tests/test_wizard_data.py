"""The wizard's data page and live page against the trainer's own data checks (in-process):
square thumbnails that keep the aspect ratio, the size histogram beside problems, warnings
for mixed sizes and small datasets, and a diverging run's warning on the live page."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from ganexplorer.runs.events import make
from ganexplorer.session.run_events import load_history
from ganexplorer.ui.dialogs.train_wizard import TrainWizard
from ganexplorer.ui.training.preview import THUMB, load_preview
from trainer.data import SAMPLES, summarize


@pytest.fixture
def wizard(qtbot, tmp_path):
    w = TrainWizard(runs_root=tmp_path / "runs")
    qtbot.addWidget(w)
    return w


def _opaque_box(image) -> tuple[int, int]:
    """(width, height) of the non-transparent part of a QImage."""
    xs, ys = [], []
    for y in range(image.height()):
        for x in range(image.width()):
            if image.pixelColor(x, y).alpha() > 0:
                xs.append(x)
                ys.append(y)
    return (max(xs) - min(xs) + 1, max(ys) - min(ys) + 1) if xs else (0, 0)


def test_thumbnails_of_non_square_images_keep_their_aspect_ratio(tmp_path):
    Image.new("RGB", (200, 50), (200, 0, 0)).save(tmp_path / "wide.png")
    Image.new("RGB", (30, 90), (0, 200, 0)).save(tmp_path / "tall.png")
    Image.new("RGB", (10, 10), (0, 0, 200)).save(tmp_path / "tiny.png")
    preview = load_preview(str(tmp_path), tuple(SAMPLES), None)
    sizes = {name: (img.width(), img.height()) for name, img in zip(preview.names, preview.images)}
    assert set(sizes.values()) == {(THUMB, THUMB)}          # one square size for the icon view
    boxes = {name: _opaque_box(img) for name, img in zip(preview.names, preview.images)}
    assert boxes["wide.png"] == (THUMB, THUMB // 4)          # 4:1 stays 4:1, not a squashed square
    assert boxes["tall.png"] == (THUMB // 3, THUMB)
    assert boxes["tiny.png"] == (THUMB, THUMB)               # blown up, square stays square


def _folder(tmp_path, sizes: dict[tuple[int, int], int], bad: int = 0):
    data = tmp_path / "data"
    data.mkdir()
    i = 0
    for size, n in sizes.items():
        for _ in range(n):
            Image.new("RGB", size, (i % 255, 0, 0)).save(data / f"img{i:03d}.png")
            i += 1
    for j in range(bad):
        (data / f"broken{j}.png").write_bytes(b"not a png")
    return data


def test_histogram_stays_visible_beside_a_problem(qtbot, wizard, tmp_path):
    data = _folder(tmp_path, {(24, 24): 6, (40, 30): 3}, bad=2)
    page = wizard.data_page
    page.path_edit.setText(str(data))
    page._checked({"dataset": summarize(str(data), 16)})     # the trainer's own summary
    assert not page.problems.isHidden() and "could not be read" in page.problems.text()
    assert not page.isComplete()
    assert not page.sizes.isHidden()                          # the sizes of the readable images
    bars = [item for item in page.sizes.getPlotItem().items if type(item).__name__ == "BarGraphItem"]
    assert len(bars) == 1
    ticks = page.sizes.getAxis("bottom")._tickLevels[0]
    assert {label for _, label in ticks} == {"24×24", "40×30"}


def test_mixed_sizes_and_a_small_dataset_are_warned_about(qtbot, wizard, tmp_path):
    data = _folder(tmp_path, {(24, 24): 10, (48, 32): 10})
    page = wizard.data_page
    page.path_edit.setText(str(data))
    page._checked({"dataset": summarize(str(data), 16)})
    assert page.isComplete()                                   # trainable: warnings, no problems
    text = page.warnings.text()
    assert not page.warnings.isHidden()
    assert "2 different sizes" in text and "centre-cropped" in text
    assert "only 20 images" in text.lower() and "--augment ada" in text
    # a large, uniform dataset: no warnings
    page._checked({"dataset": {"count": 5000, "channels": 1, "size_histogram": {"28x28": 5000},
                               "problems": [], "warnings": summarize("mnist5k")["warnings"]}})
    assert page.warnings.isHidden()


def test_diverging_run_shows_a_warning_on_the_live_page(qtbot, wizard, tmp_path):
    run = tmp_path / "runs" / "r"
    run.mkdir(parents=True)
    events = [make("start", config={}, total_kimg=10.0, run_dir=str(run), resumed_from=None, step=0, kimg=0.0,
                   device="cpu", precision="float32"),
              make("tick", step=10, kimg=0.16, loss_G=9.0, loss_D=0.001, loss_r1=None, img_per_s=100.0,
                   lr=2e-4, eta_s=10.0, aug_p=None),
              make("warning", step=10, kimg=0.16, kind="d_collapse",
                   message="training is diverging: D's loss has stayed near 0 since kimg 0.08")]
    (run / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    assert [w["kind"] for w in load_history(run).warnings] == ["d_collapse"]
    wizard.show()
    wizard.open_run(run)
    monitor = wizard.live_page.monitor
    monitor.refresh()
    assert not monitor.warning_banner.isHidden()
    assert "Training is diverging" in monitor.warning_banner.label.text()
    assert "0.16 kimg" in monitor.warning_banner.label.text()


def test_a_run_killed_before_its_first_save_can_be_resumed_from_step_0(qtbot, tmp_path):
    """The wizard follows the trainer's rule: config.json written -> --resume goes on (from
    step 0 when no state was saved); without it there is nothing to resume."""
    from ganexplorer.ui.training.controller import RunController
    from trainer.config import from_preset
    run = tmp_path / "run"
    run.mkdir()
    (run / "events.jsonl").write_text('{"type": "start", "time": 1.0, "conf')      # torn by the kill
    ctl = RunController(run)
    ctl.attach()
    assert not ctl.can_resume()
    from_preset("dcgan-32", data="digits", out=str(run)).save(run / "config.json")
    assert ctl.can_resume()
    args = ctl.resume_command().args
    assert args[args.index("--resume") + 1] == str(run)
    ctl.tailer.stop()


def test_a_decompression_bomb_gets_no_thumbnail_and_is_named_by_the_trainer(qtbot, wizard, tmp_path):
    from test_trainer_robust import _png_declaring
    data = _folder(tmp_path, {(24, 24): 9})
    _png_declaring(data / "bomb.png", 20000, 20000)
    preview = load_preview(str(data), tuple(SAMPLES), None)     # Qt refuses to allocate it
    assert "bomb.png" not in preview.names and len(preview.names) == 9
    page = wizard.data_page
    page.path_edit.setText(str(data))
    page._checked({"dataset": summarize(str(data), 16)})
    assert "bomb.png" in page.problems.text() and not page.sizes.isHidden()


def test_budget_page_checks_extra_flags_with_the_trainers_parser_in_process(qtbot, wizard, tmp_path):
    budget = wizard.budget_page
    budget.out_edit.setText(str(tmp_path / "fresh"))
    budget.extra_edit.setText("--batch x")
    assert not budget.isComplete() and "--batch takes a whole number, not 'x'" in budget.out_problem.text()
    budget.extra_edit.setText("--no-such-flag 1")
    assert not budget.isComplete() and "--no-such-flag" in budget.out_problem.text()
    budget.extra_edit.setText("--seed 7 --loss rpgan --r1-gamma 0.5")
    assert budget.isComplete()
    cfg, gpus = wizard.config()
    assert (cfg.seed, cfg.loss, cfg.r1_gamma, cfg.out) == (7, "rpgan", 0.5, str(tmp_path / "fresh"))
    assert cfg.validate() == [] and "--seed" in cfg.to_args()
