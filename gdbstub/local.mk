# gdbstub: sources, libraries and tests of this directory.
# The GDB remote serial protocol server; it includes no KVM or vmm header.
noinst_LIBRARIES += gdbstub/libgdbstub.a
gdbstub_libgdbstub_a_SOURCES = \
	gdbstub/gdbstub.h \
	gdbstub/internal.h \
	gdbstub/conn.c \
	gdbstub/packet.c \
	gdbstub/hex.c \
	gdbstub/dispatch.c \
	gdbstub/cmd_state.c \
	gdbstub/cmd_exec.c \
	gdbstub/cmd_query.c \
	gdbstub/cmd_file.c \
	gdbstub/regs.c \
	gdbstub/server.c \
	gdbstub/watch.c \
	gdbstub/refuse.c

gdb_test_libs = gdbstub/libgdbstub.a -lpthread

check_PROGRAMS += tests/unit/gdb_packet_test tests/unit/gdb_dispatch_test tests/unit/gdb_conn_test
TESTS += tests/unit/gdb_packet_test tests/unit/gdb_dispatch_test tests/unit/gdb_conn_test
tests_unit_gdb_packet_test_SOURCES = tests/unit/gdb_packet_test.c
tests_unit_gdb_packet_test_LDADD = $(gdb_test_libs)
tests_unit_gdb_dispatch_test_SOURCES = tests/unit/gdb_dispatch_test.c
tests_unit_gdb_dispatch_test_LDADD = $(gdb_test_libs)
tests_unit_gdb_conn_test_SOURCES = tests/unit/gdb_conn_test.c
tests_unit_gdb_conn_test_LDADD = $(gdb_test_libs)

# A fake target served over TCP/Unix, driven by the real gdb in the test below.
check_PROGRAMS += tests/tools/gdbfake
tests_tools_gdbfake_SOURCES = tests/tools/gdbfake.c
tests_tools_gdbfake_LDADD = $(gdb_test_libs)
TESTS += tests/integration/gdb_protocol.sh
EXTRA_DIST += tests/integration/gdb_protocol.sh
# The stub under abuse (issue 14): the real gdb, a hostile python3 client.
TESTS += tests/integration/gdb_abuse.sh
TESTS += tests/integration/gdb_monitor_interrupt.sh
EXTRA_DIST += tests/integration/gdb_monitor_interrupt.sh
EXTRA_DIST += tests/integration/gdb_abuse.sh tests/integration/gdb_abuse.py

# What a resume and a Ctrl-C cost in the stub (make bench; fake target).
noinst_PROGRAMS += tests/bench/gdb_resume_bench
tests_bench_gdb_resume_bench_SOURCES = tests/bench/gdb_resume_bench.c tests/unit/gdb_fake.h
tests_bench_gdb_resume_bench_LDADD = $(gdb_test_libs)
bench_scripts += tests/bench/gdb_resume.sh
EXTRA_DIST += tests/bench/gdb_resume.sh
