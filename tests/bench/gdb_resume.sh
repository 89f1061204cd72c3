#!/bin/sh
# gdb stub benchmark: what a resume and a Ctrl-C cost in the stub itself,
# with the fake target of the unit tests (no KVM). Run by `make bench`.
bin="${top_builddir:-.}/tests/bench/gdb_resume_bench"
if [ ! -x "$bin" ]; then
	echo "gdb_resume.sh: $bin not built (run make first)" >&2
	exit 1
fi
exec "$bin"
