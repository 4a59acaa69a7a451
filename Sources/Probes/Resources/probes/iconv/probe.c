/* muslcheck probe "iconv": which conversions iconv_open accepts from UTF-8,
 * what an unmappable character becomes, and the UTF-16 byte order/BOM.
 * Build: cc -O1 -Wall -I../common probe.c -o iconv */
#define _GNU_SOURCE
#include <errno.h>
#include <iconv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBE_ID "iconv"
#include "probe.h"

static const char *errno_name(int e)
{
	return e == EILSEQ ? "EILSEQ" : e == EINVAL ? "EINVAL" : e == E2BIG ? "E2BIG" : e == 0 ? "none" : "other";
}

/* convert `in` from UTF-8 to `to`; returns iconv()'s result, output in out/outlen */
static long convert(const char *to, const char *in, char *out, size_t *outlen, int *err)
{
	iconv_t cd = iconv_open(to, "UTF-8");
	char *ip = (char *)in, *op = out;
	size_t il = strlen(in), ol = *outlen, r;
	*err = 0;
	if (cd == (iconv_t)-1) { *err = errno; *outlen = 0; return -2; }
	errno = 0;
	r = iconv(cd, &ip, &il, &op, &ol);
	if (r == (size_t)-1) *err = errno;
	else { /* flush shift state */
		size_t r2 = iconv(cd, NULL, NULL, &op, &ol);
		if (r2 == (size_t)-1) *err = errno;
	}
	*outlen = (size_t)(op - out);
	iconv_close(cd);
	return r == (size_t)-1 ? -1 : (long)r;
}

static void hex(const char *b, size_t n, char *out, size_t size)
{
	size_t i;
	out[0] = 0;
	for (i = 0; i < n && 2 * i + 3 <= size; i++) snprintf(out + 2 * i, 3, "%02x", (unsigned char)b[i]);
}

/* field name from a charset name: "ASCII//TRANSLIT" -> "to_ascii_translit" */
static void field_name(const char *cs, char *out, size_t size)
{
	size_t n = 0;
	int us = 0;
	n = (size_t)snprintf(out, size, "to_");
	for (; *cs && n + 2 < size; cs++) {
		char c = *cs;
		if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) { out[n++] = c; us = 0; }
		else if (!us) { out[n++] = '_'; us = 1; }
	}
	out[n] = 0;
}

int main(void)
{
	static const char *targets[] = { "UTF-16", "UTF-16LE", "UTF-16BE", "ISO-8859-1", "CP1252",
		"WINDOWS-1252", "EUC-JP", "SHIFT_JIS", "GB18030", "ASCII//TRANSLIT", "ASCII//IGNORE" };
	const size_t nt = sizeof targets / sizeof targets[0];
	int ok[sizeof targets / sizeof targets[0]];
	char out[64], h[160], key[64];
	size_t i, ol;
	long r;
	int e;

	safety_net(10);
	j_begin();

	for (i = 0; i < nt; i++) {
		iconv_t cd = iconv_open(targets[i], "UTF-8");
		ok[i] = cd != (iconv_t)-1;
		if (ok[i]) iconv_close(cd);
		field_name(targets[i], key, sizeof key);
		j_bool(key, ok[i]);
	}
	j_arr_begin("accepted");
	for (i = 0; i < nt; i++) if (ok[i]) j_arr_str(targets[i]);
	j_arr_end();
	j_arr_begin("rejected");
	for (i = 0; i < nt; i++) if (!ok[i]) j_arr_str(targets[i]);
	j_arr_end();

	/* decoding direction for the CJK sets (musl decodes more than it encodes) */
	{
		static const char *from[] = { "GB18030", "EUC-JP", "SHIFT_JIS" };
		j_arr_begin("accepted_as_source");
		for (i = 0; i < sizeof from / sizeof from[0]; i++) {
			iconv_t cd = iconv_open("UTF-8", from[i]);
			if (cd != (iconv_t)-1) { j_arr_str(from[i]); iconv_close(cd); }
		}
		j_arr_end();
	}

	/* "あ" (U+3042) to SHIFT_JIS: 82a0 when really encoded, 2a ('*') when not */
	ol = sizeof out - 1;
	r = convert("SHIFT_JIS", "\xe3\x81\x82", out, &ol, &e);
	if (r == -2) j_null("hiragana_sjis_hex");
	else { hex(out, ol, h, sizeof h); j_str("hiragana_sjis_hex", h); }

	/* "€" (U+20AC) has no ISO-8859-1 mapping */
	ol = sizeof out - 1;
	r = convert("ISO-8859-1", "\xe2\x82\xac", out, &ol, &e);
	out[ol] = 0;
	j_int("euro_latin1_return", r);
	j_str("euro_latin1_errno", errno_name(e));
	j_str("euro_latin1_output", out);
	hex(out, ol, h, sizeof h);
	j_str("euro_latin1_hex", h);
	j_str("euro_latin1_behavior", r == -1 && e == EILSEQ ? "EILSEQ" : r >= 0 && ol == 1 && out[0] == '*' ? "star" :
	      r >= 0 ? "substituted" : "other");

	/* ASCII//TRANSLIT of "€" where accepted */
	ol = sizeof out - 1;
	r = convert("ASCII//TRANSLIT", "\xe2\x82\xac", out, &ol, &e);
	out[ol] = 0;
	if (r == -2) { j_null("euro_translit_output"); }
	else { j_str("euro_translit_output", out); j_str("euro_translit_errno", errno_name(e)); }

	/* UTF-16 of "A": BOM and byte order */
	ol = sizeof out;
	r = convert("UTF-16", "A", out, &ol, &e);
	if (r >= 0) {
		int bom = 0;
		const char *order = "unknown";
		hex(out, ol, h, sizeof h);
		j_str("utf16_hex", h);
		if (ol >= 2 && (unsigned char)out[0] == 0xff && (unsigned char)out[1] == 0xfe) { bom = 1; order = "little"; }
		else if (ol >= 2 && (unsigned char)out[0] == 0xfe && (unsigned char)out[1] == 0xff) { bom = 1; order = "big"; }
		else if (ol >= 2) order = out[0] == 'A' ? "little" : out[1] == 'A' ? "big" : "unknown";
		j_bool("utf16_bom", bom);
		j_str("utf16_byte_order", order);
	} else {
		j_null("utf16_hex");
		j_null("utf16_bom");
		j_null("utf16_byte_order");
	}
	j_finish();
	return 0;
}
