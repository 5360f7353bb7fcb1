#!/usr/bin/env bash
# Proof that `pip install -e .` keeps a torch that is already installed (pyproject asks
# torch>=2.2, not a pin). A throwaway venv in /tmp sees this checkout's dependencies from
# .venv (linked, torch left out) plus a stand-in torch 2.5.1 (metadata only, nothing to
# download); after the editable install torch must still be 2.5.1. Takes a few seconds.
#   bash tools/check_torch_range.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV_SP=$(echo "$ROOT"/.venv/lib/python3*/site-packages)
BASE=$("$ROOT/.venv/bin/python" -c "import sys; print(sys.base_prefix)")/bin/python3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$BASE" -m venv "$WORK/env"
SP=$(echo "$WORK"/env/lib/python3*/site-packages)
rm -rf "$SP"/setuptools* "$SP"/pkg_resources "$SP"/_distutils_hack "$SP"/distutils-precedence.pth
mkdir "$WORK/deps"
for e in "$VENV_SP"/*; do
  case "$(basename "$e")" in
    torch|torch-*|torchgen|functorch|ganexplorer*|__editable__*|pip|pip-*|distutils-precedence.pth) ;;
    *) ln -s "$e" "$WORK/deps/" ;;
  esac
done
echo "$WORK/deps" > "$SP/deps.pth"
mkdir "$SP/torch-2.5.1.dist-info"
printf 'Metadata-Version: 2.1\nName: torch\nVersion: 2.5.1\n' > "$SP/torch-2.5.1.dist-info/METADATA"
printf 'torch-2.5.1.dist-info/METADATA,,\n' > "$SP/torch-2.5.1.dist-info/RECORD"
mkdir "$WORK/src"
(cd "$ROOT" && tar --exclude=.venv --exclude='*.egg-info' --exclude=__pycache__ -cf - .) | tar -xf - -C "$WORK/src"
(cd "$WORK/src" && "$WORK/env/bin/pip" install -q --no-index --no-build-isolation -e . 2>&1 | grep -v "requires\|^$" || true)
after=$("$WORK/env/bin/pip" list 2>/dev/null | awk '$1 == "torch" {print $2}')
echo "torch before: 2.5.1, after pip install -e .: $after"
[ "$after" = "2.5.1" ]
