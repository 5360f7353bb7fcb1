"""`python -m ganexplorer [CHECKPOINT]` opens the window (the GUI launcher entry point too)."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from .ui.app import run
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
