#!/bin/sh
# Install every Debian 12 package that vigil's build, tests and demo need.
#
# Non-interactive and idempotent: packages already present are left alone, and
# the script prints nothing when nothing is missing. Run as root (or through
# sudo); `make check` and `make demo` call it when a dependency is missing.
#
#   scripts/install-deps.sh           install what is missing
#   scripts/install-deps.sh --check   exit 1 (listing them) if packages are missing
#   scripts/install-deps.sh --list    print the package list
set -eu

PACKAGES="
build-essential
cmake
pkg-config
clang
libclang-rt-14-dev
clang-format
libavformat-dev
libavcodec-dev
libavutil-dev
libswscale-dev
libavdevice-dev
libdnnl-dev
libjansson-dev
protobuf-c-compiler
libprotobuf-c-dev
libonnx-dev
libonnx-testdata
libjpeg62-turbo-dev
libcairo2-dev
libfontconfig-dev
fonts-dejavu-core
libsdl2-dev
libglib2.0-dev
xvfb
xauth
ffmpeg
gnuplot-nox
opencv-doc
nodejs
npm
ca-certificates
"

missing() {
    for p in $PACKAGES; do
        # nodejs/npm may come from another packaging of Node (e.g. nodesource,
        # which bundles npm inside nodejs): a working command is good enough.
        case "$p" in
        nodejs) command -v node >/dev/null 2>&1 && continue ;;
        npm) command -v npm >/dev/null 2>&1 && continue ;;
        esac
        st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        [ "$st" = "installed" ] || printf '%s\n' "$p"
    done
}

case "${1:-}" in
--list)
    printf '%s\n' $PACKAGES
    exit 0
    ;;
--check)
    m=$(missing)
    if [ -n "$m" ]; then
        echo "missing Debian packages:" $m >&2
        echo "run: scripts/install-deps.sh (as root)" >&2
        exit 1
    fi
    exit 0
    ;;
"") ;;
*)
    echo "usage: $0 [--check|--list]" >&2
    exit 2
    ;;
esac

m=$(missing)
[ -z "$m" ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "install-deps: missing packages:" $m >&2
        echo "install-deps: run this script as root (or install sudo) to install them" >&2
        exit 1
    fi
fi

echo "install-deps: installing" $m
export DEBIAN_FRONTEND=noninteractive
# A fresh image has no package lists: apt-get install would find nothing.
$SUDO apt-get update -qq >/dev/null || {
    echo "install-deps: apt-get update failed; check the network and /etc/apt/sources.list" >&2
    exit 1
}
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $m >/dev/null || {
    echo "install-deps: apt-get install failed for:" $m >&2
    echo "install-deps: run 'apt-get install $m' by hand to see the error" >&2
    exit 1
}
echo "install-deps: done"
