"""Start the window: `python -m ganexplorer [CHECKPOINT]` and the desktop launcher.

Before Qt opens a display, `display_problem()` checks what Qt would otherwise report with an
abort (exit 134) and a message naming the wrong library: no display at all, or system
libraries the xcb platform plugin needs (`ldd` of the plugin and of Qt's XcbQpa library).
The answer is one line with the exact install commands, and exit 2.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

EXIT_NO_DISPLAY = 2

# Platforms that need no display server (Qt's own plugins).
HEADLESS = ("offscreen", "minimal", "minimalegl", "vnc", "eglfs", "linuxfb", "vkkhrdisplay")

# soname stem (without the version) -> (Debian/Ubuntu package, Fedora/RHEL package): what
# `ldd libqxcb.so` lists on Debian 12 / Ubuntu 24.04 / Fedora 40.
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so": ("libxcb-util1", "xcb-util"),
    "libxcb-randr.so": ("libxcb-randr0", "libxcb"),
    "libxcb-shm.so": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so": ("libxcb-xfixes0", "libxcb"),
    "libxcb-render.so": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so": ("libxcb-shape0", "libxcb"),
    "libxcb-xkb.so": ("libxcb-xkb1", "libxcb"),
    "libxcb-glx.so": ("libxcb-glx0", "libxcb"),
    "libxcb-xinput.so": ("libxcb-xinput0", "libxcb"),
    "libxcb.so": ("libxcb1", "libxcb"),
    "libX11-xcb.so": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so": ("libx11-6", "libX11"),
    "libXau.so": ("libxau6", "libXau"),
    "libXdmcp.so": ("libxdmcp6", "libXdmcp"),
    "libxkbcommon.so": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libGL.so": ("libgl1", "libglvnd-glx"),
    "libGLX.so": ("libglx0", "libglvnd-glx"),
    "libGLdispatch.so": ("libglvnd0", "libglvnd"),
    "libEGL.so": ("libegl1", "libglvnd-egl"),
    "libOpenGL.so": ("libopengl0", "libglvnd-opengl"),
    "libfontconfig.so": ("libfontconfig1", "fontconfig"),
    "libfreetype.so": ("libfreetype6", "freetype"),
    "libglib-2.0.so": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so": ("libglib2.0-0", "glib2"),
    "libdbus-1.so": ("libdbus-1-3", "dbus-libs"),
    "libexpat.so": ("libexpat1", "expat"),
    "libpcre2-8.so": ("libpcre2-8-0", "pcre2"),
    "libzstd.so": ("libzstd1", "libzstd"),
    "libz.so": ("zlib1g", "zlib"),
    "libpng16.so": ("libpng16-16", "libpng"),
    "libbrotlidec.so": ("libbrotli1", "brotli"),
}


def qt_dir() -> Path | None:
    """PySide6's bundled Qt (plugins/ and lib/), found without loading Qt."""
    import importlib.util
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "Qt"


def missing_libraries(paths: list[Path], qt_lib: Path | None) -> list[str]:
    """Sonames that `ldd` cannot resolve for any of `paths` (Qt's own libraries excluded:
    they come with PySide6). [] when ldd itself is not there: then Qt gets its try."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    env = dict(os.environ)
    if qt_lib is not None:       # a plugin outside PySide6's tree still finds the Qt it belongs to
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (str(qt_lib), env.get("LD_LIBRARY_PATH")) if p)
    found: list[str] = []
    for path in paths:
        if not path.is_file():
            continue
        try:
            out = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=20, env=env).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        for m in re.finditer(r"^\s*(\S+)\s+=>\s+not found", out, re.MULTILINE):
            name = m.group(1)
            if not name.startswith("libQt6") and name not in found:
                found.append(name)
    return found


def install_line(sonames: list[str]) -> str:
    """One line: what is missing and the apt and dnf commands that bring it."""
    apt, dnf, unknown = [], [], []
    for name in sonames:
        stem = re.sub(r"(\.so)(\.\d+)*$", r"\1", name)
        pkg = PACKAGES.get(stem)
        if pkg is None:
            unknown.append(name)
            continue
        if pkg[0] not in apt:
            apt.append(pkg[0])
        if pkg[1] not in dnf:
            dnf.append(pkg[1])
    line = (f"ganexplorer: Qt's xcb display plugin needs system libraries that are missing "
            f"({', '.join(sonames)})")
    if apt:
        line += (f"; install them with: sudo apt install {' '.join(apt)}  "
                 f"(Fedora/RHEL: sudo dnf install {' '.join(dnf)})")
    if unknown:
        line += (f"; find the package for {', '.join(unknown)} with: apt-file search {unknown[0]}  "
                 f"(or dnf provides '*/{unknown[0]}')")
    return line


def x_server_reachable(display: str) -> bool:
    """False only when DISPLAY names a local server (":N") that nothing listens on; remote
    displays (ssh -X, host:N) are left to Qt."""
    import socket
    m = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", display.strip())
    if m is None:
        return True
    path = f"/tmp/.X11-unix/X{m.group(1)}"
    for address in (path, "\0" + path):         # the socket file, or Linux's abstract namespace
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(2.0)
        try:
            sock.connect(address)
            return True
        except OSError:
            continue
        finally:
            sock.close()
    return False


def display_problem(env: dict[str, str] | None = None) -> str | None:
    """None when Qt can open a window here, else the one line that says what to do."""
    env = dict(os.environ if env is None else env)
    platform = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip().lower()
    if platform in HEADLESS:
        return None
    if not sys.platform.startswith("linux"):
        return None
    x11, wayland = bool(env.get("DISPLAY")), bool(env.get("WAYLAND_DISPLAY"))
    if not x11 and not wayland or (platform == "xcb" and not x11) or (platform == "wayland" and not wayland):
        return ("ganexplorer: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset); "
                "run it in a desktop session or over `ssh -X`, or use the command line: ganexplorer --help")
    wayland_session = wayland and env.get("XDG_SESSION_TYPE", "").lower() == "wayland"
    if platform not in ("", "xcb") or (wayland and not x11) or (platform == "" and wayland_session):
        return None                  # Wayland: Qt picks its wayland plugin there, not xcb
    qt = qt_dir()
    if qt is None:
        return None
    plugin_dir = Path(env["QT_QPA_PLATFORM_PLUGIN_PATH"]) if env.get("QT_QPA_PLATFORM_PLUGIN_PATH") \
        else qt / "plugins" / "platforms"
    missing = missing_libraries([plugin_dir / "libqxcb.so", qt / "lib" / "libQt6XcbQpa.so.6"], qt / "lib")
    if missing:
        return install_line(missing)
    if not x_server_reachable(env["DISPLAY"]):
        return (f"ganexplorer: no X server answers on DISPLAY={env['DISPLAY']}; start one (or log in to "
                "the desktop), fix DISPLAY, or use the command line: ganexplorer --help")
    return None


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m ganexplorer", description="Open the GAN Explorer window.")
    p.add_argument("checkpoint", nargs="?", help="a checkpoint or a saved session (.json) to open")
    p.add_argument("--device", choices=("cpu", "cuda"), help="run the generator on this device")
    return p.parse_args(argv)


APP_ID = "ganexplorer"     # WM_CLASS (both parts), Wayland app id, .desktop name and StartupWMClass


def wm_class(app) -> tuple[str, str]:
    """(instance, class) that Qt's xcb plugin writes into WM_CLASS (qxcbintegration.cpp):
    RESOURCE_NAME or the basename of argv[0], and the application name."""
    args = app.arguments()
    instance = os.environ.get("RESOURCE_NAME") or (Path(args[0]).name if args else "")
    return instance, app.applicationName()


def make_app():
    """The QApplication, named so that docks group the window with its launcher: argv[0] would
    be '__main__.py' and the class the display name, neither matching StartupWMClass."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from .. import resources
    app = QApplication.instance() or QApplication([APP_ID, *sys.argv[1:]])
    app.setOrganizationName(APP_ID)
    app.setApplicationName(APP_ID)
    app.setApplicationDisplayName("GAN Explorer")
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(QIcon(str(resources.icon_path())))
    return app


def run(argv: list[str]) -> int:
    args = parse_args(argv)
    from PySide6.QtWidgets import QApplication
    if QApplication.instance() is None:
        problem = display_problem()
        if problem is not None:
            print(problem, file=sys.stderr, flush=True)
            return EXIT_NO_DISPLAY
    app = make_app()
    from .main_window import MainWindow, default_model
    win = MainWindow(device="cuda:0" if args.device == "cuda" else args.device)
    win.show()
    if win.offer_recovery():        # a crash left work behind and the user took it back
        return app.exec()
    if args.checkpoint:
        if args.checkpoint.endswith(".json"):
            win.open_session(args.checkpoint)
        else:
            win.open_model(args.checkpoint)
    else:
        path = default_model()
        if path is not None:
            win.open_model(str(path))
    return app.exec()
