#!/bin/sh
# report.sh — report.html checked in a real browser: `rrvm report DIR` on a
# failing race.elf recording (indexing it first), loaded from disk by
# headless Chromium with no network (a network namespace of its own when
# unshare works); the DOM after the page's script ran must hold one
# timeline mark per interrupt in trace.db (same positions), the PANIC line
# marked, and "1 recording"; a lane past --max-marks is grouped into
# buckets whose counts add up to the rows of trace.db; an ioheavy
# recording's exit lanes add up per port. Screenshots are kept beside this
# test's log (tests/integration/report-*.png) for a person to look at.
set -u
. "$top_srcdir/tests/integration/lib.sh"
need_kvm

shots=$top_builddir/tests/integration
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)

# browser MODE URL OUT: Chromium headless, no network, a fresh profile;
# MODE dom (the DOM on stdout into OUT) or shot (a PNG at OUT).
browser() {
	prof=$(mktemp -d "$scratch/profile.XXXXXX")
	set -- "$@"
	mode=$1 url=$2 dest=$3
	flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
		--disable-background-networking --disable-component-update --disable-sync
		--user-data-dir=$prof"
	ns=""
	unshare -n true 2>/dev/null && ns="unshare -n --"
	if [ "$mode" = dom ]; then
		timeout 120 $ns "$CHROMIUM" $flags --dump-dom "$url" >"$dest" 2>"$scratch/chromium.err"
	else
		timeout 120 $ns "$CHROMIUM" $flags --window-size=1280,1600 --screenshot="$dest" "$url" \
			>/dev/null 2>"$scratch/chromium.err"
	fi
}

# dom_check DOM DB LANE [PORT]: the marks of LANE (irq, or exit with
# data-port PORT) add up to the rows of trace.db, bucket counts included;
# without grouping, the marks' positions are the rows' positions.
dom_check() {
	python3 - "$@" <<'EOF'
import sqlite3, sys
from html.parser import HTMLParser
dom, db, lane = sys.argv[1], sys.argv[2], sys.argv[3]
port = sys.argv[4] if len(sys.argv) > 4 else None
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.marks = []
    def handle_starttag(s, tag, attrs):
        a = dict(attrs)
        if tag == "rect" and "mk" in (a.get("class") or "").split() and a.get("data-lane") == lane:
            if port is None or a.get("data-port") == port:
                s.marks.append(a)
p = P(); p.feed(open(dom).read())
c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
if lane == "irq":
    rows = [r[0] for r in c.execute("SELECT position FROM interrupts ORDER BY position")]
else:
    rows = [r[0] for r in c.execute("SELECT position FROM exits WHERE port = ? AND kind IN ('pio_in','pio_out') ORDER BY position", (int(port),))]
total = sum(int(m.get("data-count", "1")) for m in p.marks)
grouped = any("agg" in m["class"].split() for m in p.marks)
assert total == len(rows), "marks add up to %d, trace.db has %d" % (total, len(rows))
if not grouped:
    assert sorted(int(m["data-pos"]) for m in p.marks) == rows, "positions differ"
    assert all(m.get("data-rip", "").startswith("0x") for m in p.marks), "a mark without rip"
print("%d marks for %d rows%s" % (len(p.marks), len(rows), ", grouped" if grouped else ""))
EOF
}

# dom_text DOM ID: the text of the element with that id
dom_text() {
	python3 - "$1" "$2" <<'EOF'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.depth = 0; s.text = ""
    def handle_starttag(s, tag, attrs):
        if s.depth: s.depth += 1
        elif dict(attrs).get("id") == sys.argv[2]: s.depth = 1
    def handle_endtag(s, tag):
        if s.depth: s.depth -= 1
    def handle_data(s, d):
        if s.depth: s.text += d
p = P(); p.feed(open(sys.argv[1]).read()); print(p.text.strip())
EOF
}

# ---- a failing race.elf recording ---------------------------------------
rec=$scratch/race
tries=0
while :; do
	tries=$((tries + 1))
	rm -rf "$rec"
	timeout 300 "$RRVM" record -q --chaos="$tries" -o "$rec" "$SAMPLES/race.elf" >/dev/null 2>&1 </dev/null
	st=$?
	[ "$st" = 7 ] && break
	[ "$tries" -ge 40 ] && break
done
is "$st" 7 "a failing race.elf recording (after $tries tries)"

run_rrvm "$scratch/r.out" "$scratch/r.err" report "$rec"
is "$status" 0 "rrvm report DIR on a recording with no trace.db"
has "$scratch/r.err" "indexing" "... indexes it first"
check "... which leaves DIR/trace.db" test -s "$rec/trace.db"
check "... and DIR/report.html" test -s "$rec/report.html"
check "the page needs nothing from outside (no src, link, url(), @import, remote href)" python3 -c '
import re, sys
t = open(sys.argv[1]).read()
bad = re.findall(r"<link|\ssrc=|url\(|@import|@font-face|href=\"(?!#)[a-z]+:", t, re.I)
assert not bad, bad' "$rec/report.html"
has "$rec/report.html" "$(sed -n 's/^kernel-sha256: //p' "$rec/manifest")" "the report names the kernel's SHA-256"
has "$rec/report.html" "<td>chaos seed</td><td>$tries</td>" "... and the chaos seed"
has "$rec/report.html" "<td>exit status</td><td>7</td>" "... and the exit status"
has "$rec/report.html" "rrvm replay --gdb=127.0.0.1:1234 $rec" "... and the gdb command"
fn=$(sqlite3 -readonly "$rec/trace.db" "SELECT symbol FROM exits WHERE kind = 'debug_exit'")
has "$rec/report.html" "-ex 'hbreak $fn' -ex continue" "... that stops where the run ended ($fn; bank_panic is inlined)"

# Run the report's gdb commands as printed (gdb on a Unix socket instead of
# port 1234, which another test may hold): gdb must stop in that function.
python3 - "$rec/report.html" "$RRVM" "$scratch/gdb.sock" >"$scratch/gdb.sh" <<'PY'
import html, re, sys
page, rrvm, sock = sys.argv[1:]
pre = re.search(r'<pre id="cmd-gdb">(.*?)</pre>', open(page).read(), re.S).group(1)
replay, gdb = html.unescape(pre).splitlines()
replay = replay.replace("rrvm ", rrvm + " ", 1).replace("127.0.0.1:1234", "unix:" + sock)
replay = replay.rstrip(" &") + " >/dev/null 2>&1 &"
gdb = gdb.replace("gdb ", "timeout 120 gdb -nx -batch ", 1).replace("127.0.0.1:1234", sock)
print(replay)
print("pid=$!")
print("t=0; while [ ! -S %s ] && [ $t -lt 300 ]; do t=$((t + 1)); sleep 0.1; done" % sock)
print(gdb + " -ex bt -ex kill </dev/null 2>&1")
print("wait $pid")
PY
sh "$scratch/gdb.sh" >"$scratch/gdb.out" 2>&1
has "$scratch/gdb.out" "^#0 .*$fn" "the report's gdb command, run with the real gdb, stops in $fn"
has "$scratch/gdb.out" "bank_panic|bank_audit" "... called from the panic"

panic=$(sqlite3 -readonly "$rec/trace.db" "SELECT text FROM serial WHERE text LIKE 'PANIC%' ORDER BY position, id LIMIT 1")
if [ -z "$CHROMIUM" ] || ! "$CHROMIUM" --version >/dev/null 2>&1; then
	echo "# SKIP: chromium is not installed (scripts/setup.sh installs it); the browser checks did not run"
	for d in "DOM from Chromium" "script ran" "one mark per interrupt" "panic line" "1 recording" \
		"screenshot" "grouped lane" "ioheavy lanes"; do
		tap_n=$((tap_n + 1))
		echo "ok $tap_n # SKIP $d: no chromium"
	done
	tap_end
	exit $?
fi
unshare -n true 2>/dev/null || diag "unshare -n is not available: Chromium runs with its network flags only"
diag "$("$CHROMIUM" --version 2>/dev/null)"

browser dom "file://$rec/report.html" "$scratch/race.dom"
check "headless Chromium loads report.html from disk, network off" test -s "$scratch/race.dom"
[ -s "$scratch/race.dom" ] || diag "$(tail -5 "$scratch/chromium.err")"
has "$scratch/race.dom" '<body data-ready="1">' "the page's own script ran in the browser"
out=$(dom_check "$scratch/race.dom" "$rec/trace.db" irq 2>&1)
check "the timeline has one mark per interrupt of trace.db, at its position ($out)" \
	test "$(echo "$out" | grep -c 'marks for')" = 1
[ "$(echo "$out" | grep -c 'marks for')" = 1 ] || diag "$out"
got=$(dom_text "$scratch/race.dom" panic-line)
is "$got" "$panic" "the PANIC line is in the DOM, marked"
has "$scratch/race.dom" 'id="how-often">1 recording' "a lone recording says 1 recording"
nm=$(dom_text "$scratch/race.dom" nmarks)
check "the script counted the marks ($nm)" test "${nm:-0}" -gt 0
# The page's script shows a mark's details (as a click does) for #pos=N.
IFS='|' read -r ipos irip isym <<EOF
$(sqlite3 -readonly "$rec/trace.db" "SELECT position, printf('%#x', rip), symbol FROM interrupts ORDER BY position, id LIMIT 1")
EOF
browser dom "file://$rec/report.html#pos=$ipos" "$scratch/pos.dom"
got=$(dom_text "$scratch/pos.dom" detail)
is "$got" "irq: position $ipos, rip $irip in $isym" "the details of a mark, shown by the page's script in the browser"
rm -f "$shots/report-race.png"
browser shot "file://$rec/report.html" "$shots/report-race.png"
check "a screenshot is saved: tests/integration/report-race.png" \
	sh -c "head -c 8 '$shots/report-race.png' | grep -q PNG"

# ---- a lane past --max-marks is grouped ---------------------------------
run_rrvm "$scratch/g.out" "$scratch/g.err" report --max-marks 50 -o "$scratch/grouped.html" "$rec"
is "$status" 0 "rrvm report --max-marks 50 -o FILE"
browser dom "file://$scratch/grouped.html" "$scratch/grouped.dom"
out=$(dom_check "$scratch/grouped.dom" "$rec/trace.db" irq 2>&1)
check "grouped interrupt marks add up to the interrupts of trace.db ($out)" \
	sh -c "echo '$out' | grep -q 'grouped'"

# ---- ioheavy: exit lanes by port add up ----------------------------------
io=$scratch/ioheavy
timeout 600 "$RRVM" record -q -o "$io" "$SAMPLES/ioheavy.elf" -- count=20000 >/dev/null 2>&1 </dev/null
run_rrvm "$scratch/io.out" "$scratch/io.err" report "$io"
is "$status" 0 "rrvm report on an ioheavy recording"
browser dom "file://$io/report.html" "$scratch/io.dom"
bad=""
for port in $(sqlite3 -readonly "$io/trace.db" "SELECT port FROM exits WHERE port IS NOT NULL GROUP BY port ORDER BY count(*) DESC, port LIMIT 3"); do
	out=$(dom_check "$scratch/io.dom" "$io/trace.db" exit "$port" 2>&1) || bad="$bad $port: $out"
	diag "port $port: $out"
done
check "ioheavy: the marks of the three busiest ports add up to trace.db${bad:+ ($bad)}" test -z "$bad"
marks=$(grep -o 'class="mk' "$scratch/io.dom" | wc -l)
exits=$(sed -n 's/^exits: //p' "$io/manifest")
check "ioheavy: $marks marks for $exits exits" test "$marks" -lt 20000
rm -f "$shots/report-ioheavy.png"
browser shot "file://$io/report.html" "$shots/report-ioheavy.png"
check "a screenshot is saved: tests/integration/report-ioheavy.png" \
	sh -c "head -c 8 '$shots/report-ioheavy.png' | grep -q PNG"

# ---- bad input -------------------------------------------------------------
run_rrvm "$scratch/b.out" "$scratch/b.err" report "$scratch/nothing"
is "$status" 2 "rrvm report on a missing directory: status 2"
has "$scratch/b.err" "nothing" "... naming it"
mkdir "$scratch/junk"
echo "not a manifest" >"$scratch/junk/manifest"
run_rrvm "$scratch/b.out" "$scratch/b.err" report "$scratch/junk"
is "$status" 2 "rrvm report on a damaged recording: status 2"
check "... writing no report" test ! -e "$scratch/junk/report.html"
tap_end
