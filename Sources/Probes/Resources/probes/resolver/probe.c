/* muslcheck probe "resolver": getaddrinfo results, /etc/hosts, and how the stub
 * resolver applies search/ndots and TCP fallback, observed with a tiny DNS
 * server this probe runs on 127.0.0.1:53 in a forked child.
 * Expects /etc/resolv.conf = "nameserver 127.0.0.1 / search corp.test /
 * options ndots:1"; otherwise the DNS part reports "skipped".
 * Build: cc -O1 -Wall -I../common probe.c -o resolver */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROBE_ID "resolver"
#include "probe.h"

#define MAXLOG 64

static const char *fam_name(int f) { return f == AF_INET ? "inet" : f == AF_INET6 ? "inet6" : "other"; }
static const char *sock_name(int t)
{
	return t == SOCK_STREAM ? "stream" : t == SOCK_DGRAM ? "dgram" : t == SOCK_RAW ? "raw" : "other";
}

static void addr_text(const struct addrinfo *ai, char *out, size_t size)
{
	const void *a = NULL;
	if (ai->ai_family == AF_INET) a = &((const struct sockaddr_in *)ai->ai_addr)->sin_addr;
	if (ai->ai_family == AF_INET6) a = &((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
	if (!a || !inet_ntop(ai->ai_family, a, out, (socklen_t)size)) snprintf(out, size, "?");
}

/* ---- the fake DNS server (child process) ---- */

/* parse the question; returns offset after QTYPE/QCLASS or -1 */
static int parse_question(const unsigned char *m, int len, char *name, size_t nsize, int *qtype)
{
	int off = 12, labels = 0;
	size_t n = 0;
	if (len < 17) return -1;
	while (off < len && m[off] && labels++ < 64) {
		int l = m[off++], i;
		if (l > 63 || off + l > len) return -1;
		if (n && n + 1 < nsize) name[n++] = '.';
		for (i = 0; i < l; i++) {
			unsigned char c = m[off + i];
			if (n + 1 < nsize) name[n++] = (c > 32 && c < 127) ? (char)c : '?';
		}
		off += l;
	}
	name[n] = 0;
	if (off + 5 > len) return -1;
	off++;
	*qtype = m[off] << 8 | m[off + 1];
	return off + 4;
}

/* build a reply: tc = set TC and give no answer; names starting "tc." get an
 * A record 192.0.2.1 (when not truncated); everything else is NXDOMAIN */
static int build_reply(const unsigned char *q, int qend, const char *name, int qtype, int tc,
		       unsigned char *r, int rsize)
{
	int found = strncmp(name, "tc.", 3) == 0, len = qend;
	if (qend + 16 > rsize) return -1;
	memcpy(r, q, (size_t)qend);
	r[2] = (unsigned char)(0x80 | (q[2] & 0x79) | (tc ? 0x02 : 0));  /* QR, opcode, RD, TC */
	r[3] = (unsigned char)(0x80 | (found ? 0 : 3));                    /* RA, rcode */
	r[4] = 0; r[5] = 1; r[6] = 0; r[7] = 0; r[8] = r[9] = r[10] = r[11] = 0;
	if (found && !tc && qtype == 1) {
		static const unsigned char ans[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1 };
		memcpy(r + len, ans, sizeof ans);
		len += (int)sizeof ans;
		r[7] = 1;
	}
	return len;
}

static void log_query(int logfd, const char *proto, int qtype, const char *name)
{
	char line[400];
	int n = snprintf(line, sizeof line, "%s %d %s\n", proto, qtype, name);
	if (n > 0 && write(logfd, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1)) < 0) _exit(4);
}

static int read_full(int fd, unsigned char *b, int n)
{
	int got = 0;
	while (got < n) {
		struct pollfd pf = { fd, POLLIN, 0 };
		ssize_t r;
		if (poll(&pf, 1, 2000) <= 0) return -1;
		r = read(fd, b + got, (size_t)(n - got));
		if (r <= 0) return -1;
		got += (int)r;
	}
	return got;
}

static void serve(int udp, int tcp, int logfd)
{
	int handled = 0;
	alarm(30);
	while (handled < 200) {
		struct pollfd pf[2] = { { udp, POLLIN, 0 }, { tcp, POLLIN, 0 } };
		unsigned char q[512], r[600];
		char name[300];
		int qtype, qend, rl;
		if (poll(pf, tcp >= 0 ? 2 : 1, -1) <= 0) { if (errno == EINTR) continue; _exit(0); }
		if (pf[0].revents & POLLIN) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof from;
			ssize_t n = recvfrom(udp, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
			handled++;
			if (n > 0 && (qend = parse_question(q, (int)n, name, sizeof name, &qtype)) > 0) {
				log_query(logfd, "udp", qtype, name);
				rl = build_reply(q, qend, name, qtype, strncmp(name, "tc.", 3) == 0, r, sizeof r);
				if (rl > 0) sendto(udp, r, (size_t)rl, 0, (struct sockaddr *)&from, fl);
			}
		}
		if (tcp >= 0 && (pf[1].revents & POLLIN)) {
			int c = accept(tcp, NULL, NULL), k;
			unsigned char lb[2];
			handled++;
			if (c < 0) continue;
			log_query(logfd, "tcp-connect", 0, "-");
			for (k = 0; k < 4; k++) {   /* a client may send A and AAAA on one connection */
				int ql;
				if (read_full(c, lb, 2) != 2) break;
				ql = lb[0] << 8 | lb[1];
				if (ql < 17 || ql > (int)sizeof q || read_full(c, q, ql) != ql) break;
				if ((qend = parse_question(q, ql, name, sizeof name, &qtype)) <= 0) break;
				log_query(logfd, "tcp", qtype, name);
				rl = build_reply(q, qend, name, qtype, 0, r + 2, (int)sizeof r - 2);
				if (rl <= 0) break;
				r[0] = (unsigned char)(rl >> 8); r[1] = (unsigned char)rl;
				if (write(c, r, (size_t)rl + 2) < 0) break;
			}
			close(c);
		}
	}
	_exit(0);
}

/* ---- parent: read the query log ---- */
static char logbuf[8192];
static size_t loglen;

static void drain_log(int fd)
{
	for (;;) {
		struct pollfd pf = { fd, POLLIN, 0 };
		ssize_t n;
		/* The server logs a query before it answers it, so by the time a lookup returns its
		 * lines are in the pipe: a short wait is enough. */
		if (poll(&pf, 1, 5) <= 0) return;
		if (loglen + 1 >= sizeof logbuf) return;
		n = read(fd, logbuf + loglen, sizeof logbuf - 1 - loglen);
		if (n <= 0) return;
		loglen += (size_t)n;
		logbuf[loglen] = 0;
	}
}

/* emit the log lines since `from` as two arrays: unique names in order, and raw lines */
static void emit_queries(const char *prefix, size_t from, int *tcp_seen)
{
	char key[64], copy[8192], *line, *save = NULL;
	char names[MAXLOG][300];
	int nn = 0, i;
	snprintf(copy, sizeof copy, "%s", logbuf + from);
	*tcp_seen = 0;
	snprintf(key, sizeof key, "%s_queries", prefix);
	j_arr_begin(key);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char proto[20], name[300];
		int qtype, dup = 0;
		if (sscanf(line, "%19s %d %299s", proto, &qtype, name) != 3) continue;
		if (strncmp(proto, "tcp", 3) == 0) *tcp_seen = 1;
		if (strcmp(proto, "tcp-connect") == 0) continue;
		for (i = 0; i < nn; i++) if (strcmp(names[i], name) == 0) dup = 1;
		if (!dup && nn < MAXLOG) { snprintf(names[nn], sizeof names[nn], "%s", name); nn++; j_arr_str(name); }
	}
	j_arr_end();
	snprintf(copy, sizeof copy, "%s", logbuf + from);
	snprintf(key, sizeof key, "%s_log", prefix);
	j_arr_begin(key);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) j_arr_str(line);
	j_arr_end();
}

static void gai_result(const char *prefix, const char *name, int family)
{
	struct addrinfo hints, *res = NULL, *ai;
	char key[64], a[INET6_ADDRSTRLEN];
	int rc, n = 0;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(name, NULL, &hints, &res);
	snprintf(key, sizeof key, "%s_result", prefix);
	j_str(key, rc == 0 ? "ok" : gai_strerror(rc));
	snprintf(key, sizeof key, "%s_addresses", prefix);
	j_arr_begin(key);
	for (ai = res; ai && n < 16; ai = ai->ai_next, n++) { addr_text(ai, a, sizeof a); j_arr_str(a); }
	j_arr_end();
	if (res) freeaddrinfo(res);
}

int main(void)
{
	struct addrinfo hints, *res = NULL, *ai;
	char a[INET6_ADDRSTRLEN], line[512], ns[64] = "", search[256] = "", options[256] = "";
	char hname[256] = "", haddr[64] = "";
	FILE *f;
	int rc, n, udp = -1, tcp = -1, logp[2] = { -1, -1 }, tcp_seen;
	pid_t server = -1;
	const char *dns_state = "running";

	safety_net(25);
	j_begin();

	/* 1. getaddrinfo("localhost"), AF_UNSPEC/SOCK_STREAM */
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo("localhost", NULL, &hints, &res);
	j_str("localhost_result", rc == 0 ? "ok" : gai_strerror(rc));
	n = 0;
	for (ai = res; ai; ai = ai->ai_next) n++;
	j_int("localhost_count", n);
	j_arr_begin("localhost_families");
	for (ai = res, n = 0; ai && n < 16; ai = ai->ai_next, n++) j_arr_str(fam_name(ai->ai_family));
	j_arr_end();
	j_arr_begin("localhost_addresses");
	for (ai = res, n = 0; ai && n < 16; ai = ai->ai_next, n++) { addr_text(ai, a, sizeof a); j_arr_str(a); }
	j_arr_end();
	if (res) freeaddrinfo(res);
	res = NULL;

	/* 2. numeric host, NULL hints: glibc adds a SOCK_RAW entry */
	rc = getaddrinfo("127.0.0.1", NULL, NULL, &res);
	n = 0;
	for (ai = res; ai; ai = ai->ai_next) n++;
	j_int("numeric_null_hints_count", rc == 0 ? n : -1);
	j_arr_begin("numeric_null_hints_socktypes");
	for (ai = res, n = 0; ai && n < 16; ai = ai->ai_next, n++) j_arr_str(sock_name(ai->ai_socktype));
	j_arr_end();
	if (res) freeaddrinfo(res);
	res = NULL;

	/* 3. a name from /etc/hosts other than "localhost" (a loopback line preferred) */
	if ((f = fopen("/etc/hosts", "r"))) {
		int lines = 0;
		while (lines++ < 200 && fgets(line, sizeof line, f)) {
			char ad[64], nm[256] = "", *h = strchr(line, '#'), *tok, *save = NULL;
			int loop, k = 0;
			if (h) *h = 0;
			/* first name on the line that is not "localhost" */
			for (tok = strtok_r(line, " \t\r\n", &save); tok && k < 32; tok = strtok_r(NULL, " \t\r\n", &save), k++) {
				if (k == 0) snprintf(ad, sizeof ad, "%.63s", tok);
				else if (strcmp(tok, "localhost") != 0) { snprintf(nm, sizeof nm, "%s", tok); break; }
			}
			if (!nm[0]) continue;
			loop = strncmp(ad, "127.", 4) == 0 || strcmp(ad, "::1") == 0;
			if (!hname[0] || loop) {
				snprintf(hname, sizeof hname, "%s", nm);
				snprintf(haddr, sizeof haddr, "%s", ad);
			}
			if (loop) break;
		}
		fclose(f);
	}
	j_bool("etc_hosts_readable", access("/etc/hosts", R_OK) == 0);
	if (hname[0]) {
		int found = 0, fam = strchr(haddr, ':') ? AF_INET6 : AF_INET;
		unsigned char want[16], got[16];
		size_t alen = fam == AF_INET ? 4 : 16;
		j_str("hosts_name", hname);
		j_str("hosts_expected", haddr);
		if (inet_pton(fam, haddr, want) != 1) memset(want, 0xff, sizeof want);
		rc = getaddrinfo(hname, NULL, &hints, &res);
		for (ai = res; rc == 0 && ai; ai = ai->ai_next) {
			if (ai->ai_family != fam) continue;
			if (fam == AF_INET) memcpy(got, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
			else memcpy(got, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
			if (memcmp(got, want, alen) == 0) found = 1;
		}
		if (res) freeaddrinfo(res);
		res = NULL;
		j_str("hosts_result", rc == 0 ? "ok" : gai_strerror(rc));
		j_bool("hosts_lookup_ok", found);
	} else {
		j_null("hosts_name");
		j_null("hosts_lookup_ok");
	}

	/* 4. resolv.conf */
	if ((f = fopen("/etc/resolv.conf", "r"))) {
		int lines = 0;
		while (lines++ < 200 && fgets(line, sizeof line, f)) {
			char w[32], v[256];
			if (sscanf(line, "%31s %255[^\n]", w, v) != 2) continue;
			if (!strcmp(w, "nameserver") && !ns[0]) snprintf(ns, sizeof ns, "%.63s", v);
			if (!strcmp(w, "search") || !strcmp(w, "domain")) snprintf(search, sizeof search, "%s", v);
			if (!strcmp(w, "options")) snprintf(options, sizeof options, "%s", v);
		}
		fclose(f);
	}
	j_str("resolv_nameserver", ns[0] ? ns : NULL);
	j_str("resolv_search", search[0] ? search : NULL);
	j_str("resolv_options", options[0] ? options : NULL);

	/* 5. the fake DNS server */
	if (strcmp(ns, "127.0.0.1") != 0) {
		dns_state = "skipped";
		j_str("dns_skip_reason", "first nameserver in /etc/resolv.conf is not 127.0.0.1");
	} else {
		struct sockaddr_in sa;
		int one = 1;
		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_port = htons(53);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		udp = socket(AF_INET, SOCK_DGRAM, 0);
		if (udp < 0 || bind(udp, (struct sockaddr *)&sa, sizeof sa) != 0) {
			int e = errno;
			dns_state = "unavailable";
			j_int("dns_bind_errno", e);
			j_str("dns_bind_error", strerror(e));
			if (udp >= 0) close(udp);
			udp = -1;
		} else {
			tcp = socket(AF_INET, SOCK_STREAM, 0);
			if (tcp >= 0) setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
			if (tcp >= 0 && (bind(tcp, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(tcp, 4) != 0)) {
				close(tcp);
				tcp = -1;
			}
			j_bool("dns_tcp_listening", tcp >= 0);
			if (pipe(logp) != 0) j_fail("pipe failed");
			server = fork();
			if (server < 0) j_fail("fork failed");
			if (server == 0) {
				child_defaults();
				close(logp[0]);
				serve(udp, tcp, logp[1]);
			}
			close(logp[1]);
			close(udp);
			if (tcp >= 0) close(tcp);
		}
	}
	j_str("dns_server", dns_state);

	if (server > 0) {
		size_t mark;
		drain_log(logp[0]);
		j_int("queries_before_tests", (long long)loglen);

		/* search/ndots: "a.b" has 1 dot, ndots:1 */
		mark = loglen;
		gai_result("ndots", "a.b", AF_INET);
		drain_log(logp[0]);
		emit_queries("ndots", mark, &tcp_seen);
		j_str("ndots_status", "observed");

		/* TCP fallback: UDP answer has TC=1, TCP answer has 192.0.2.1 */
		mark = loglen;
		gai_result("tc", "tc.test", AF_INET);
		drain_log(logp[0]);
		emit_queries("tc", mark, &tcp_seen);
		j_bool("tc_tcp_connection", tcp_seen);
		j_str("tc_status", tcp >= 0 ? "observed" : "no tcp listener");

		kill(server, SIGKILL);
		while (waitpid(server, NULL, 0) < 0 && errno == EINTR) {}
		close(logp[0]);
	} else {
		static const char *absent[] = { "ndots_result", "ndots_addresses", "ndots_queries", "ndots_log",
			"tc_result", "tc_addresses", "tc_queries", "tc_log", "tc_tcp_connection" };
		size_t i;
		for (i = 0; i < sizeof absent / sizeof absent[0]; i++) j_null(absent[i]);
		j_str("ndots_status", "skipped");
		j_str("tc_status", "skipped");
	}
	j_finish();
	return 0;
}
