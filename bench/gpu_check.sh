#!/usr/bin/env bash
# The GPU check of issue 16 item 6, as one prepared run (at most 3 x 100 s + 160 s + start-up < 8 min):
#   1. the CUDA-only tests (those that skip without a CUDA device), each file time-boxed;
#   2. bench/generator_speed.py --device cuda on the table's networks.
# Results go to $OUT (or ./gpu_check_out when unset): env.txt, tests.txt, generator_speed.json
# and .txt. Run from the repository root:  bash bench/gpu_check.sh
# Without a CUDA device it says so and exits 2 before doing anything else.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
OUT=${OUT:-gpu_check_out}
mkdir -p "$OUT"
START=$(date +%s)

if ! "$PY" - <<'PYEOF' > "$OUT/env.txt" 2>&1
import sys, torch
ok = torch.cuda.is_available()
print("torch", torch.__version__, "cuda build", torch.version.cuda, "available", ok)
if ok:
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        print(f"device {i}: {p.name}, {p.total_memory / 2**30:.0f} GiB, capability {p.major}.{p.minor}")
sys.exit(0 if ok else 1)
PYEOF
then
    cat "$OUT/env.txt"
    echo "gpu_check: no CUDA device torch can use here; nothing to check (the script stays ready)." >&2
    exit 2
fi
cat "$OUT/env.txt"

# 1. CUDA tests: the files with tests that skip without CUDA (-rs lists any still skipped).
RC=0
for f in tests/test_stylegan2.py tests/test_stylegan3.py tests/test_backends.py; do
    [ -f "$f" ] || continue
    echo "== $f" | tee -a "$OUT/tests.txt"
    QT_QPA_PLATFORM=offscreen timeout 100 "$PY" -m pytest -q -p no:cacheprovider -rs "$f" \
        >> "$OUT/tests.txt" 2>&1 || RC=1
    tail -3 "$OUT/tests.txt"
done

# 2. The generator table on the GPU (fewer rounds: a GPU's spread is small).
export GANEXPLORER_CACHE_DIR="$OUT/cache"
timeout 160 "$PY" bench/generator_speed.py --device cuda --rounds 20 --json \
    > "$OUT/generator_speed.json" 2> "$OUT/generator_speed.err" || RC=1
"$PY" - "$OUT/generator_speed.json" > "$OUT/generator_speed.txt" 2>&1 <<'PYEOF' || RC=1
import json, sys
data = json.load(open(sys.argv[1]))
for row in data["rows"]:
    if "skipped" in row:
        print(row["model"], "skipped:", row["skipped"]); continue
    for name, s in [("reference", row["reference"]), ("peer", row.get("peer"))] + list(row["backends"].items()):
        if s and "median_ms" in s:
            print(f"{row['model']:<12} b{row['batch']:<3} {name:<10} median {s['median_ms']:.3f} ms  "
                  f"p95 {s['p95_ms']:.3f} ms  {s['gflops']:.0f} GFLOP/s  max|diff| {s['max_abs_diff']:.1e}")
PYEOF
cat "$OUT/generator_speed.txt"
echo "gpu_check: done in $(( $(date +%s) - START )) s, exit $RC (results in $OUT)"
exit $RC
