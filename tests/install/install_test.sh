#!/bin/sh
# install_test.sh BUILD_DIR CONSUMER_DIR CC
# Checks that `cmake --install` yields a usable library: headers, shared
# library, CLI, pkg-config file and CMake package config.
set -eu
build=$1
consumer=$2
cc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
prefix="$tmp/prefix"
libdir=$(ls -d "$prefix"/lib* | head -n 1)
for f in "$prefix/include/vigil/vigil.h" "$prefix/bin/vigil" "$libdir/pkgconfig/vigil.pc" \
         "$libdir/cmake/vigil/vigilConfig.cmake"; do
    [ -e "$f" ] || { echo "install_test: $f was not installed" >&2; exit 1; }
done
ls "$libdir"/libvigil.so* >/dev/null

# 1. pkg-config
PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --exists vigil
flags=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs vigil)
# shellcheck disable=SC2086
"$cc" -std=c17 -Wall -Werror "$consumer/main.c" -o "$tmp/consumer_pc" $flags
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/consumer_pc")
echo "pkg-config consumer: $out"
case "$out" in "vigil "*" queue ok") ;; *) echo "install_test: unexpected output" >&2; exit 1 ;; esac

# 2. CMake package
cmake -S "$consumer" -B "$tmp/cbuild" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" >"$tmp/cmake.log"
cmake --build "$tmp/cbuild" >"$tmp/build.log"
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/cbuild/consumer")
echo "cmake consumer: $out"
case "$out" in "vigil "*" queue ok") ;; *) echo "install_test: unexpected output" >&2; exit 1 ;; esac

# 3. the installed CLI runs
LD_LIBRARY_PATH="$libdir" "$prefix/bin/vigil" --version
