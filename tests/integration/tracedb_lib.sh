# tracedb_lib.sh - shared by the trace database integration tests (sourced
# after lib.sh, whose TAP functions, scratch directory and KVM check they
# use): the sqlite3 check, recording helpers and the README example
# queries.
# The schema version this rrvm writes, from its one definition.
SCHEMA=$(sed -n 's/^#define TRACEDB_SCHEMA_VERSION \([0-9]*\).*/\1/p' "$top_srcdir/tracedb/tracedb.h")

# need_sqlite3: skip the whole script without the sqlite3 program.
need_sqlite3() {
	if ! command -v sqlite3 >/dev/null 2>&1; then
		echo "1..0 # SKIP the sqlite3 program is not installed"
		exit 0
	fi
}

# The tests' files go in lib.sh's scratch directory, $tmp here; it is kept
# at exit (and its path shown) when TRACEDB_TEST_KEEP is set.
tmp=$scratch
if [ -n "${TRACEDB_TEST_KEEP:-}" ]; then
	trap - EXIT INT TERM
	diag "TRACEDB_TEST_KEEP: the test's files stay in $tmp"
fi

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
