/* muslcheck probe "time": time zone handling with TZ=Europe/Berlin and an
 * unknown zone name, and whether tzdata (/usr/share/zoneinfo) is installed.
 * Build: cc -O1 -Wall -I../common probe.c -o time */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROBE_ID "time"
#include "probe.h"

#define WINTER 1700000000L   /* 2023-11-14 22:13:20 UTC */
#define SUMMER 1690000000L   /* 2023-07-22 04:26:40 UTC */

static void zone(const char *prefix, const char *tz)
{
	char key[64];
	struct tm tm;
	time_t t;
	if (tz) setenv("TZ", tz, 1); else unsetenv("TZ");
	tzset();
	snprintf(key, sizeof key, "%s_tzname", prefix);
	j_arr_begin(key);
	j_arr_str(tzname[0]);
	j_arr_str(tzname[1]);
	j_arr_end();
	t = WINTER;
	memset(&tm, 0, sizeof tm);
	if (localtime_r(&t, &tm)) {
		snprintf(key, sizeof key, "%s_winter_zone", prefix); j_str(key, tm.tm_zone);
		snprintf(key, sizeof key, "%s_winter_gmtoff", prefix); j_int(key, tm.tm_gmtoff);
	}
	t = SUMMER;
	memset(&tm, 0, sizeof tm);
	if (localtime_r(&t, &tm)) {
		snprintf(key, sizeof key, "%s_summer_zone", prefix); j_str(key, tm.tm_zone);
		snprintf(key, sizeof key, "%s_summer_gmtoff", prefix); j_int(key, tm.tm_gmtoff);
	}
}

static int is_dir(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISDIR(st.st_mode); }

int main(void)
{
	struct stat st;

	safety_net(10);
	j_begin();
	j_bool("zoneinfo_dir", is_dir("/usr/share/zoneinfo"));
	j_bool("zoneinfo_berlin", stat("/usr/share/zoneinfo/Europe/Berlin", &st) == 0);
	j_bool("etc_localtime", stat("/etc/localtime", &st) == 0);
	zone("berlin", "Europe/Berlin");
	zone("bogus", "Bogus/Zone");
	zone("posix_rule", "CET-1CEST,M3.5.0,M10.5.0/3");   /* needs no tzdata */
	zone("unset", NULL);
	j_finish();
	return 0;
}
