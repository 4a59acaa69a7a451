/* muslcheck probe "getopt": does getopt() permute argv (GNU) or stop at the
 * first non-option (POSIX, musl)?  getopt_long() for comparison.
 * Build: cc -O1 -Wall -I../common probe.c -o getopt */
#define _GNU_SOURCE
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBE_ID "getopt"
#include "probe.h"

/* getopt's return value as a string: "a", "?", "-1" */
static void char_field(const char *k, int c)
{
	char t[16];
	if (c > 32 && c < 127) { t[0] = (char)c; t[1] = 0; }
	else snprintf(t, sizeof t, "%d", c);
	j_str(k, t);
}

int main(void)
{
	char a0[] = "prog", a1[] = "file", a2[] = "-a", l2[] = "--all";
	char *argv1[] = { a0, a1, a2, NULL };
	char *argv2[] = { a0, a1, l2, NULL };
	char *argv3[] = { a0, a1, a2, NULL };
	static const struct option longopts[] = { { "all", no_argument, NULL, 'A' }, { NULL, 0, NULL, 0 } };
	int c, n;

	safety_net(10);
	j_begin();
	unsetenv("POSIXLY_CORRECT");
	opterr = 0;

	/* getopt: prog file -a */
	optind = 0;   /* full reset on both libcs */
	c = getopt(3, argv1, "a");
	char_field("getopt_first", c);
	j_int("getopt_optind", optind);
	j_str("getopt_mode", c == 'a' ? "permute" : "posix");
	n = c == -1 ? 0 : 1;
	while (c != -1 && (c = getopt(3, argv1, "a")) != -1 && n < 8) n++;
	j_int("getopt_options_seen", n);
	j_int("getopt_final_optind", optind);
	j_bool("getopt_permuted", strcmp(argv1[1], "file") != 0);
	j_str("getopt_argv1_after", argv1[1]);

	/* getopt_long: prog file --all */
	optind = 0;
	n = 0;
	while ((c = getopt_long(3, argv2, "a", longopts, NULL)) != -1 && n < 8) n++;
	j_int("getopt_long_options_seen", n);
	j_int("getopt_long_optind", optind);
	j_str("getopt_long_argv1_after", argv2[1]);
	j_bool("getopt_long_permuted", strcmp(argv2[1], "file") != 0);

	/* getopt with "+" (POSIX mode requested explicitly): same on both */
	optind = 0;
	c = getopt(3, argv3, "+a");
	char_field("getopt_plus_first", c);
	j_int("getopt_plus_optind", optind);
	j_finish();
	return 0;
}
