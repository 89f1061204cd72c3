#!/bin/sh
# introspect benchmark: page-table walk, listing, diff and shadow figures on
# fake guest RAM (no KVM needed). Run by `make bench`.
bin="${top_builddir:-.}/tests/bench/introspect_bench"
if [ ! -x "$bin" ]; then
	echo "introspect.sh: $bin not built (run make first)" >&2
	exit 1
fi
echo "introspect (fake guest RAM, no KVM involved)"
exec "$bin"
