/*
 * main.c — the rrvm program: global options and the table of subcommands.
 * A subcommand is added by writing cli/cmd_NAME.c and adding a row here.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config.h"

static const struct cli_command commands[] = {
	{ "run", "run a guest kernel, no recording", cli_cmd_run },
	{ "record", "run a guest and record it", cli_cmd_record },
	{ "replay", "replay a recording exactly", cli_cmd_replay },
	{ "capture", "record a flaky guest until it fails; keep the failures", cli_cmd_capture },
	{ "index", "replay a recording into DIR/trace.db (SQLite)", cli_cmd_index },
	{ "query", "run SQL on a recording's trace database", cli_cmd_query },
	{ "shell", "interactive SQL on a recording's trace database", cli_cmd_shell },
	{ "report", "write DIR/report.html: what failed, a timeline, the commands", cli_cmd_report },
	{ "pack", "pack a recording into one file that rrvm replay accepts", cli_cmd_pack },
	{ "doctor", "report what this host's KVM can do", cli_cmd_doctor },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: rrvm COMMAND [OPTIONS] [ARGS]\n"
		   "Record, replay and debug guest OS kernels on KVM.\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nOptions:\n"
		   "  -h, --help     show this help and exit\n"
		   "  -V, --version  show the version and exit\n"
		   "\n'rrvm COMMAND --help' describes a command.\n"
		   "Exit status: a guest's isa-debug-exit value V gives (V << 1) | 1 as QEMU does;\n"
		   "0 when it halted with interrupts off; 2 usage errors and bad input;\n"
		   "3 a replay diverged; 4 a guest crash; 124 --timeout.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(NULL, "missing command");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("rrvm %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
}
