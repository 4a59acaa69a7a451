/* muslcheck probe "nss": user and group lookups.  musl reads only /etc/passwd
 * and /etc/group (plus nscd if running); /etc/nsswitch.conf is ignored.
 * Build: cc -O1 -Wall -I../common probe.c -o nss */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define PROBE_ID "nss"
#include "probe.h"

static const char *errno_name(int e)
{
	return e == 0 ? "none" : e == ENOENT ? "ENOENT" : e == ESRCH ? "ESRCH" : e == EBADF ? "EBADF" :
	       e == EPERM ? "EPERM" : e == ENOMEM ? "ENOMEM" : e == EIO ? "EIO" : "other";
}

static void user(const char *prefix, const char *name)
{
	char key[64];
	struct passwd *pw;
	errno = 0;
	pw = getpwnam(name);
	snprintf(key, sizeof key, "%s_found", prefix); j_bool(key, pw != NULL);
	if (pw) {
		snprintf(key, sizeof key, "%s_uid", prefix); j_int(key, (long long)pw->pw_uid);
		snprintf(key, sizeof key, "%s_home", prefix); j_str(key, pw->pw_dir);
		snprintf(key, sizeof key, "%s_shell", prefix); j_str(key, pw->pw_shell);
	} else {
		snprintf(key, sizeof key, "%s_errno", prefix); j_str(key, errno_name(errno));
	}
}

static void group(const char *prefix, const char *name)
{
	char key[64];
	struct group *gr;
	errno = 0;
	gr = getgrnam(name);
	snprintf(key, sizeof key, "%s_found", prefix); j_bool(key, gr != NULL);
	if (gr) { snprintf(key, sizeof key, "%s_gid", prefix); j_int(key, (long long)gr->gr_gid); }
	else { snprintf(key, sizeof key, "%s_errno", prefix); j_str(key, errno_name(errno)); }
}

int main(void)
{
	struct passwd *pw;
	struct group *gr;

	safety_net(10);
	j_begin();
	j_bool("nsswitch_conf", access("/etc/nsswitch.conf", F_OK) == 0);
	j_bool("etc_passwd", access("/etc/passwd", R_OK) == 0);
	j_bool("etc_group", access("/etc/group", R_OK) == 0);
	user("root", "root");
	user("nobody", "nobody");
	user("missing_user", "muslcheck-missing-user");
	group("root_group", "root");
	group("missing_group", "muslcheck-missing-group");

	j_int("uid", (long long)getuid());
	pw = getpwuid(getuid());
	j_str("uid_name", pw ? pw->pw_name : NULL);
	gr = getgrgid(getgid());
	j_int("gid", (long long)getgid());
	j_str("gid_name", gr ? gr->gr_name : NULL);
	pw = getpwuid(65534);
	j_str("uid_65534_name", pw ? pw->pw_name : NULL);
	j_finish();
	return 0;
}
