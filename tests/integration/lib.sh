# lib.sh — shared by the integration tests: TAP output, the binaries under
# test, a scratch directory, and the /dev/kvm check. Source it.
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
RRVM=$top_builddir/cli/rrvm
SAMPLES=$top_builddir/samples
MKKERNEL=$top_builddir/tests/tools/mkkernel
LOGTOOL=$top_builddir/tests/tools/logtool

tap_n=0
tap_failed=0
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
diag() { echo "$*" | sed 's/^/# /'; }
# check DESC COMMAND...: one TAP line from a command's success
check() { d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# skip_check REASON: a check that cannot be made here (a TAP SKIP line)
skip_check() { tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $*"; }
tap_end() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

# need_kvm: skip the whole script, loudly, where /dev/kvm cannot be used.
need_kvm() {
	if [ ! -e /dev/kvm ]; then
		echo "1..0 # SKIP /dev/kvm does not exist on this host"
		exit 0
	fi
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "1..0 # SKIP no permission to use /dev/kvm"
		exit 0
	fi
}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/rrvm-test.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT INT TERM

# run_rrvm OUT ERR ARGS...: run rrvm with a time limit; sets $status
run_rrvm() {
	out=$1 err=$2
	shift 2
	timeout 120 "$RRVM" "$@" >"$out" 2>"$err" </dev/null
	status=$?
}

# is GOT WANT DESC: compare two values (exit statuses, query results);
# a mismatch shows both, quoted (an empty one is seen)
is() {
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3"; diag "got '$1', want '$2'"; fi
}
# has FILE PATTERN DESC: grep -E for PATTERN in FILE; contains FILE TEXT
# DESC: the same for a fixed TEXT. A miss shows the file's start.
has() { tap_grep -E "$@"; }
contains() { tap_grep -F "$@"; }
tap_grep() {
	if grep -q "$1" -- "$3" "$2"; then
		ok "$4"
	else
		not_ok "$4"
		diag "grep $1 '$3' finds nothing in:"
		diag "$(head -c 2000 "$2")"
	fi
}

. "$top_srcdir/tests/integration/wait.sh"
