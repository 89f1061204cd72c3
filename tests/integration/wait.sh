# wait.sh — how an integration test waits for another process (sourced).
# A test waits on an event it can see (a line printed, a file grown, a
# socket created), never with a bare sleep standing in for "the other
# process got far enough", and never asserts how long anything took: the
# machines are shared and CI may be twice as fast or half as fast.

# wait_until SECONDS COMMAND...: poll COMMAND every 50 ms until it succeeds;
# 1 if it has not after SECONDS. Timeouts are generous: they only end a
# test whose event never comes.
wait_until() {
	wu_limit=$(($1 * 20))
	shift
	wu_i=0
	until "$@"; do
		wu_i=$((wu_i + 1))
		[ "$wu_i" -ge "$wu_limit" ] && return 1
		sleep 0.05
	done
	return 0
}
# file_size FILE: its size in bytes (0 if it does not exist)
file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }
# alive PID: the process is still running
alive() { kill -0 "$1" 2>/dev/null; }
