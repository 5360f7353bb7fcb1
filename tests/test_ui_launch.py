"""`python -m ganexplorer` on a machine that cannot show the window: one line and exit 2, never a
Qt abort (issue 11); and the window's WM_CLASS matches the launcher's StartupWMClass."""
from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ganexplorer.ui import app as launch

ROOT = Path(__file__).resolve().parents[1]


def _env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "QT_QPA_PLATFORM_PLUGIN_PATH")}
    env.update(extra)
    return env


def _start(env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganexplorer"], capture_output=True, text=True,
                          timeout=120, env=env, cwd=ROOT)


@pytest.mark.parametrize("extra", [{}, {"QT_QPA_PLATFORM": "xcb"}])
def test_no_display_is_one_line_and_exit_2(extra):
    r = _start(_env(**extra))
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganexplorer: no display to open the window on")
    assert "DISPLAY and WAYLAND_DISPLAY are unset" in lines[0]


def test_headless_platforms_need_no_display():
    for name in ("offscreen", "minimal", "vnc"):
        assert launch.display_problem({"QT_QPA_PLATFORM": name}) is None


def _plugin_needing(tmp_path: Path, real: bytes, fake: bytes) -> Path:
    """A copy of the real xcb plugin whose DT_NEEDED names `fake` instead of `real` (same
    length): ldd then reports that library as missing, as on a minimal Debian."""
    qt = launch.qt_dir()
    src = qt / "plugins" / "platforms" / "libqxcb.so"
    if not src.is_file():
        pytest.skip(f"PySide6 ships no xcb plugin at {src}")
    data = src.read_bytes()
    assert real in data and len(real) == len(fake)
    folder = tmp_path / "platforms"
    folder.mkdir()
    (folder / "libqxcb.so").write_bytes(data.replace(real, fake))
    return folder


def test_missing_xcb_library_names_the_packages(tmp_path):
    folder = _plugin_needing(tmp_path, b"libxcb-cursor.so.0", b"libxcb-cursor.so.7")
    r = _start(_env(DISPLAY=":99", QT_QPA_PLATFORM_PLUGIN_PATH=str(folder)))
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr                        # one line, no Qt abort text
    line = lines[0]
    assert "libxcb-cursor.so.7" in line.split("missing (")[1].split(")")[0]
    apt = line.split("sudo apt install ")[1].split("  (")[0].split()
    dnf = line.split("sudo dnf install ")[1].rstrip(")").split()
    assert "libxcb-cursor0" in apt and "xcb-util-cursor" in dnf
    # whatever else this machine lacks is named too (this CI image lacks icccm and keysyms)
    for soname, pkg in (("libxcb-icccm.so.4", "libxcb-icccm4"), ("libxcb-keysyms.so.1", "libxcb-keysyms1")):
        assert (soname in line) == (pkg in apt)


def test_a_display_nobody_serves_is_one_line(monkeypatch, tmp_path):
    """With the libraries all there, DISPLAY naming a dead local server is the next check."""
    import socket
    monkeypatch.setattr(launch, "missing_libraries", lambda paths, qt_lib: [])
    line = launch.display_problem({"DISPLAY": ":9876"})
    assert line.startswith("ganexplorer: no X server answers on DISPLAY=:9876")
    assert launch.display_problem({"DISPLAY": "remotehost:10.0"}) is None   # left to Qt
    # a listening socket (abstract namespace, as X servers also use) is a server
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind("\0/tmp/.X11-unix/X9875")
    srv.listen(1)
    try:
        assert launch.display_problem({"DISPLAY": ":9875"}) is None
    finally:
        srv.close()


def test_install_line_for_known_and_unknown_libraries():
    line = launch.install_line(["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-shm.so.0",
                                "libxcb-randr.so.0", "libfoo.so.3"])
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1 libxcb-shm0 libxcb-randr0  " in line
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms libxcb)" in line      # libxcb once
    assert "apt-file search libfoo.so.3" in line
    assert "\n" not in line


def test_window_class_matches_the_desktop_file():
    code = ("from ganexplorer.ui.app import make_app, wm_class; a = make_app(); "
            "print(*wm_class(a), a.desktopFileName(), sep='|')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=_env(QT_QPA_PLATFORM="offscreen"))
    assert r.returncode == 0, r.stderr
    instance, klass, desktop = r.stdout.strip().split("|")
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(ROOT / "resources" / "ganexplorer.desktop")
    wanted = entry["Desktop Entry"]["StartupWMClass"]
    assert instance == klass == wanted                      # docks match either part
    assert desktop == wanted                                # Wayland app id, and the file installed as


def test_a_wayland_session_is_left_to_qts_wayland_plugin(monkeypatch):
    """With DISPLAY (XWayland) and WAYLAND_DISPLAY both set in a Wayland session, Qt opens the
    window through its wayland plugin: missing xcb libraries must not stop the launch."""
    monkeypatch.setattr(launch, "missing_libraries", lambda paths, qt_lib: ["libxcb-cursor.so.0"])
    both = {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}
    assert launch.display_problem({**both, "XDG_SESSION_TYPE": "wayland"}) is None
    # an X11 session (or QT_QPA_PLATFORM=xcb) still needs them
    assert "libxcb-cursor.so.0" in launch.display_problem({**both, "XDG_SESSION_TYPE": "x11"})
    assert "libxcb-cursor.so.0" in launch.display_problem(
        {**both, "XDG_SESSION_TYPE": "wayland", "QT_QPA_PLATFORM": "xcb"})
