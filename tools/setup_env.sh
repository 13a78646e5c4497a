#!/usr/bin/env bash
# Create (or verify) the project's virtual environment in .venv/ at the
# repository root.  Idempotent: a finished environment carries a stamp that
# records the inputs it was built from; a second call with the same inputs
# returns in a second.  An environment without a valid stamp is never used:
# the next call finishes it (pip skips what is already there) before stamping.
#
# The mmcv 2.1.0 wheel (compiled ops, 10-20 minutes on 2 cores) and the
# xtcocotools wheel (built against numpy 2) are cached outside the repository,
# in ${MMCROSSFORMER_CACHE:-$HOME/.cache/mmcrossformer}/wheels, so a fresh clone
# on the same machine reuses them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
CACHE="${MMCROSSFORMER_CACHE:-$HOME/.cache/mmcrossformer}"
WHEELS="$CACHE/wheels"
PY="${PYTHON:-python3.11}"
STAMP="$VENV/.mmcrossformer-stamp"

die() {
    echo "setup_env: ERROR: $*" >&2
    echo "setup_env: .venv/ is left unstamped; fix the problem and run the command again." >&2
    exit 1
}
say() { echo "setup_env: $*"; }

stamp_inputs() {
    cat "$ROOT"/requirements/*.txt "$ROOT/tools/setup_env.sh" "$ROOT/setup.py" \
        "$ROOT"/mmcrossformer/ops/csrc/* | sha256sum | cut -d' ' -f1
}

WANT="$(stamp_inputs)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" && -x "$VENV/bin/python" ]]; then
    say "environment up to date ($VENV)"
    exit 0
fi

# ---- preconditions: say what is missing and what to do -------------------
command -v "$PY" >/dev/null || die "$PY not found; install Python 3.11 or set PYTHON=/path/to/python3.11"
"$PY" -c 'import venv, ensurepip' 2>/dev/null || die "$PY lacks venv/ensurepip (Debian: apt-get install python3.11-venv)"
command -v gcc >/dev/null && command -v g++ >/dev/null || die "no C/C++ compiler: mmcv's ops and xtcocotools are compiled here (Debian: apt-get install build-essential)"
"$PY" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || die "Python headers missing (Debian: apt-get install python3.11-dev)"
need_gb=12
[[ -f "$STAMP" || -d "$VENV/lib" ]] && need_gb=3
free_gb=$(df -Pk "$ROOT" | awk 'NR==2 {print int($4/1048576)}')
(( free_gb >= need_gb )) || die "only ${free_gb} GiB free on $(df -P "$ROOT" | awk 'NR==2{print $6}'), need about ${need_gb} GiB (torch's CUDA build alone is 5.5 GiB)"

rm -f "$STAMP"
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
    say "creating $VENV"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV" || die "python -m venv failed"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
pipi() { "${PIP[@]}" install --quiet --no-compile "$@" || die "pip install $* failed (is the package registry reachable?)"; }

say "[1/4] build tools, torch 2.14.1 + torchvision 0.29.1 (local files)"
pipi --upgrade pip wheel ninja 'cython>=3' 'numpy>=2,<2.4' 'setuptools>=77,<81' \
     torch==2.14.1 torchvision==0.29.1

mkdir -p "$WHEELS"
build_mmcv() {
    local tmp
    rm -rf "$CACHE"/mmcv-build.*  # leftovers of an interrupted build
    tmp="$(mktemp -d "$CACHE/mmcv-build.XXXXXX")"
    # mmcv 2.1.0's setup.py imports pkg_resources, gone from setuptools >= 70
    pipi 'setuptools<70'
    say "    building mmcv 2.1.0 with ops from its sdist (once per machine, 10-20 minutes; log: $tmp/build.log)"
    "${PIP[@]}" download --quiet --no-deps --no-build-isolation --no-binary :all: mmcv==2.1.0 -d "$tmp" \
        || die "cannot download the mmcv 2.1.0 sdist"
    tar -xzf "$tmp"/mmcv-2.1.0.tar.gz -C "$tmp"
    # torch >= 2.10 headers need C++20; mmcv 2.1.0 pins C++17.
    sed -i 's/-std=c++17/-std=c++20/g' "$tmp/mmcv-2.1.0/setup.py"
    (cd "$tmp/mmcv-2.1.0" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="$(nproc)" \
        "${PIP[@]}" wheel --no-build-isolation --no-deps -w "$tmp/dist" . >"$tmp/build.log" 2>&1) \
        || { tail -30 "$tmp/build.log" >&2; die "mmcv build failed; full log in $tmp/build.log"; }
    # publish atomically: a killed build never leaves a wheel that looks finished
    local whl; whl="$(ls "$tmp"/dist/mmcv-2.1.0-*.whl)"
    mv "$whl" "$WHEELS/$(basename "$whl").part" && mv "$WHEELS/$(basename "$whl").part" "$WHEELS/$(basename "$whl")"
    rm -rf "$tmp"
    pipi 'setuptools>=77,<81'  # torch asks for >=77; mmengine needs pkg_resources
}
build_xtcocotools() {
    local tmp whl
    tmp="$(mktemp -d "$CACHE/xtc-build.XXXXXX")"
    "${PIP[@]}" wheel --quiet --no-deps --no-binary xtcocotools --no-build-isolation -w "$tmp" xtcocotools \
        || die "xtcocotools build failed"
    whl="$(ls "$tmp"/xtcocotools-*.whl)"
    mv "$whl" "$WHEELS/$(basename "$whl").part" && mv "$WHEELS/$(basename "$whl").part" "$WHEELS/$(basename "$whl")"
    rm -rf "$tmp"
}
say "[2/4] mmcv 2.1.0 with ops and xtcocotools against numpy 2 (wheels cached in $WHEELS)"
ls "$WHEELS"/mmcv-2.1.0-*.whl >/dev/null 2>&1 || build_mmcv
ls "$WHEELS"/xtcocotools-*.whl >/dev/null 2>&1 || build_xtcocotools

say "[3/4] OpenMMLab runtime: mmengine 0.10.7, mmcv, mmdet 3.3.0, test tools"
pipi mmengine==0.10.7 "$(ls "$WHEELS"/mmcv-2.1.0-*.whl | head -1)" \
     "$(ls "$WHEELS"/xtcocotools-*.whl | head -1)" mmdet==3.3.0 \
     -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/mmpose_runtime.txt" \
     -r "$ROOT/requirements/tests.txt"

say "[4/4] mmpose 1.3.2 (--no-deps: its chumpy requirement cannot build) and mmcrossformer (editable, its CPU kernels compiled)"
pipi --no-deps --no-build-isolation mmpose==1.3.2 -e "$ROOT"

say "verifying"
"$VENV/bin/python" - <<'PY' || die "the environment does not import; see the traceback above"
import torch, torchvision, mmcv, mmengine, mmdet, mmpose
from mmcv.ops import nms  # compiled ops present
import mmpose.models, mmpose.visualization, xtcocotools.coco
import mmcrossformer
from mmpose.registry import MODELS
assert MODELS.get('CrossFormer') is not None, 'CrossFormer is not registered'
from mmcrossformer.ops import HAS_KERNELS
assert HAS_KERNELS, ('the CPU kernels of mmcrossformer.ops did not build; to see why: '
                     '.venv/bin/python -m pip install --no-deps --no-build-isolation -e .')
print(f'setup_env: torch {torch.__version__}, mmcv {mmcv.__version__}, mmengine {mmengine.__version__}, '
      f'mmdet {mmdet.__version__}, mmpose {mmpose.__version__}')
PY
echo "$WANT" > "$STAMP"
say "ready: $VENV"
