# lib.sh — what the benchmark scripts share (sourced): the clock they read
# and the median they report. Benchmarks print figures and ratios taken in
# one run; they never pass or fail on a duration.

# now: host time in seconds, with nanoseconds
now() { date +%s.%N; }
# median: the median of the numbers on stdin, one per line
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
