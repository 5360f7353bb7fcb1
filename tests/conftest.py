"""Every test run keeps its files to itself: render graphs and user settings (declared label
sizes, the back-end preference) go to a temporary folder, never the user's home. Tests that
need their own folder set these variables themselves (monkeypatch)."""
import os
import tempfile

_HOME = tempfile.mkdtemp(prefix="ganexplorer-tests-")
os.environ["GANEXPLORER_CACHE_DIR"] = os.path.join(_HOME, "cache")
os.environ["GANEXPLORER_CONFIG_DIR"] = os.path.join(_HOME, "config")
