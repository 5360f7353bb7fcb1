"""The Qt-free readers behind the training wizard: events.jsonl tailing and run listing."""
from __future__ import annotations

import json
import os
from pathlib import Path

from ganexplorer.session.run_events import EventTail, RunHistory, ema_smooth, load_history
from ganexplorer.session.runs import describe_run, list_runs, newest_checkpoint, scan_runs


def _line(**event) -> str:
    return json.dumps({"time": 0.0, **event}) + "\n"


def _tick(kimg, g=1.0, d=0.5, step=None):
    return _line(type="tick", step=step if step is not None else int(kimg * 100), kimg=kimg,
                 loss_G=g, loss_D=d, loss_r1=None, img_per_s=100.0, lr=2e-4, eta_s=10.0, aug_p=None)


def test_tail_reads_only_complete_lines(tmp_path: Path):
    path = tmp_path / "events.jsonl"
    tail = EventTail(path)
    assert tail.read() == []                              # no file yet: nothing, no error
    path.write_text(_line(type="start", config={}, total_kimg=2.0, run_dir=str(tmp_path)))
    first = _tick(0.1)
    with open(path, "a") as f:
        f.write(first[:20])                               # a line being written
    events = tail.read()
    assert [e["type"] for e in events] == ["start"]
    with open(path, "a") as f:
        f.write(first[20:] + "not json\n" + _tick(0.2))
    events = tail.read()
    assert [e["kimg"] for e in events] == [0.1, 0.2]
    assert tail.bad_lines == 1
    assert tail.read() == []


def test_tail_starts_over_when_the_file_is_replaced(tmp_path: Path):
    path = tmp_path / "events.jsonl"
    path.write_text(_tick(0.1) + _tick(0.2))
    tail = EventTail(path)
    assert len(tail.read()) == 2
    path.write_text(_tick(0.3))                          # shorter: truncated and rewritten
    events = tail.read()
    assert tail.restarted and [e["kimg"] for e in events] == [0.3]


def test_tail_reads_in_bounded_chunks(tmp_path: Path):
    path = tmp_path / "events.jsonl"
    path.write_text("".join(_tick(k / 100) for k in range(1, 201)))
    tail = EventTail(path, max_read=1000)
    got = []
    for _ in range(1000):
        got += tail.read()
        if not tail.more_pending:
            break
    assert len(got) == 200 and got[-1]["kimg"] == 2.0


def test_history_folds_events_and_replays_a_resume(tmp_path: Path):
    (tmp_path / "snap.safetensors").write_bytes(b"x")
    h = RunHistory(tmp_path)
    h.apply(json.loads(line) for line in [
        _line(type="start", config={"preset": "dcgan-32"}, total_kimg=1.0, run_dir=str(tmp_path)),
        _tick(0.1), _tick(0.2), _tick(0.3),
        _line(type="grid", step=20, kimg=0.2, path="samples/grid.png"),
        _line(type="checkpoint", step=20, kimg=0.2, path="snap.safetensors", resume="resume.pt"),
        _line(type="metric", step=30, kimg=0.3, fid=123.4, kid=None),
    ])
    assert h.losses["loss_G"].kimg == [0.1, 0.2, 0.3]
    assert "loss_r1" not in h.losses                       # null regulariser: no curve
    assert h.fid.value == [123.4] and len(h.kid) == 0
    assert h.latest_grid == (0.2, tmp_path / "samples" / "grid.png")
    assert h.last_good_checkpoint().path == tmp_path / "snap.safetensors"
    assert h.total_kimg == 1.0 and h.config["preset"] == "dcgan-32"
    # killed after 0.3, resumed from the 0.2 checkpoint: later points are replaced
    h.apply([json.loads(_line(type="start", config={}, total_kimg=1.0, run_dir="", step=20, kimg=0.2)),
             json.loads(_tick(0.25, g=9.0))])
    assert h.losses["loss_G"].kimg == [0.1, 0.2, 0.25]
    assert h.losses["loss_G"].value[-1] == 9.0
    assert h.starts == 2 and h.end is None
    h.apply([json.loads(_line(type="end", reason="done", message="ok", last_checkpoint="snap.safetensors"))])
    assert h.end["reason"] == "done"


def test_ema_smooth_is_bias_corrected_and_skips_nan():
    assert ema_smooth([2.0, 2.0, 2.0], 0.9) == [2.0, 2.0, 2.0]
    out = ema_smooth([1.0, float("nan"), 3.0], 0.5)
    assert out[0] == 1.0 and out[1] != out[1] and 1.0 < out[2] < 3.0


def _make_run(root: Path, name: str, snaps: int, reason: str | None, mtime: float) -> Path:
    run = root / name
    run.mkdir(parents=True)
    lines = [_line(type="start", config={"preset": "dcgan-32", "data": "digits"}, total_kimg=2.0,
                   run_dir=str(run))]
    for i in range(snaps):
        (run / f"network-snapshot-{i:06d}.safetensors").write_bytes(b"x")
        lines.append(_line(type="checkpoint", step=i, kimg=float(i), path=f"network-snapshot-{i:06d}.safetensors",
                           resume=f"resume-{i:08d}.pt"))
    if reason:
        lines.append(_line(type="end", reason=reason, message="", last_checkpoint=None))
    (run / "events.jsonl").write_text("".join(lines))
    os.utime(run / "events.jsonl", (mtime, mtime))
    return run


def test_list_runs_newest_first_with_checkpoints(tmp_path: Path):
    old = _make_run(tmp_path, "old", 2, "done", 1000.0)
    new = _make_run(tmp_path, "new", 1, None, 2000.0)
    _make_run(tmp_path, "empty", 0, "error", 3000.0)     # no checkpoint: not offered
    (tmp_path / "not-a-run").mkdir()
    assert list_runs(tmp_path) == [(new, new / "network-snapshot-000000.safetensors"),
                                   (old, old / "network-snapshot-000001.safetensors")]
    infos = scan_runs(tmp_path)
    assert [r.run_dir.name for r in infos] == ["empty", "new", "old"]
    assert infos[1].status == "unfinished" and infos[2].status == "done"
    assert infos[2].preset == "dcgan-32" and infos[2].data == "digits" and infos[2].total_kimg == 2.0
    assert list_runs(tmp_path / "missing") == []


def test_newest_checkpoint_skips_deleted_files(tmp_path: Path):
    run = _make_run(tmp_path, "r", 3, "done", 1.0)
    (run / "network-snapshot-000002.safetensors").unlink()   # --keep removed it, or a user did
    assert newest_checkpoint(run) == run / "network-snapshot-000001.safetensors"
    assert describe_run(run).kimg == 2.0
    assert load_history(tmp_path / "nothing").events == 0

