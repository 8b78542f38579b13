#!/bin/sh
# The vigil demo: runs `vigil run` with the default models (CenterNet detector,
# MoveNet pose) on a real multi-person clip and writes demo/out.mp4 (annotated
# video), demo/results.jsonl (one JSON line per frame) and demo/stats.json.
#
# The input, in order of preference:
#   1. INPUT=... (anything `vigil run --input` accepts),
#   2. $VIGIL_SHARED/data/video/openpose_street_dance_720p.mp4 (../shared),
#   3. the photos of people that Debian's opencv-doc package ships
#      (messi5.jpg, basketball1.png, basketball2.png), brought to one size
#      with ffmpeg and read as an image set.
# Extra options for `vigil run` go in DEMO_ARGS (e.g. DEMO_ARGS="--frames 50").
set -eu

VIGIL=${VIGIL:-build/release/src/apps/vigil}
SHARED=${VIGIL_SHARED:-../shared}
OUT=${DEMO_OUT:-demo}
mkdir -p "$OUT"

if [ -n "${INPUT:-}" ]; then
    input=$INPUT
elif [ -f "$SHARED/data/video/openpose_street_dance_720p.mp4" ]; then
    input=$SHARED/data/video/openpose_street_dance_720p.mp4
else
    photos=$(dpkg -L opencv-doc 2>/dev/null |
             grep -E '/examples/data/(messi5\.jpg|basketball1\.png|basketball2\.png)$' || true)
    if [ -z "$photos" ]; then
        echo "demo: no input: give INPUT=clip.mp4, put ../shared beside the repository, or" \
             "install opencv-doc (scripts/install-deps.sh does)" >&2
        exit 1
    fi
    rm -rf "$OUT/photos"
    mkdir -p "$OUT/photos"
    for p in $photos; do
        name=$(basename "$p")
        ffmpeg -v error -y -i "$p" -vf \
            "scale=960:540:force_original_aspect_ratio=decrease,pad=960:540:(ow-iw)/2:(oh-ih)/2" \
            "$OUT/photos/${name%.*}.png"
    done
    input=$OUT/photos
fi

echo "== demo: vigil run --input $input =="
# shellcheck disable=SC2086
"$VIGIL" run --input "$input" --output "$OUT/out.mp4" --json "$OUT/results.jsonl" \
    --stats "$OUT/stats.json" ${DEMO_ARGS:-}
echo "demo: wrote $OUT/out.mp4, $OUT/results.jsonl, $OUT/stats.json"
