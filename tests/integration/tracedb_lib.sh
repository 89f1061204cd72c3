# tracedb_lib.sh - shared by the trace database integration tests (sourced,
# not run): TAP helpers, the KVM check, recording helpers and the README
# example queries.
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
RRVM=$top_builddir/cli/rrvm
SAMPLES=$top_builddir/samples
# The schema version this rrvm writes, from its one definition.
SCHEMA=$(sed -n 's/^#define TRACEDB_SCHEMA_VERSION \([0-9]*\).*/\1/p' "$top_srcdir/tracedb/tracedb.h")
. "$top_srcdir/tests/integration/wait.sh"

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
# check DESC COMMAND...: one TAP line from a command's success
check() { d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# is GOT WANT DESC
is() {
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3"; echo "#   got '$1', want '$2'"; fi
}
# contains FILE TEXT DESC
contains() {
	if grep -qF -- "$2" "$1"; then ok "$3"; else not_ok "$3"; echo "#   '$2' not in:"; sed 's/^/#   /' "$1" | head -20; fi
}
finish() { echo "1..$n"; [ "$failed" -eq 0 ]; }
diag() { echo "$*" | sed 's/^/# /'; }

# need_sqlite3: skip the whole script without the sqlite3 program.
need_sqlite3() {
	if ! command -v sqlite3 >/dev/null 2>&1; then
		echo "1..0 # SKIP the sqlite3 program is not installed"
		exit 0
	fi
}
# tracedb_tmp NAME: a scratch directory in $tmp, removed at exit unless
# TRACEDB_TEST_KEEP is set.
tracedb_tmp() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
	[ -n "${TRACEDB_TEST_KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT INT TERM
}

# Skip the whole script unless KVM and the programs are there.
need_kvm() {
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "1..0 # SKIP /dev/kvm is missing or not usable"
		exit 0
	fi
	if [ ! -x "$RRVM" ]; then
		echo "1..0 # SKIP $RRVM not built"
		exit 0
	fi
}

# manifest_value DIR KEY
manifest_value() { sed -n "s/^$2: //p" "$1/manifest"; }

# q DIR SQL: one value through the stock sqlite3 program
q() { sqlite3 -readonly "$1/trace.db" "$2"; }

# record_race_failing DIR TRIES: record race.elf until a run fails (status
# 7); returns 1 if none of TRIES did (about half the runs fail).
record_race_failing() {
	i=0
	while [ "$i" -lt "$2" ]; do
		i=$((i + 1))
		rm -rf "$1"
		timeout 300 "$RRVM" record -q -o "$1" "$SAMPLES/race.elf" >"$1.out" 2>&1
		[ $? -eq 7 ] && return 0
	done
	return 1
}

# readme_queries OUTDIR: write each ```sql block of the README's trace
# database section to OUTDIR/q1.sql, q2.sql, ...; prints the count.
readme_queries() {
	awk -v out="$1" '
		/<!-- tracedb:begin -->/ { on = 1 }
		/<!-- tracedb:end -->/ { on = 0 }
		on && /^```sql/ { k++; f = out "/q" k ".sql"; printf "" > f; inq = 1; next }
		inq && /^```/ { inq = 0; close(f); next }
		inq { print >> f }
		END { print k + 0 }
	' "$top_srcdir/README.md"
}

# The index each README example must use, in README order.
README_INDEXES="exits_port interrupts_symbol exits_port interrupts_vector annotations_position"
