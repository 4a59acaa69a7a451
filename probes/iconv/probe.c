/* muslcheck probe "iconv": which conversions iconv_open accepts from UTF-8,
 * what an unmappable character becomes, and the UTF-16 byte order/BOM.
 * Build: cc -O1 -Wall probe.c -o iconv */
#define _GNU_SOURCE
#include <errno.h>
#include <iconv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBE_ID "iconv"
/* ---- probe output helpers (identical in every probe) ----------------------
 * The probe prints exactly one line on stdout: a JSON object.  Fields are
 * collected in a buffer and written at the end; a fatal signal or the alarm()
 * safety net prints {"probe":...,"ok":false,"error":...} instead. */
#define UNUSED __attribute__((unused))
static char jbuf[32768];
static size_t jlen;
static int jfirst = 1, jarr_first = 1, jover;

static UNUSED void jputc(char c) { if (jlen + 1 < sizeof jbuf) jbuf[jlen++] = c; else jover = 1; }
static UNUSED void jputs(const char *s) { while (*s) jputc(*s++); }

/* length of a valid UTF-8 sequence at p, 0 if invalid */
static UNUSED int utf8_len(const unsigned char *p)
{
	int n, i;
	unsigned cp;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) { n = 2; cp = p[0] & 0x1f; }
	else if (p[0] >= 0xe0 && p[0] <= 0xef) { n = 3; cp = p[0] & 0x0f; }
	else if (p[0] >= 0xf0 && p[0] <= 0xf4) { n = 4; cp = p[0] & 0x07; }
	else return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) return 0;
	if (cp >= 0xd800 && cp <= 0xdfff) return 0;
	return n;
}

/* JSON string literal; invalid UTF-8 bytes are written as \u00XX (their
 * Latin-1 reading) so the output is always valid JSON; NULL gives null */
static UNUSED void json_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	static const char hex[] = "0123456789abcdef";
	int n, i;
	if (!s) { jputs("null"); return; }
	jputc('"');
	while (*p) {
		unsigned c = *p;
		if (c == '"' || c == '\\') { jputc('\\'); jputc((char)c); p++; }
		else if (c == '\n') { jputs("\\n"); p++; }
		else if (c == '\t') { jputs("\\t"); p++; }
		else if (c < 0x20 || c == 0x7f) {
			jputs("\\u00"); jputc(hex[c >> 4]); jputc(hex[c & 15]); p++;
		} else if (c < 0x80) { jputc((char)c); p++; }
		else if ((n = utf8_len(p)) > 0) { for (i = 0; i < n; i++) jputc((char)p[i]); p += n; }
		else { jputs("\\u00"); jputc(hex[c >> 4]); jputc(hex[c & 15]); p++; }
	}
	jputc('"');
}

static UNUSED void jkey(const char *k) { if (!jfirst) jputc(','); jfirst = 0; json_string(k); jputc(':'); }
static UNUSED void j_str(const char *k, const char *v) { jkey(k); json_string(v); }
static UNUSED void j_int(const char *k, long long v) { char t[32]; snprintf(t, sizeof t, "%lld", v); jkey(k); jputs(t); }
static UNUSED void j_bool(const char *k, int v) { jkey(k); jputs(v ? "true" : "false"); }
static UNUSED void j_null(const char *k) { jkey(k); jputs("null"); }
static UNUSED void j_num(const char *k, double v)
{
	char t[64];
	jkey(k);
	if (v != v || v > 1e300 || v < -1e300) { jputs("null"); return; }
	snprintf(t, sizeof t, "%.3f", v);
	jputs(t);
}
static UNUSED void j_arr_begin(const char *k) { jkey(k); jputc('['); jarr_first = 1; }
static UNUSED void j_arr_str(const char *v) { if (!jarr_first) jputc(','); jarr_first = 0; json_string(v); }
static UNUSED void j_arr_int(long long v) { char t[32]; if (!jarr_first) jputc(','); jarr_first = 0; snprintf(t, sizeof t, "%lld", v); jputs(t); }
static UNUSED void j_arr_end(void) { jputc(']'); }

static UNUSED void j_begin(void)
{
	jlen = 0; jfirst = 1; jover = 0;
	jputc('{'); j_str("probe", PROBE_ID); j_bool("ok", 1);
}

static UNUSED void j_emit(void)
{
	fwrite(jbuf, 1, jlen, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

/* print {"probe":..,"ok":false,"error":msg} (discarding collected fields) and exit 0 */
static UNUSED void j_fail(const char *msg)
{
	jlen = 0; jfirst = 1; jover = 0;
	jputc('{'); j_str("probe", PROBE_ID); j_bool("ok", 0); j_str("error", msg); jputc('}');
	j_emit();
	exit(0);
}

static UNUSED void j_finish(void)
{
	jputc('}');
	if (jover) j_fail("output too long");
	j_emit();
}

/* async-signal-safe failure line for fatal signals and the alarm() net */
static UNUSED void fatal_handler(int sig)
{
	char msg[160], num[12];
	size_t n = 0, i = 0;
	const char *a = "{\"probe\":\"" PROBE_ID "\",\"ok\":false,\"error\":\"";
	const char *b = sig == SIGALRM ? "timeout (alarm)" : "fatal signal ";
	int v = sig;
	while (*a && n < sizeof msg - 20) msg[n++] = *a++;
	while (*b && n < sizeof msg - 20) msg[n++] = *b++;
	if (sig != SIGALRM) {
		do { num[i++] = (char)('0' + v % 10); v /= 10; } while (v && i < sizeof num);
		while (i) msg[n++] = num[--i];
	}
	msg[n++] = '"'; msg[n++] = '}'; msg[n++] = '\n';
	if (write(1, msg, n) < 0) { /* nothing left to do */ }
	_exit(0);
}

static UNUSED void safety_net(unsigned seconds)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM };
	size_t i;
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], fatal_handler);
	signal(SIGPIPE, SIG_IGN);
	alarm(seconds);
}

/* in a forked child: no JSON from signal handlers, default dispositions */
static UNUSED void child_defaults(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM, SIGPIPE };
	size_t i;
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
}

/* directory of this executable (for libraries built beside it) */
static UNUSED void self_dir(char *out, size_t size, const char *argv0)
{
	char *slash;
	ssize_t n = readlink("/proc/self/exe", out, size - 1);
	if (n > 0) out[n] = 0;
	else snprintf(out, size, "%s", argv0 ? argv0 : ".");
	slash = strrchr(out, '/');
	if (slash && slash != out) *slash = 0;
	else if (slash) slash[1] = 0;
	else snprintf(out, size, ".");
}
/* ---- end of helpers ------------------------------------------------------- */

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
