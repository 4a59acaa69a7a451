/* muslcheck probe "locale": the default locale with LANG unset, whether unknown
 * locale names are accepted, C.UTF-8, and whether strcoll follows a locale's
 * collation or byte order.
 * Build: cc -O1 -Wall -I../common probe.c -o locale */
#define _GNU_SOURCE
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#define PROBE_ID "locale"
#include "probe.h"

static int sign(int v) { return v < 0 ? -1 : v > 0 ? 1 : 0; }

static void clear_locale_env(void)
{
	static const char *vars[] = { "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_COLLATE",
		"LC_MESSAGES", "LC_NUMERIC", "LC_TIME", "LC_MONETARY" };
	size_t i;
	for (i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

int main(void)
{
	const char *r;
	static const char *coll[] = { "en_US.UTF-8", "en_US.utf8", "C.UTF-8", "C.utf8" };
	size_t i;

	safety_net(10);
	j_begin();

	/* before any setlocale: the C locale */
	j_str("startup_codeset", nl_langinfo(CODESET));

	clear_locale_env();
	r = setlocale(LC_ALL, "");
	j_str("default_locale", r);
	j_str("default_codeset", nl_langinfo(CODESET));
	j_int("default_mb_cur_max", (long long)MB_CUR_MAX);

	setlocale(LC_ALL, "C");
	r = setlocale(LC_ALL, "xx_YY.UTF-8");
	j_bool("unknown_locale_accepted", r != NULL);
	j_str("unknown_locale_result", r);
	if (r) j_str("unknown_locale_codeset", nl_langinfo(CODESET));

	setlocale(LC_ALL, "C");
	setenv("LANG", "C.UTF-8", 1);
	r = setlocale(LC_ALL, "");
	j_str("lang_c_utf8_locale", r);
	j_str("lang_c_utf8_codeset", nl_langinfo(CODESET));
	unsetenv("LANG");

	/* strcoll("a","B"): byte order gives +1 ('a' 0x61 > 'B' 0x42); a
	 * dictionary collation (en_US) gives -1 */
	setlocale(LC_ALL, "C");
	j_int("strcoll_a_B_c_locale", sign(strcoll("a", "B")));
	for (i = 0; i < sizeof coll / sizeof coll[0]; i++) {
		if (setlocale(LC_ALL, coll[i])) break;
	}
	if (i < sizeof coll / sizeof coll[0]) {
		j_str("strcoll_locale", coll[i]);
		j_int("strcoll_a_B", sign(strcoll("a", "B")));
		j_str("strcoll_order", strcoll("a", "B") < 0 ? "locale" : "byte");
	} else {
		j_null("strcoll_locale");
		j_null("strcoll_a_B");
		j_str("strcoll_order", "no UTF-8 locale available");
	}
	setlocale(LC_ALL, "C");
	j_bool("en_us_utf8_available", setlocale(LC_ALL, "en_US.UTF-8") != NULL);
	setlocale(LC_ALL, "C");
	j_finish();
	return 0;
}
