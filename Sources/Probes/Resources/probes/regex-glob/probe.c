/* muslcheck probe "regex-glob": POSIX regex details (backreferences,
 * REG_ICASE, GNU escapes \w \b, sizeof(regoff_t)) and glob() GLOB_BRACE.
 * Build: cc -O1 -Wall -I../common probe.c -o regex-glob */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBE_ID "regex-glob"
#include "probe.h"

/* compile + match; emits <prefix>_compiled, <prefix>_match and optionally spans */
static void rx(const char *prefix, const char *re, int cflags, const char *subject, int spans)
{
	regex_t r;
	regmatch_t m[3];
	char key[64], err[200];
	int rc = regcomp(&r, re, cflags);
	snprintf(key, sizeof key, "%s_compiled", prefix);
	j_bool(key, rc == 0);
	if (rc != 0) {
		regerror(rc, &r, err, sizeof err);
		snprintf(key, sizeof key, "%s_error", prefix);
		j_str(key, err);
		snprintf(key, sizeof key, "%s_match", prefix);
		j_null(key);
		return;
	}
	memset(m, 0xff, sizeof m);
	rc = regexec(&r, subject, 3, m, 0);
	snprintf(key, sizeof key, "%s_match", prefix);
	j_bool(key, rc == 0);
	if (rc == 0 && spans) {
		int i;
		snprintf(key, sizeof key, "%s_spans", prefix);
		j_arr_begin(key);
		for (i = 0; i < spans; i++) { j_arr_int((long long)m[i].rm_so); j_arr_int((long long)m[i].rm_eo); }
		j_arr_end();
	}
	regfree(&r);
}

static const char *glob_rc(int rc)
{
	return rc == 0 ? "ok" : rc == GLOB_NOMATCH ? "GLOB_NOMATCH" : rc == GLOB_ABORTED ? "GLOB_ABORTED" :
	       rc == GLOB_NOSPACE ? "GLOB_NOSPACE" : "other";
}

int main(void)
{
	char dir[] = "/tmp/muslcheck-glob.XXXXXX", path[200], pat[200];
	glob_t g;
	int rc, flags = 0, fd;
	size_t i;

	safety_net(10);
	j_begin();

	j_int("sizeof_regoff_t", (long long)sizeof(regoff_t));
	/* BRE backreference: \(a*\)b\1 on "aabaa" -> whole [0,5], group [0,2] */
	rx("backref", "\\(a*\\)b\\1", 0, "aabaa", 2);
	rx("icase", "HELLO", REG_EXTENDED | REG_ICASE, "say hello", 1);
	rx("gnu_w", "a\\wc", REG_EXTENDED, "abc", 1);
	rx("gnu_b", "\\bfoo\\b", REG_EXTENDED, "a foo b", 1);
	/* a backreference in an ERE is undefined by POSIX: glibc supports it,
	 * musl 1.2.3 reads \1 as a literal "1" */
	rx("ere_backref", "(a)\\1", REG_EXTENDED, "xaa", 2);
	rx("ere_backref_literal", "(a)\\1", REG_EXTENDED, "xa1", 0);

#ifdef GLOB_BRACE
	j_bool("glob_brace_defined", 1);
	flags |= GLOB_BRACE;
#else
	j_bool("glob_brace_defined", 0);
#endif
#ifdef GLOB_TILDE
	j_bool("glob_tilde_defined", 1);
#else
	j_bool("glob_tilde_defined", 0);
#endif
	if (!mkdtemp(dir)) {
		j_str("glob_result", "mkdtemp failed");
	} else {
		snprintf(path, sizeof path, "%s/a", dir);
		if ((fd = open(path, O_CREAT | O_WRONLY, 0600)) >= 0) close(fd);
		snprintf(path, sizeof path, "%s/b", dir);
		if ((fd = open(path, O_CREAT | O_WRONLY, 0600)) >= 0) close(fd);
		snprintf(pat, sizeof pat, "%s/{a,b}", dir);
		memset(&g, 0, sizeof g);
		rc = glob(pat, flags, NULL, &g);
		j_str("glob_result", glob_rc(rc));
		j_int("glob_count", rc == 0 ? (long long)g.gl_pathc : 0);
		j_arr_begin("glob_matches");
		for (i = 0; rc == 0 && i < g.gl_pathc && i < 16; i++) {
			const char *s = strrchr(g.gl_pathv[i], '/');
			j_arr_str(s ? s + 1 : g.gl_pathv[i]);
		}
		j_arr_end();
		if (rc == 0) globfree(&g);
		j_bool("glob_brace_expands", rc == 0 && g.gl_pathc == 2);
		snprintf(path, sizeof path, "%s/a", dir); unlink(path);
		snprintf(path, sizeof path, "%s/b", dir); unlink(path);
		rmdir(dir);
	}
	j_finish();
	return 0;
}
