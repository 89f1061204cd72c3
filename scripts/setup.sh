#!/bin/sh
# setup.sh — install what rrvm needs on Debian 12 (apt-get, only what is
# missing) and build it in ./build (or $RRVM_BUILD). Sourced by the demo and
# test scripts; run on its own to just build.
#   RRVM_CONFIGURE_FLAGS  extra ./configure flags (e.g. --enable-sanitizers)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${RRVM_BUILD:-$top/build}

packages="build-essential autoconf automake libtool pkg-config liblz4-dev lz4
libsqlite3-dev sqlite3 libedit-dev linux-libc-dev gdb qemu-system-x86 bc
chromium libxml2-utils python3-jsonschema clang python3 time strace"

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing:$missing" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
fi

cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ] || [ "${RRVM_CONFIGURE_FLAGS:-}" != "$(cat .rrvm-flags 2>/dev/null)" ]; then
	"$top/configure" -q ${RRVM_CONFIGURE_FLAGS:-}
	echo "${RRVM_CONFIGURE_FLAGS:-}" > .rrvm-flags
fi
make -s -j"$(nproc)" >/dev/null
echo "setup: built rrvm in $build" >&2
