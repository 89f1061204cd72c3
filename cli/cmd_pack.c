/*
 * cmd_pack.c — `rrvm pack DIR [-o FILE]`: one file holding a recording
 * (manifest, kernel, events.lz4), which `rrvm replay FILE` accepts as is.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "replay/replay.h"

static void usage(void)
{
	printf("Usage: rrvm pack [-o FILE] DIR\n"
	       "Pack the recording in DIR (manifest, kernel, events.lz4; not trace.db, which\n"
	       "'rrvm index' rebuilds) into one LZ4-compressed file, DIR.rrvm by default, with\n"
	       "the size and SHA-256 of each file. 'rrvm replay FILE' replays it directly; it\n"
	       "unpacks into a private temporary directory and refuses a damaged or unsafe file.\n"
	       "The format is described in replay/FORMAT.md.\n\n"
	       "Options:\n"
	       "  -o, --output FILE  where to write the packed recording\n"
	       "  -q, --quiet        no messages\n"
	       "  -h, --help         show this help and exit\n\n"
	       "Exit status: 0 written; 1 the file could not be written; 2 usage errors or a\n"
	       "missing or incomplete recording.\n");
}

int cli_cmd_pack(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, 0, 'o' }, { "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	struct vmm_error err = { "" };
	struct replay_manifest m;
	const char *output = NULL;
	char path[4200];
	bool quiet = false;
	struct stat st;
	size_t n;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			return 0;
		case 'o':
			output = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return cli_usage_error("pack", "bad option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("pack", optind >= argc ? "missing DIR" : "too many arguments");
	/* Only a whole recording is worth packing. */
	if (replay_manifest_read(argv[optind], &m, &err)) {
		cli_msg("pack: %s", err.msg);
		return CLI_EXIT_USAGE;
	}
	if (!output) {
		snprintf(path, sizeof(path), "%s", argv[optind]);
		n = strlen(path);
		while (n > 1 && path[n - 1] == '/')
			path[--n] = '\0';
		snprintf(path + n, sizeof(path) - n, ".rrvm");
		output = path;
	}
	if (stat(output, &st) == 0) {
		cli_msg("pack: %s already exists; remove it or choose another -o", output);
		return CLI_EXIT_USAGE;
	}
	rc = replay_pack(argv[optind], output, &err);
	if (rc) {
		cli_msg("pack: %s", err.msg);
		return rc == -ENOENT ? CLI_EXIT_USAGE : 1;
	}
	if (!quiet && stat(output, &st) == 0)
		cli_msg("packed %s into %s (%lld bytes)", argv[optind], output, (long long)st.st_size);
	return 0;
}
