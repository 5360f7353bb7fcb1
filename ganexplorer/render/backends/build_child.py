"""The graph converter's own process: `python -m ganexplorer.render.backends.build_child
CKPT FOLDER SHAPE NOISE_MODE` reads G from a native checkpoint and writes its OpenVINO IR to
FOLDER, with the check batch and eager float32's image of it (graphs.write_graph).

Why a process: converting traces the whole network (10 s for a 256-px StyleGAN2, far more
at 1024 px) and an interpreter cannot exit under a thread that is inside OpenVINO's
converter (it aborts: "terminate called without an active exception"). A process can be
killed at any moment, so closing a model or the window never waits for a build, and the
tracer's memory goes back to the system when it ends. It runs at low priority with one
thread, so the window's renders keep the cores. It exits by itself when its parent dies.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path


def _exit_with_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(3)
        time.sleep(0.5)


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print("usage: build_child CKPT FOLDER SHAPE NOISE_MODE", file=sys.stderr)
        return 2
    ckpt, folder, shape_s, noise_mode = argv
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    try:
        os.nice(10)
    except (AttributeError, OSError):
        pass
    import torch
    torch.set_num_threads(1)
    from ganexplorer.models.checkpoint import load_checkpoint
    from ganexplorer.render.backends.graphs import write_graph
    G = load_checkpoint(ckpt, which=("G",)).nets["G"].eval()
    shape = tuple(int(s) for s in shape_s.split("x"))
    write_graph(G, shape, noise_mode, Path(folder))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:   # one line the parent logs
        print(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'failed'}", file=sys.stderr)
        sys.exit(1)
