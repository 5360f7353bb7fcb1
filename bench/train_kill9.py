"""Random `kill -9` of a tiny training run: after each kill the run must continue in place
(`--resume RUN`, from its newest complete state or from step 0) or, when the kill came
before it wrote config.json, start again in place (the same `--out RUN`), and the next start
must leave no temporary files behind.

    python bench/train_kill9.py [--kills 20] [--seed 0] [--max-delay 8]

Prints one line per kill and a summary; exit status 1 if any run could not go on.
(tests/test_trainer_robust.py runs `trial` for three kill moments.)
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ganexplorer.runs import folder as layout  # noqa: E402
from ganexplorer.runs.events import read_events  # noqa: E402

TINY = ["--preset", "dcgan-32", "--data", "digits", "--resolution", "16", "--ngf", "8", "--ndf", "8",
        "--z-dim", "16", "--batch", "16", "--grid-size", "4", "--snap-kimg", "0.032", "--tick-seconds", "0.2",
        "--threads", "1", "--device", "cpu", "--no-progress"]


def _env() -> dict[str, str]:
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))


def _trainer(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "trainer", *args]


def trial(run: Path, delay: float | None = None, when: str = "", timeout: float = 180) -> dict:
    """Start a long tiny run in `run`, kill -9 it after `delay` seconds (or, with `when`, as
    soon as "events" exist / the first "checkpoint" is logged), then continue it.
    -> {how, had_state, rc, leftovers, end, err}: rc 0 and no leftovers is a pass."""
    p = subprocess.Popen(_trainer([*TINY, "--kimg", "50", "--out", str(run)]), cwd=ROOT, env=_env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.monotonic()
        log = run / layout.EVENTS_FILE
        while time.monotonic() - t0 < timeout and p.poll() is None:
            if delay is not None and time.monotonic() - t0 >= delay:
                break
            if when == "events" and log.exists():
                break
            if when == "checkpoint" and log.exists() and any(e["type"] == "checkpoint" for e in read_events(log)):
                break
            time.sleep(0.01)
    finally:
        p.kill()
        p.wait(30)
    had_state = bool(layout.find_resume(run)) if run.is_dir() else False
    if (run / layout.CONFIG_FILE).is_file():
        how, args = "resume", ["--resume", str(run), "--kimg", "0.096", "--no-progress", "--threads", "1"]
    else:
        how, args = "out", [*TINY, "--kimg", "0.064", "--out", str(run)]
    r = subprocess.run(_trainer(args), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=timeout)
    events = read_events(run / layout.EVENTS_FILE)
    return {"how": how, "had_state": had_state, "rc": r.returncode,
            "leftovers": [str(p.relative_to(run)) for p in layout.leftovers(run)],
            "end": events[-1] if events and events[-1]["type"] == "end" else None,
            "err": r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-delay", type=float, default=8.0, help="kill at a uniform time in [0.2, this] s")
    a = ap.parse_args(argv)
    rng = random.Random(a.seed)
    failures = 0
    counts = {"resume": 0, "out": 0, "from_state": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.kills):
            delay = rng.uniform(0.2, a.max_delay)
            r = trial(Path(tmp) / f"run{i}", delay)
            ok = r["rc"] == 0 and not r["leftovers"] and r["end"] is not None and r["end"]["reason"] == "done"
            failures += not ok
            counts[r["how"]] += 1
            counts["from_state"] += r["had_state"]
            print(f"kill {i + 1:2d} at {delay:4.1f} s: {'ok  ' if ok else 'FAIL'} continued with --{r['how']} "
                  f"({'from a saved state' if r['had_state'] else 'no state yet'}), exit {r['rc']}"
                  + (f", leftovers {r['leftovers']}" if r["leftovers"] else "") + (f"; {r['err']}" if not ok else ""),
                  flush=True)
    print(f"{a.kills - failures}/{a.kills} runs continued or restarted in place with no leftovers "
          f"({counts['resume']} by --resume, {counts['out']} by --out; {counts['from_state']} had a saved state)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
