/*
 * cli.h — the rrvm program: one file per subcommand, a table row each in
 * main.c, and the option parsing they share.
 *
 * Only cli/ decides how the program ends: commands return the exit status
 * (DESIGN.md: guest status, 2 usage, 3 divergence, 4 crash, 124 timeout).
 */
#ifndef RRVM_CLI_H
#define RRVM_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_EXIT_USAGE 2

struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);      /* argv[0] is the command name */
};

/* Options shared by the commands that start a guest. */
struct cli_guest_opts {
	uint64_t mem_size;
	const char *serial_in;          /* NULL: stdin */
	double timeout;                 /* seconds, 0 none */
	bool quiet, verbose, trace_io;
	const char *gdb;                /* NULL: no gdb stub */
	const char *kernel;
	char *cmdline;                  /* "KERNEL ARGS..." as QEMU and GRUB pass it */
};

/* getopt_long codes for the shared options, above the ASCII range. */
enum { CLI_OPT_MEM = 1000, CLI_OPT_SERIAL_IN, CLI_OPT_TIMEOUT, CLI_OPT_TRACE_IO, CLI_OPT_GDB };

/* The long options every guest-starting command accepts, to splice into a
 * command's own table (terminated by a zero entry). */
#define CLI_GUEST_LONGOPTS                                                     \
	{ "mem", required_argument, 0, CLI_OPT_MEM },                          \
	{ "serial-in", required_argument, 0, CLI_OPT_SERIAL_IN },              \
	{ "timeout", required_argument, 0, CLI_OPT_TIMEOUT },                  \
	{ "trace-io", no_argument, 0, CLI_OPT_TRACE_IO },                      \
	{ "gdb", optional_argument, 0, CLI_OPT_GDB },                          \
	{ "quiet", no_argument, 0, 'q' },                                      \
	{ "verbose", no_argument, 0, 'v' },                                    \
	{ "help", no_argument, 0, 'h' }

#define CLI_GUEST_OPTS_HELP                                                                  \
	"      --mem SIZE         guest RAM (default 64M; suffix K, M or G; plain numbers are MiB)\n" \
	"      --serial-in FILE   feed FILE to COM1 (default: standard input)\n"                   \
	"      --timeout SECONDS  stop the guest after SECONDS (exit status 124)\n"                \
	"      --gdb[=ADDR]       serve gdb on ADDR (default 127.0.0.1:1234; or unix:PATH)\n"      \
	"                         and wait for it before the first instruction\n"                  \
	"      --trace-io         log accesses to ports and MMIO no device claims\n"               \
	"  -q, --quiet            no messages from rrvm itself, only the guest's output\n"         \
	"  -v, --verbose          more messages (state hashes, positions)\n"                       \
	"  -h, --help             show this help and exit\n"

void cli_guest_opts_init(struct cli_guest_opts *o);
/* Handle one shared option; returns 0, or CLI_EXIT_USAGE after printing. */
int cli_guest_opt(struct cli_guest_opts *o, int c, const char *arg);
/* Take KERNEL [-- ARGS...] from the operands; builds o->cmdline. */
int cli_guest_operands(struct cli_guest_opts *o, const char *cmd, int argc, char **argv, int optind);
void cli_guest_opts_free(struct cli_guest_opts *o);

/* Size with K/M/G suffix (plain number: MiB). -1 on error. */
int cli_parse_size(const char *s, uint64_t *out);

/* Print "rrvm CMD: msg" and the --help hint to stderr; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Messages from rrvm (stderr), suppressed by --quiet where noted. */
void cli_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Ask the running guest to stop on SIGINT/SIGTERM: install for a stop
 * function called from the handler (async-signal-safe). */
void cli_on_interrupt(void (*stop)(void *), void *ctx);

/* A file written whole or not at all: the text goes to a temporary file
 * beside path (".NAME.tmp.PID"), which commit fsyncs and renames over
 * path, so a reader or a killed writer never sees half of it. */
struct cli_outfile {
	FILE *f;
	char path[4096];
	char tmp[4200];
};
/* 0, or -1 after a message naming the file. */
int cli_outfile_open(struct cli_outfile *o, const char *path) __attribute__((warn_unused_result));
int cli_outfile_commit(struct cli_outfile *o) __attribute__((warn_unused_result));
/* Drop the temporary file (on an error while writing it). */
void cli_outfile_abort(struct cli_outfile *o);

/* The raw units rrvm index counts positions with (index_units.c). */
struct tracedb_units;
extern const struct tracedb_units cli_index_units;

int cli_cmd_run(int argc, char **argv);
int cli_cmd_doctor(int argc, char **argv);
int cli_cmd_record(int argc, char **argv);
int cli_cmd_replay(int argc, char **argv);
int cli_cmd_capture(int argc, char **argv);
int cli_cmd_index(int argc, char **argv);
int cli_cmd_query(int argc, char **argv);
int cli_cmd_shell(int argc, char **argv);
int cli_cmd_report(int argc, char **argv);
int cli_cmd_pack(int argc, char **argv);
/* Open a trace database for query/shell: a recording directory (its
 * trace.db, checked to be current) or a trace.db file. 0, or the exit
 * status after printing why (1 no usable database, 2 usage). */
struct tracedb;
int cli_tracedb_open(const char *cmd, const char *where, struct tracedb **db);

#endif
