/*
 * options.c — option parsing shared by the commands that start a guest,
 * and the program's message helpers.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "gdbstub/gdbstub.h"
#include "vmm/vmm.h"

void cli_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("rrvm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rrvm%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'rrvm %s%s--help' for more information.\n", cmd ? cmd : "",
		cmd ? " " : "");
	return CLI_EXIT_USAGE;
}

int cli_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1ull << 20;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; break;
	case 'm': case 'M': mul = 1ull << 20; break;
	case 'g': case 'G': mul = 1ull << 30; break;
	case '\0': break;
	default: return -1;
	}
	if (*end) {
		end++;
		/* Accept 64M, 64MB and 64MiB alike. */
		if (*end == 'i')
			end++;
		if (*end == 'B')
			end++;
	}
	if (*end || v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

void cli_guest_opts_init(struct cli_guest_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mem_size = VMM_MEM_DEFAULT;
}

int cli_guest_opt(struct cli_guest_opts *o, int c, const char *arg)
{
	char *end;

	switch (c) {
	case CLI_OPT_MEM:
		if (cli_parse_size(arg, &o->mem_size) < 0)
			return cli_usage_error(NULL, "--mem: '%s' is not a size (e.g. 64M, 1G)", arg);
		if (o->mem_size < VMM_MEM_MIN || o->mem_size > VMM_MEM_MAX)
			return cli_usage_error(NULL, "--mem %s: guest RAM must be between %llu MiB and "
					       "%llu GiB", arg, VMM_MEM_MIN >> 20, VMM_MEM_MAX >> 30);
		if (o->mem_size % 4096)
			return cli_usage_error(NULL, "--mem %s: must be a multiple of 4 KiB", arg);
		return 0;
	case CLI_OPT_SERIAL_IN:
		o->serial_in = arg;
		return 0;
	case CLI_OPT_TIMEOUT:
		o->timeout = strtod(arg, &end);
		if (*end || end == arg || !(o->timeout > 0) || o->timeout > 1e7)
			return cli_usage_error(NULL, "--timeout: '%s' is not a positive number of seconds",
					       arg);
		return 0;
	case CLI_OPT_TRACE_IO:
		o->trace_io = true;
		return 0;
	case CLI_OPT_GDB:
		o->gdb = arg ? arg : "127.0.0.1:1234";
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case 'v':
		o->verbose = true;
		return 0;
	default:
		return CLI_EXIT_USAGE;
	}
}

int cli_guest_operands(struct cli_guest_opts *o, const char *cmd, int argc, char **argv, int optind)
{
	size_t len;

	if (optind >= argc)
		return cli_usage_error(cmd, "missing KERNEL");
	o->kernel = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	else if (optind < argc)
		return cli_usage_error(cmd, "unexpected '%s' after KERNEL (put kernel arguments after --)",
				       argv[optind]);
	/* QEMU and GRUB give a Multiboot kernel its own path first. */
	len = strlen(o->kernel) + 2;
	for (int i = optind; i < argc; i++)
		len += strlen(argv[i]) + 1;
	o->cmdline = malloc(len);
	if (!o->cmdline)
		return cli_usage_error(cmd, "out of memory");
	strcpy(o->cmdline, o->kernel);
	strcat(o->cmdline, " ");
	for (int i = optind; i < argc; i++) {
		if (i > optind)
			strcat(o->cmdline, " ");
		strcat(o->cmdline, argv[i]);
	}
	return 0;
}

void cli_guest_opts_free(struct cli_guest_opts *o)
{
	free(o->cmdline);
	o->cmdline = NULL;
}

static void (*interrupt_fn)(void *);
static void *interrupt_ctx;

static void interrupt_handler(int sig)
{
	(void)sig;
	/* The stop function ends the process when the guest is not running
	 * for gdb; a gdb Unix socket must not outlive it (issue 14). */
	gdb_server_signal_unlink();
	if (interrupt_fn)
		interrupt_fn(interrupt_ctx);
}

void cli_on_interrupt(void (*stop)(void *), void *ctx)
{
	struct sigaction sa = { .sa_handler = interrupt_handler };

	interrupt_fn = stop;
	interrupt_ctx = ctx;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}
