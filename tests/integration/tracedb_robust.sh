#!/bin/sh
# tracedb_robust.sh - the trace database's robustness: logged serial input
# (echo.elf), a recording with no trace.db, a foreign, an old and a stale
# trace.db (refused by query and shell; rebuilt or refused by index, as the
# README says), an index killed with SIGKILL in the middle of a larger
# recording (no trace.db that looks complete; an older complete one
# survives), damaged, diverging and truncated recordings, and the progress
# bar on a terminal. TAP output; skipped without /dev/kvm.
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/tracedb_lib.sh"
need_kvm
need_sqlite3
echo_rec=$tmp/echo
hello=$tmp/hello
big=$tmp/big

# ---- serial input ------------------------------------------------------------
printf 'hello\nworld\nquit\n' >"$tmp/input"
"$RRVM" record -q --serial-in "$tmp/input" -o "$echo_rec" "$SAMPLES/echo.elf" >"$tmp/echo.out" 2>&1
is "$?" 5 "record echo.elf with serial input (two lines: status 5)"

"$RRVM" query "$echo_rec" 'SELECT 1' >"$tmp/o" 2>"$tmp/e"
is "$?" 1 "query before indexing: status 1"
contains "$tmp/e" "run 'rrvm index" "query before indexing: says to run rrvm index"
"$RRVM" shell "$echo_rec" </dev/null >"$tmp/o" 2>"$tmp/e"
is "$?" 1 "shell before indexing: status 1"

"$RRVM" index -q "$echo_rec"
is "$?" 0 "index echo"
is "$(q "$echo_rec" 'SELECT count(*) FROM exits')" "$(manifest_value "$echo_rec" exits)" \
	"echo: one exits row per exit"
is "$(q "$echo_rec" 'SELECT group_concat(h, "") FROM (SELECT hex(data) AS h FROM serial_input ORDER BY id)')" \
	"$(od -An -tx1 "$tmp/input" | tr -d ' \n' | tr a-f A-F)" "echo: serial_input holds the input bytes, in order"
is "$(q "$echo_rec" "SELECT count(*) FROM serial WHERE text IN ('echo: HELLO', 'echo: WORLD', 'bye: 2 lines')")" 3 \
	"echo: the echoed lines in serial"
check "echo: input arrives before the line that echoes it" test "$(q "$echo_rec" \
	"SELECT (SELECT min(position) FROM serial_input) < (SELECT position FROM serial WHERE text = 'echo: HELLO')")" = 1
check "echo: receive interrupts (IRQ 4) landed" test "$(q "$echo_rec" 'SELECT count(*) FROM interrupts WHERE irq = 4')" -gt 0
"$RRVM" query "$echo_rec/trace.db" 'SELECT count(*) FROM exits' >"$tmp/o" 2>&1
is "$?" 0 "query accepts a trace.db file as well as a directory"

# ---- foreign, old and stale trace.db -----------------------------------------------
cp "$echo_rec/trace.db" "$tmp/good.db"
echo "not a database, just a file someone put here" >"$echo_rec/trace.db"
cp "$echo_rec/trace.db" "$tmp/foreign"
"$RRVM" query "$echo_rec" 'SELECT 1' >"$tmp/o" 2>"$tmp/e"
is "$?" 1 "foreign trace.db: query refuses (status 1)"
contains "$tmp/e" "not an rrvm trace database" "foreign trace.db: says what it is"
"$RRVM" index -q "$echo_rec" 2>"$tmp/e"
is "$?" 2 "foreign trace.db: index refuses without --force (status 2)"
contains "$tmp/e" "--force" "foreign trace.db: the message names --force"
check "foreign trace.db: left untouched" cmp -s "$echo_rec/trace.db" "$tmp/foreign"
"$RRVM" index --force "$echo_rec" 2>"$tmp/e"
is "$?" 0 "foreign trace.db: index --force replaces it"
contains "$tmp/e" "replaced" "foreign trace.db: and says so"
is "$(q "$echo_rec" 'PRAGMA user_version')" "$SCHEMA" "foreign trace.db: now a current database"

sqlite3 "$echo_rec/trace.db" 'PRAGMA user_version = 0'
"$RRVM" query "$echo_rec" 'SELECT 1' >"$tmp/o" 2>"$tmp/e"
is "$?" 1 "old trace.db: query refuses (status 1)"
contains "$tmp/e" "schema version 0" "old trace.db: names its version"
contains "$tmp/e" "run 'rrvm index" "old trace.db: says to rebuild it"
printf 'SELECT 1;\n' | "$RRVM" shell "$echo_rec" >"$tmp/o" 2>"$tmp/e"
is "$?" 1 "old trace.db: shell refuses too"
"$RRVM" index "$echo_rec" 2>"$tmp/e"
is "$?" 0 "old trace.db: index rebuilds it"
contains "$tmp/e" "replaced the old trace database" "old trace.db: and says so"
is "$(q "$echo_rec" 'PRAGMA user_version')" "$SCHEMA" "old trace.db: rebuilt at version $SCHEMA"

"$RRVM" record -q -o "$hello" "$SAMPLES/hello.elf" >/dev/null 2>&1
cp "$tmp/good.db" "$hello/trace.db"
"$RRVM" query "$hello" 'SELECT 1' >"$tmp/o" 2>"$tmp/e"
is "$?" 1 "stale trace.db (from another recording): query refuses"
contains "$tmp/e" "another recording" "stale trace.db: says why"
"$RRVM" index -q "$hello"
is "$?" 0 "stale trace.db: index rebuilds it"
is "$(q "$hello" 'SELECT count(*) FROM exits')" "$(manifest_value "$hello" exits)" \
	"stale trace.db: now it describes this recording"

# ---- damaged and truncated recordings ---------------------------------------------------
cp -r "$echo_rec" "$tmp/damaged"
rm -f "$tmp/damaged/trace.db"
size=$(wc -c <"$tmp/damaged/events.lz4")
printf 'XXXXXXXX' | dd of="$tmp/damaged/events.lz4" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
"$RRVM" index -q "$tmp/damaged" 2>"$tmp/e"
st=$?
check "damaged log: index fails ($st)" test "$st" -ne 0
check "damaged log: no trace.db, no partial file" test ! -e "$tmp/damaged/trace.db" -a ! -e "$tmp/damaged/trace.db.partial"
sed 's/^/# /' "$tmp/e"
# A log whose first injection names another vector: the replay diverges.
cp -r "$echo_rec" "$tmp/diverged"
rm -f "$tmp/diverged/trace.db"
"$top_builddir/tests/tools/logtool" dump "$echo_rec/events.lz4" |
	awk '!done && /^inject / { sub(/vector=/, "vector=1"); done = 1 } { print }' >"$tmp/diverged.txt"
"$top_builddir/tests/tools/logtool" build "$tmp/diverged.txt" "$tmp/diverged/events.lz4"
"$RRVM" index -q "$tmp/diverged" 2>"$tmp/e"
is "$?" 3 "diverging replay: index fails with status 3, as rrvm replay does"
contains "$tmp/e" "diverged" "diverging replay: says so"
check "diverging replay: no trace.db, no partial file" \
	test ! -e "$tmp/diverged/trace.db" -a ! -e "$tmp/diverged/trace.db.partial"
cp -r "$echo_rec" "$tmp/truncated"
rm -f "$tmp/truncated/trace.db"
truncate -s $((size / 2)) "$tmp/truncated/events.lz4"
"$RRVM" index "$tmp/truncated" 2>"$tmp/e"
is "$?" 0 "truncated log: indexed up to where it ends"
contains "$tmp/e" "truncated" "truncated log: and says so"
is "$(q "$tmp/truncated" "SELECT value FROM recording WHERE key = 'indexed-stop'")" truncated \
	"truncated log: the recording table says so too"
check "truncated log: fewer exits than the manifest" test "$(q "$tmp/truncated" \
	'SELECT count(*) FROM exits')" -lt "$(manifest_value "$tmp/truncated" exits)"

# ---- SIGKILL in the middle ---------------------------------------------------------------
"$RRVM" record -q -o "$big" "$SAMPLES/ioheavy.elf" -- count=60000 >/dev/null 2>&1
is "$?" 1 "record ioheavy.elf count=60000"
# kill_index DIR: start rrvm index and SIGKILL it once it has committed its
# first batch of rows (the partial file has passed 1 MiB; the whole index
# is over 10 MiB, so most of its work is still ahead); returns 1 if it
# ended before it could be killed.
kill_index() {
	"$RRVM" index -q "$1" 2>/dev/null &
	pid=$!
	wait_until 300 sh -c "[ \$(stat -c %s '$1/trace.db.partial' 2>/dev/null || echo 0) -gt 1048576 ] || ! kill -0 $pid 2>/dev/null"
	if ! kill -KILL "$pid" 2>/dev/null; then
		wait "$pid"
		return 1
	fi
	wait "$pid" 2>/dev/null
	return 0
}
if kill_index "$big"; then
	ok "index killed with SIGKILL while running"
	check "killed index: no trace.db" test ! -e "$big/trace.db"
	"$RRVM" query "$big" 'SELECT count(*) FROM exits' >"$tmp/o" 2>"$tmp/e"
	is "$?" 1 "killed index: query finds nothing to read"
	if [ -e "$big/trace.db.partial" ]; then
		"$RRVM" query "$big/trace.db.partial" 'SELECT count(*) FROM exits' >"$tmp/o" 2>&1
		is "$?" 1 "killed index: the partial file is not taken for a trace database"
	else
		skip_check "killed index: no partial file to check"
	fi
else
	skip_check "the index finished before it could be killed"
fi
"$RRVM" index -q "$big"
is "$?" 0 "index the larger recording"
check "after a full index: trace.db, no partial file" test -f "$big/trace.db" -a ! -e "$big/trace.db.partial"
exits=$(manifest_value "$big" exits)
is "$(q "$big" 'SELECT count(*) FROM exits')" "$exits" "larger recording: one exits row per exit ($exits)"
cp "$big/trace.db" "$tmp/big.db"
# Two indexers on one recording: the second is refused at once.
"$RRVM" index -q "$big" 2>/dev/null &
pid=$!
wait_until 300 sh -c "[ -s '$big/trace.db.partial' ] || ! kill -0 $pid 2>/dev/null"
"$RRVM" index -q "$big" 2>"$tmp/e"
st=$?
wait "$pid"
is "$?" 0 "first of two concurrent indexes completes"
if grep -q "another rrvm index" "$tmp/e"; then
	is "$st" 1 "second of two concurrent indexes: refused with status 1"
else
	skip_check "the first index ended before the second started"
fi
check "after two concurrent indexes: a current trace.db" test "$(q "$big" 'SELECT count(*) FROM exits')" = "$exits"
if kill_index "$big"; then
	ok "a second index killed with SIGKILL"
	check "the previous trace.db survives, unchanged" cmp -s "$big/trace.db" "$tmp/big.db"
	"$RRVM" query "$big" 'SELECT count(*) FROM exits' >"$tmp/o" 2>&1
	is "$(cat "$tmp/o" | tail -1 | tr -d ' ')" "$exits" "and still answers queries"
else
	skip_check "the second index finished before it could be killed"
fi

# ---- progress bar on a terminal ------------------------------------------------------------
if command -v script >/dev/null 2>&1; then
	script -qec "'$RRVM' index '$echo_rec'" /dev/null >"$tmp/tty.out" 2>&1
	contains "$tmp/tty.out" "exits 100%" "on a terminal: a progress bar with position, total and rate"
	contains "$tmp/tty.out" "exits/s" "on a terminal: the rate"
else
	skip_check "no script(1) to make a terminal"
fi

tap_end
