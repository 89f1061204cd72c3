#!/bin/sh
# capture.sh — rrvm capture with several runs at once: --until-fail keeps the
# failure a one-by-one capture would keep (the lowest-numbered failing run,
# nothing after it), whatever order the runs finish in; lines, JUnit and
# JSON are in run order and valid against doc/junit.xsd and
# doc/capture.schema.json; every kept failure gets a report.html linked
# from summary.html; a capture killed at any moment leaves no half-written
# report and no recorder running; rrvm pack gives one file that rrvm replay
# takes, and unsafe or damaged packed files are refused; the man page
# covers every command.
#
# race.elf's outcome for a chaos seed is not reproducible on these hosts
# (host timing moves the interrupts too), so the rule is checked on what
# each capture saw; hello.elf with --pass-status 0 fails every run, which
# makes the kept set fully known (run-0001) however the runs are scheduled.
set -u
. "$top_srcdir/tests/integration/lib.sh"
need_kvm

SCHEMA=$top_srcdir/doc/capture.schema.json
XSD=$top_srcdir/doc/junit.xsd

# json_valid FILE: FILE is valid against the capture schema (jsonschema
# when python has it, else the schema's required keys and types by hand).
json_valid() {
	python3 - "$SCHEMA" "$1" <<'EOF'
import json, sys
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
try:
    import jsonschema
    jsonschema.validate(doc, schema)
    sys.exit(0)
except ImportError:
    pass
types = {"string": str, "integer": int, "number": (int, float), "boolean": bool,
         "array": list, "object": dict, "null": type(None)}
def check(v, s, where):
    t = s.get("type")
    if t:
        ts = t if isinstance(t, list) else [t]
        ok = any(isinstance(v, types[x]) and not (x in ("integer", "number") and isinstance(v, bool)) for x in ts)
        assert ok, "%s: %r is not %s" % (where, v, t)
    if "enum" in s: assert v in s["enum"], where
    if "const" in s: assert v == s["const"], where
    if isinstance(v, dict):
        for k in s.get("required", []): assert k in v, "%s: no %s" % (where, k)
        if s.get("additionalProperties") is False:
            for k in v: assert k in s["properties"], "%s: unknown %s" % (where, k)
        for k, sub in s.get("properties", {}).items():
            if k in v: check(v[k], sub, where + "." + k)
    if isinstance(v, list) and "items" in s:
        for i, x in enumerate(v): check(x, s["items"], "%s[%d]" % (where, i))
check(doc, schema, "$")
EOF
}

# serial_rule JSON OUTDIR: the capture kept what running the runs one by one
# would: runs 1..K listed in order, all passing but K, K kept (its directory
# and report exist), nothing else in OUTDIR, every discarded run gone.
serial_rule() {
	python3 - "$1" "$2" <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1])); out = sys.argv[2]
runs = d["runs"]
assert [r["run"] for r in runs] == list(range(1, len(runs) + 1)), "not in run order"
assert runs and runs[-1]["result"] == "fail", "the last listed run is not the failure"
assert all(r["result"] == "pass" for r in runs[:-1]), "a run before the kept failure failed"
k = runs[-1]
assert d["summary"]["kept"] == [k["recording"]], d["summary"]["kept"]
assert os.path.isfile(os.path.join(k["recording"], "manifest"))
assert k["report"] and os.path.isfile(k["report"]), "no report"
if d["chaos"]:
    assert k["seed"] == k["run"], "run K has seed K"
    assert d["summary"]["failing_seeds"] == [k["seed"]]
left = sorted(x for x in os.listdir(out) if x.startswith("run-"))
assert left == [k["name"]], "left in OUTDIR: %s" % left
for n in d["summary"]["discarded"]:
    assert n > k["run"], "discarded run %d before the failure" % n
assert d["exit_status"] == 1
print(k["name"])
EOF
}

# lines_in_order OUT: the run lines on stdout are run-0001, run-0002, ...
lines_in_order() {
	grep -o '^run-[0-9]*' "$1" | awk '{ n++; if ($0 != sprintf("run-%04d", n)) bad = 1 } END { exit bad || !n }'
}

# ---- race.elf under chaos, 2 at a time, until the first failure ---------
for jobs in 2 1; do
	out=$scratch/race-j$jobs
	timeout 900 "$RRVM" capture --runs 40 --jobs "$jobs" --until-fail --chaos -o "$out" \
		--junit "$out/junit.xml" --json "$out/capture.json" "$SAMPLES/race.elf" \
		>"$out.out" 2>"$out.err" </dev/null
	status=$?
	is "$status" 1 "race.elf --jobs $jobs --until-fail: a failure was captured"
	check "--jobs $jobs: run lines in run order" lines_in_order "$out.out"
	has "$out.out" "^run-[0-9]+: FAIL \(status 7\): PANIC" "--jobs $jobs: the failing line shows the PANIC"
	check "--jobs $jobs: JSON valid against doc/capture.schema.json" json_valid "$out/capture.json"
	kept=$(serial_rule "$out/capture.json" "$out" 2>"$out.rule")
	check "--jobs $jobs: kept exactly the first failure by run number ($kept), nothing after it" \
		test -n "$kept"
	[ -s "$out.rule" ] && diag "$(cat "$out.rule")"
	check "--jobs $jobs: JUnit valid against doc/junit.xsd" \
		xmllint --noout --schema "$XSD" "$out/junit.xml"
	n=$(grep -c '^run-' "$out.out")
	has "$out/junit.xml" "tests=\"$n\" failures=\"1\"" "--jobs $jobs: JUnit counts $n runs, 1 failure"
	check "--jobs $jobs: summary.html links the report" \
		grep -q "href=\"$kept/report.html\"" "$out/summary.html"
	has "$out/$kept/report.html" "id=\"how-often\">$n runs, 1 failed" "--jobs $jobs: the report says how often"
	has "$out/$kept/report.html" "seed [0-9]+\): status 7" "--jobs $jobs: ... and the failing seed"
	has "$out/$kept/report.html" "id=\"panic-line\"[^>]*>PANIC" "--jobs $jobs: the report marks the PANIC line"
done

# ---- every run fails: the kept run is run-0001 however runs finish ------
same=0
for i in 1 2 3 4 5; do
	out=$scratch/all-$i
	timeout 300 "$RRVM" capture --runs 8 --jobs 4 --until-fail --pass-status 0 --no-report \
		-o "$out" --json "$out.json" "$SAMPLES/hello.elf" >"$out.out" 2>"$out.err" </dev/null
	st=$?
	if [ "$st" = 1 ] && [ "$(ls "$out")" = run-0001 ] &&
		[ "$(grep -c '^run-' "$out.out")" = 1 ] &&
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [r["run"] for r in d["runs"]] == [1]' "$out.json"; then
		same=$((same + 1))
	else
		diag "try $i: status $st, left $(ls "$out" | tr '\n' ' ')"
		diag "$(cat "$out.out" "$out.err")"
	fi
done
is "$same" 5 "all runs fail, --jobs 4: run-0001 kept and alone, 5 times out of 5"
timeout 300 "$RRVM" capture --runs 8 --jobs 1 --until-fail --pass-status 0 --no-report \
	-o "$scratch/all-serial" "$SAMPLES/hello.elf" >"$scratch/all-serial.out" 2>&1 </dev/null
sed "s|$scratch/all-serial|X|" "$scratch/all-serial.out" >"$scratch/a.txt"
sed "s|$scratch/all-1|X|" "$scratch/all-1.out" >"$scratch/b.txt"
check "... and prints what --jobs 1 prints" cmp -s "$scratch/a.txt" "$scratch/b.txt"

# ---- every run passes: nothing kept, all lines in order -----------------
out=$scratch/pass
timeout 300 "$RRVM" capture --runs 12 --jobs 3 -o "$out" --junit "$scratch/pass.xml" \
	--json "$scratch/pass.json" "$SAMPLES/hello.elf" >"$out.out" 2>"$out.err" </dev/null
is "$?" 0 "12 passing runs, --jobs 3: status 0"
check "passing runs: 12 lines in run order" lines_in_order "$out.out"
has "$out.out" "^12 runs, 12 passed, 0 failed$" "passing runs: the totals"
check "passing runs: no recording left" test -z "$(ls "$out" | grep run-)"
check "passing runs: JUnit valid" xmllint --noout --schema "$XSD" "$scratch/pass.xml"
check "passing runs: JSON valid" json_valid "$scratch/pass.json"
check "summary.html sits beside the JUnit file" test -s "$scratch/summary.html"

check "not on a terminal: no progress line, plain lines only" \
	sh -c "! grep -q 'runs/s' '$out.err' && ! grep -q \"\$(printf '\\r')\" '$out.out'"
if command -v script >/dev/null 2>&1; then
	timeout 300 script -qec "'$RRVM' capture --runs 4 --jobs 2 --no-report -o '$scratch/tty' \
		'$SAMPLES/hello.elf'" /dev/null >"$scratch/tty.out" 2>&1 </dev/null
	has "$scratch/tty.out" "4/4 runs, 0 failed, [0-9.]+ runs/s" "on a terminal: a progress line (runs, failures, runs/s)"
	has "$scratch/tty.out" "1/4 runs, 0 failed, [0-9.]+ runs/s, [0-9]+s left" "... with the time left"
fi

# ---- usage errors --------------------------------------------------------
run_rrvm "$scratch/u.out" "$scratch/u.err" capture --jobs 0 -o "$scratch/u" "$SAMPLES/hello.elf"
is "$status" 2 "--jobs 0 is a usage error"
has "$scratch/u.err" "--jobs 0" "... naming the value"
run_rrvm "$scratch/u.out" "$scratch/u.err" capture --pass-status 0,x -o "$scratch/u" "$SAMPLES/hello.elf"
is "$status" 2 "a bad --pass-status is a usage error"
run_rrvm "$scratch/u.out" "$scratch/u.err" capture --runs 3 --jobs 2 -o "$scratch/u" "$scratch/nokernel"
is "$status" 2 "a missing kernel stops the capture with status 2"
has "$scratch/u.err" "nokernel" "... naming the file"

# ---- a killed capture leaves no half-written report --------------------
# complete FILE: an HTML file that ends as rrvm ends it.
complete() { tail -c 20 "$1" | grep -q '</html>'; }
# wait_for GLOB SECONDS: poll until a file matching GLOB exists
wait_for() {
	t=0
	while [ "$t" -lt $(($2 * 10)) ]; do
		for f in $1; do [ -e "$f" ] && return 0; done
		t=$((t + 1))
		sleep 0.1
	done
	return 1
}
# no_children OUT: no process of that capture is left (children die with it)
no_children() {
	t=0
	while [ "$t" -lt 300 ]; do
		ps -eo args | grep -F -- "$1" | grep -qv grep || return 0
		t=$((t + 1))
		sleep 0.1
	done
	return 1
}
for when in recording indexing; do
	out=$scratch/kill-$when
	case $when in
	recording) what="$out/run-*/events.lz4" ;;
	indexing) what="$out/run-*/trace.db.partial" ;;
	esac
	"$RRVM" capture --runs 4 --jobs 2 --pass-status 0 --chaos -o "$out" --junit "$out/j.xml" \
		"$SAMPLES/race.elf" >"$out.out" 2>"$out.err" </dev/null &
	pid=$!
	if wait_for "$what" 300; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		bad=0
		for f in "$out"/run-*/report.html "$out/summary.html"; do
			[ -e "$f" ] || continue
			complete "$f" || { bad=1; diag "half-written: $f"; }
		done
		check "killed while $when: every report.html there is whole" test "$bad" = 0
		check "killed while $when: no recorder or indexer left running" no_children "$out"
		check "killed while $when: no JUnit file half-written" \
			sh -c "[ ! -e '$out/j.xml' ] || xmllint --noout '$out/j.xml'"
	else
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		not_ok "killed while $when: never saw $what"
	fi
done
out=$scratch/term
"$RRVM" capture --runs 40 --jobs 2 --chaos -o "$out" --json "$out.json" "$SAMPLES/race.elf" \
	>"$out.out" 2>"$out.err" </dev/null &
pid=$!
if wait_for "$out/run-0003/events.lz4" 300; then
	kill -TERM "$pid"
	wait "$pid"
	is "$?" 130 "SIGTERM: status 130"
	check "SIGTERM: the JSON says interrupted, runs listed without a gap, kept failures kept" python3 -c '
import json, os, sys
d = json.load(open(sys.argv[1])); out = sys.argv[2]
assert d["interrupted"] is True
assert [r["run"] for r in d["runs"]] == list(range(1, len(d["runs"]) + 1))
kept = sorted(os.path.basename(k) for k in d["summary"]["kept"])
assert kept == sorted(r["name"] for r in d["runs"] if r["result"] == "fail"), kept
for k in d["summary"]["kept"]: assert os.path.isfile(k + "/manifest"), k
left = sorted(x for x in os.listdir(out) if x.startswith("run-"))
assert left == kept, "left: %s, kept: %s" % (left, kept)' "$out.json" "$out"
	check "SIGTERM: no recorder left running" no_children "$out"
else
	kill -KILL "$pid"
	not_ok "SIGTERM: run-0003 never started"
fi

# ---- packed recordings ---------------------------------------------------
rec=$(sed -n 's/^  recording: //p' "$scratch/race-j2.out" | head -1)
pk=$scratch/failure.rrvm
run_rrvm "$scratch/p.out" "$scratch/p.err" pack -o "$pk" "$rec"
is "$status" 0 "rrvm pack a kept failure"
size_pk=$(stat -c %s "$pk")
size_rec=$(cat "$rec/manifest" "$rec/kernel" "$rec/events.lz4" | wc -c)
check "the packed file ($size_pk bytes) is under the recording ($size_rec bytes) plus the kernel" \
	test "$size_pk" -lt $((size_rec + $(stat -c %s "$rec/kernel")))
check "the packed file is a standard LZ4 frame" lz4 -tq "$pk"
mkdir -p "$scratch/tmp"
TMPDIR=$scratch/tmp timeout 300 "$RRVM" replay "$pk" >"$scratch/p.rep" 2>"$scratch/p.rep.err"
is "$?" 7 "rrvm replay FILE replays the packed failure (status 7)"
check "... with the recorded serial output" cmp -s "$rec/serial.log" "$scratch/p.rep"
check "... and removes its private directory" test -z "$(ls "$scratch/tmp")"

# mkpack OUT SPEC: build a packed file by hand (FORMAT.md), from the real
# recording's files; SPEC changes one thing.
mkpack() {
	python3 - "$rec" "$2" <<'EOF' | lz4 -q -c > "$1"
import hashlib, struct, sys
rec, spec = sys.argv[1], sys.argv[2]
files = [(n, open(rec + "/" + n, "rb").read()) for n in ("manifest", "kernel", "events.lz4")]
if spec == "dotdot": files[1] = ("../kernel", files[1][1])
if spec == "dup": files[2] = ("kernel", files[1][1])
out = b"RRVMPACK" + struct.pack("<II", 1, 3)
for name, data in files:
    sha = hashlib.sha256(data).hexdigest().encode()
    if spec == "badsha" and name == "kernel": data = data[:-1] + bytes([data[-1] ^ 1])
    size = len(data) if spec != "huge" or name != "kernel" else 1 << 40
    out += struct.pack("<H", len(name)) + name.encode() + struct.pack("<Q", size) + sha + data
out += b"RRVMEND\n"
if spec == "after": out += b"x"
sys.stdout.buffer.write(out)
EOF
}
mkpack "$scratch/good.rrvm" good
TMPDIR=$scratch/tmp timeout 300 "$RRVM" replay "$scratch/good.rrvm" >"$scratch/g.rep" 2>"$scratch/g.err"
is "$?" 7 "a packed file built from FORMAT.md with the lz4 program replays"
for spec in dotdot dup badsha huge after; do
	mkpack "$scratch/$spec.rrvm" "$spec"
	TMPDIR=$scratch/tmp timeout 60 "$RRVM" replay "$scratch/$spec.rrvm" >/dev/null 2>"$scratch/$spec.err"
	is "$?" 2 "unpacking refuses a packed file with $spec"
	diag "$(cat "$scratch/$spec.err")"
done
has "$scratch/dotdot.err" "refused file '../kernel'" "... naming the unsafe path"
has "$scratch/badsha.err" "kernel does not match its SHA-256" "... naming the file whose SHA-256 differs"
check "nothing was written outside the private directory" test ! -e "$scratch/kernel"
check "... and nothing is left in TMPDIR" test -z "$(ls "$scratch/tmp")"
head -c $((size_pk / 2)) "$pk" >"$scratch/cut.rrvm"
TMPDIR=$scratch/tmp timeout 60 "$RRVM" replay "$scratch/cut.rrvm" >/dev/null 2>"$scratch/cut.err"
is "$?" 2 "a truncated packed file is refused"
cp "$pk" "$scratch/garbage.rrvm"
printf 'junk' >>"$scratch/garbage.rrvm"
TMPDIR=$scratch/tmp timeout 60 "$RRVM" replay "$scratch/garbage.rrvm" >/dev/null 2>"$scratch/garbage.err"
is "$?" 2 "bytes after the LZ4 frame are refused"
has "$scratch/garbage.err" "after the LZ4 frame" "... and said so"
cp -r "$rec" "$scratch/copy"
run_rrvm "$scratch/p.out" "$scratch/p.err" pack "$scratch/copy/"
is "$status" 0 "rrvm pack DIR/ without -o"
check "... writes DIR.rrvm" test -s "$scratch/copy.rrvm"
run_rrvm "$scratch/p.out" "$scratch/p.err" pack "$scratch/copy"
is "$status" 2 "rrvm pack refuses to overwrite DIR.rrvm"
run_rrvm "$scratch/p.out" "$scratch/p.err" pack -o "$scratch/x.rrvm" "$scratch/none"
is "$status" 2 "rrvm pack of a missing recording: status 2"
check "... writing nothing" test ! -e "$scratch/x.rrvm"

# ---- the manual page covers every command --------------------------------
man1=$top_srcdir/doc/rrvm.1
missing=""
for c in $("$RRVM" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } /^$/ { if (on) exit }'); do
	grep -q "^\.B $c\$" "$man1" || missing="$missing $c"
done
check "rrvm.1 describes every command of rrvm --help${missing:+ (missing:$missing)}" test -z "$missing"
if command -v man >/dev/null 2>&1; then
	MANWIDTH=80 man --warnings -l "$man1" >/dev/null 2>"$scratch/man.err"
	check "rrvm.1 renders without warnings" test ! -s "$scratch/man.err"
	diag "$(cat "$scratch/man.err")"
fi
tap_end
