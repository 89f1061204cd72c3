# gdb_lib.sh — shared by the gdb integration tests that drive the real gdb
# against `rrvm run --gdb` / `rrvm replay --gdb` on a Unix socket (sourced
# once top_srcdir and top_builddir are set: it brings lib.sh, skips without
# KVM, and names the samples $S). Files: $T/gdb.out (gdb's output),
# $T/rrvm.out/.err.
. "$top_srcdir/tests/integration/lib.sh"
need_kvm
S=$SAMPLES
GDB=${GDB:-gdb}

need_gdb() {
	if ! command -v "$GDB" >/dev/null 2>&1; then
		echo "1..0 # SKIP gdb is not installed"
		exit 0
	fi
	for f in "$@"; do
		if [ ! -e "$f" ]; then
			echo "1..0 # SKIP $f not built"
			exit 0
		fi
	done
}

T=$scratch
SOCK=$T/gdb.sock
RRVM_PID=
GDB_PID=
gdb_cleanup() {
	[ -n "$GDB_PID" ] && kill "$GDB_PID" 2>/dev/null
	[ -n "$RRVM_PID" ] && kill "$RRVM_PID" 2>/dev/null
	rm -rf "$scratch"
}
trap gdb_cleanup EXIT
trap 'exit 1' INT TERM

# show: the ends of gdb's and rrvm's output, after a failed check.
show() {
	for f in "$T/gdb.out" "$T/rrvm.err"; do
		[ -f "$f" ] && tail -40 "$f" | sed "s|^|#   $(basename "$f"): |"
	done
}
# gcheck DESC COMMAND...: check, showing the outputs on failure.
gcheck() {
	d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; show; fi
}
gdb_has() { grep -qF -- "$1" "$T/gdb.out"; }
gdb_lacks() { ! grep -qE -- "$1" "$T/gdb.out"; }
gdb_re() { grep -qE -- "$1" "$T/gdb.out"; }
err_has() { grep -qF -- "$1" "$T/rrvm.err"; }

# wait_for FILE PATTERN [COUNT]: until grep -cE finds COUNT (1) lines
# (up to 300 s: a loaded machine is slow, not broken).
count_in() { c=$(grep -cE -- "$2" "$1" 2>/dev/null); echo "${c:-0}"; }
wait_for() {
	i=0
	while [ "$(count_in "$1" "$2")" -lt "${3:-1}" ] && [ $i -lt 3000 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(count_in "$1" "$2")" -ge "${3:-1}" ]
}

# start_rrvm SUBCOMMAND ARGS...: rrvm SUBCOMMAND --gdb=unix:$SOCK ARGS, in
# the background, until it listens.
start_rrvm() {
	sub=$1; shift
	rm -f "$SOCK"
	"$RRVM" "$sub" --gdb="unix:$SOCK" "$@" >"$T/rrvm.out" 2>"$T/rrvm.err" </dev/null &
	RRVM_PID=$!
	i=0
	while [ ! -S "$SOCK" ] && [ $i -lt 3000 ] && kill -0 "$RRVM_PID" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -S "$SOCK" ] || { echo "# rrvm did not listen on $SOCK:"; sed 's/^/#   /' "$T/rrvm.err"; }
}

# wait_rrvm: wait (up to 300 s) for rrvm to end; its status in RRVM_STATUS.
wait_rrvm() {
	i=0
	while kill -0 "$RRVM_PID" 2>/dev/null && [ $i -lt 3000 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$RRVM_PID" 2>/dev/null; then
		echo "# rrvm still running 300 s after gdb ended; killed"
		kill "$RRVM_PID"
	fi
	wait "$RRVM_PID"
	RRVM_STATUS=$?
	RRVM_PID=
}

# run_gdb KERNEL ARGS...: gdb in batch mode on KERNEL's symbols, connected
# (target remote), then ARGS; then rrvm is waited for.
run_gdb() {
	k=$1; shift
	timeout 600 "$GDB" -batch -nx "$k" -ex "target remote $SOCK" "$@" >"$T/gdb.out" 2>&1 </dev/null
	wait_rrvm
}

# A stepi over iretq must stop at the address it returns to (the frame's
# rip; this backend reports that step one instruction late). On a kernel of
# samples/lib (isr_common's iretq): iretq_step_args KERNEL sets
# IRETQ_ARGS, gdb arguments that stop at the iretq (its second hit) and
# step over it; run gdb with them, then iretq_step_check.
iretq_step_args() {
	iretq=$("$GDB" -batch -nx "$1" -ex 'x/80i isr_common' 2>/dev/null |
		sed -n 's/^ *\(0x[0-9a-f]*\) <isr_common+[0-9]*>:[[:space:]]*iretq.*/\1/p' | head -1)
	IRETQ_ARGS="-ex 'hbreak *$iretq' -ex continue -ex continue -ex 'p/x *(long *)\$rsp' -ex stepi -ex 'p/x \$pc' -ex kill"
}
iretq_step_check() {
	ret=$(sed -n 's/^\$1 = \(0x[0-9a-f]*\)$/\1/p' "$T/gdb.out")
	pc=$(sed -n 's/^\$2 = \(0x[0-9a-f]*\)$/\1/p' "$T/gdb.out")
	gcheck "stepi over isr_common's iretq ($iretq) stops where it returns ($ret; stopped at $pc)" \
		[ "${ret:-none}" = "${pc:-missing}" ]
}

# record_race: `rrvm record` samples/race.elf into $REC ($T/rec), one check
# that the log is there; its status in rec_status, its exit count and final
# state hash (from the manifest) in exits and final.
record_race() {
	REC=$T/rec
	timeout 300 "$RRVM" record -q -o "$REC" "$SAMPLES/race.elf" >"$T/rec.out" 2>"$T/rec.err" </dev/null
	rec_status=$?
	gcheck "recorded race.elf (status $rec_status)" [ -f "$REC/events.lz4" ]
	exits=$(sed -n 's/^exits: //p' "$REC/manifest" 2>/dev/null)
	final=$(sed -n 's/^state-hash: //p' "$REC/manifest" 2>/dev/null)
}
