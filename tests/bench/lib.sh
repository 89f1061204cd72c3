# lib.sh — what the benchmark scripts share (sourced): the clock they read
# and the median they report. Benchmarks print figures and ratios taken in
# one run; they never pass or fail on a duration.

# now: host time in seconds, with nanoseconds
now() { date +%s.%N; }
# median: the median of the numbers on stdin, one per line
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# bench_skip_unless NAME kvm|gdb|built FILE...: end the benchmark NAME with
# "skipped" and the reason (status 0: a bench reports, it does not fail)
# when /dev/kvm is not usable, gdb with Python is missing ($GDB), or a
# FILE is not built.
bench_skip_unless() {
	_name=$1 _what=$2
	shift 2
	case $_what in
	kvm)
		[ -r /dev/kvm ] && [ -w /dev/kvm ] && return 0
		echo "$_name: /dev/kvm is not usable here; skipped" ;;
	gdb)
		command -v "${GDB:-gdb}" >/dev/null 2>&1 &&
			"${GDB:-gdb}" -batch -ex 'python print(1)' >/dev/null 2>&1 && return 0
		echo "$_name: gdb with Python is not installed; skipped" ;;
	built)
		for _f in "$@"; do
			[ -e "$_f" ] && continue
			echo "$_name: $_f not built; skipped"
			exit 0
		done
		return 0 ;;
	esac
	exit 0
}

# gdb_serve KERNEL DIR SCRIPT: `rrvm replay --gdb` of the recording DIR on
# the Unix socket $SOCK, the real gdb ($GDB) on KERNEL runs the Python
# SCRIPT; what it prints after "RESULT " goes to stdout. rrvm's stderr is
# in $T/rrvm.err. Waits for the socket to appear (up to 300 s), not for a
# time.
gdb_serve() {
	rm -f "$SOCK"
	"$RRVM" replay --gdb="unix:$SOCK" "$2" >/dev/null 2>"$T/rrvm.err" </dev/null &
	_pid=$!
	_i=0
	while [ ! -S "$SOCK" ] && [ $_i -lt 3000 ] && kill -0 $_pid 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
	"${GDB:-gdb}" -batch -nx "$1" -ex "target remote $SOCK" -ex "source $3" -ex kill 2>&1 |
		sed -n 's/^RESULT //p'
	wait $_pid
}

# bench_record_whole DIR KERNEL: `rrvm record` KERNEL into DIR, again (up to
# five tries) while the guest fails, so that the recording holds the whole
# workload (race.elf fails now and then, and a failing run ends early). A
# pass is status 0 or 1 (isa-debug-exit 0). The host seconds of the kept
# recording go to DIR.secs.
bench_record_whole() {
	for _i in 1 2 3 4 5; do
		rm -rf "$1"
		_t0=$(now)
		"$RRVM" record -q -o "$1" "$2" >/dev/null 2>&1 </dev/null
		_st=$?
		_t1=$(now)
		awk "BEGIN { print $_t1 - $_t0 }" >"$1.secs"
		[ $_st -le 1 ] && break
	done
}
