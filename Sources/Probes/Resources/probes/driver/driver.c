/* muslcheck's probe driver: runs a list of jobs inside one container and prints one JSON line
 * per job. Built static with musl-gcc, so it runs in any image (musl or glibc, no shell needed).
 *
 * Usage: driver JOBFILE
 *
 * JOBFILE, one record per job; values escape "\\" as "\\\\" and newline as "\\n":
 *   JOB <id>
 *   TIMEOUT <milliseconds>
 *   CAP <bytes kept of stdout and of stderr>
 *   KILLAT <bytes of output after which the job is killed>
 *   CWD <directory>              (optional, default /tmp)
 *   ENV <NAME=value>             (any number; added to PATH=/usr/sbin:/usr/bin:/sbin:/bin)
 *   ARG <argument>               (argv, at least one)
 *   END
 *
 * argv[0] "@read" prints the file named by argv[1] (so no cat is needed in the image).
 *
 * Each job runs in its own process group with stdin from /dev/null; on its timeout, or when it
 * writes more than KILLAT bytes, the whole group gets SIGKILL. Output line per job:
 *   {"job":"id","status":"exited|signaled|timeout|output-limit|exec-failed","code":N,"signal":N,
 *    "errno":N,"ms":N,"stdout":"...","stderr":"...","stdoutBytes":N,"stderrBytes":N}
 * A last line {"driver":"done","jobs":N} marks a complete run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 256
#define MAX_ENV 64

struct job {
    char *id;
    long timeout_ms;
    size_t cap;
    size_t kill_at;
    char *cwd;
    char *argv[MAX_ARGS + 1];
    int argc;
    char *envp[MAX_ENV + 2];
    int envc;
};

static void die(const char *msg)
{
    fprintf(stderr, "driver: %s\n", msg);
    printf("{\"driver\":\"error\",\"message\":\"%s\"}\n", msg);
    exit(2);
}

/* Undoes the job file's escaping in place. */
static char *unescape(char *s)
{
    char *r = s, *w = s;
    while (*r) {
        if (r[0] == '\\' && r[1] == 'n') { *w++ = '\n'; r += 2; }
        else if (r[0] == '\\' && r[1] == '\\') { *w++ = '\\'; r += 2; }
        else *w++ = *r++;
    }
    *w = 0;
    return s;
}

static void json_string(FILE *f, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') { fputc('\\', f); fputc(c, f); }
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f || c >= 0x80) {
            /* Bytes >= 0x80 are written as \u00XX (their Latin-1 reading): always valid JSON. */
            fputs("\\u00", f); fputc(hex[c >> 4], f); fputc(hex[c & 15], f);
        } else fputc(c, f);
    }
    fputc('"', f);
}

/* The job being run: the orphan reaper may collect it, so it records its status here. */
static pid_t job_pid;
static int job_status, job_reaped;

/* As PID 1 of the container the driver inherits orphans (a fork bomb's children): reap them,
 * since zombies count against the pids limit. */
static void reap_orphans(void)
{
    int status;
    pid_t w;
    while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
        if (w == job_pid) { job_status = status; job_reaped = 1; }
    }
}

/* SIGKILL to the job's process group until nothing is left of it (processes forked while the
 * first kill was delivered would escape it). */
static void kill_group(pid_t pgid)
{
    for (int i = 0; i < 200; i++) {
        if (kill(-pgid, SIGKILL) != 0 && errno == ESRCH) return;
        reap_orphans();
        usleep(5000);
    }
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

struct capture {
    char *buf;
    size_t kept;
    size_t total;
};

static void take(struct capture *c, const char *data, size_t n, size_t cap)
{
    c->total += n;
    if (c->kept < cap) {
        size_t room = cap - c->kept;
        size_t k = n < room ? n : room;
        memcpy(c->buf + c->kept, data, k);
        c->kept += k;
    }
}

static void run(struct job *j)
{
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) die("pipe failed");
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC)) die("pipe failed");
    long start = now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        printf("{\"job\":");
        json_string(stdout, j->id, strlen(j->id));
        printf(",\"status\":\"exec-failed\",\"errno\":%d,\"ms\":0,\"stdout\":\"\",\"stderr\":\"fork failed\",\"stdoutBytes\":0,\"stderrBytes\":0}\n", errno);
        fflush(stdout);
        close(out[0]); close(out[1]); close(err[0]); close(err[1]); close(errpipe[0]); close(errpipe[1]);
        return;
    }
    if (pid == 0) {
        setpgid(0, 0);
        for (int s = 1; s < 32; s++) signal(s, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        if (chdir(j->cwd ? j->cwd : "/tmp") != 0 && chdir("/") != 0) { /* best effort */ }
        if (!strcmp(j->argv[0], "@read") && j->argv[1]) {
            int fd = open(j->argv[1], O_RDONLY);
            if (fd < 0) { perror(j->argv[1]); _exit(1); }
            char b[8192];
            ssize_t k;
            while ((k = read(fd, b, sizeof b)) > 0) if (write(1, b, (size_t)k) < 0) break;
            _exit(0);
        }
        execvpe(j->argv[0], j->argv, j->envp);
        int e = errno;
        if (write(errpipe[1], &e, sizeof e) < 0) { /* parent reads nothing: treated as exited */ }
        _exit(127);
    }
    setpgid(pid, pid);
    job_pid = pid;
    job_reaped = 0;
    close(out[1]); close(err[1]); close(errpipe[1]);

    struct capture co = { malloc(j->cap + 1), 0, 0 }, ce = { malloc(j->cap + 1), 0, 0 };
    if (!co.buf || !ce.buf) die("out of memory");
    struct pollfd fds[2] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 } };
    int open_fds = 2, status = 0, reaped = 0;
    const char *verdict = NULL;
    char chunk[65536];
    while (open_fds > 0 || !reaped) {
        long left = j->timeout_ms - (now_ms() - start);
        if (left <= 0 && !verdict) {
            verdict = "timeout";
            kill(pid, SIGKILL);
            kill_group(pid);
        }
        if (open_fds > 0) {
            int r = poll(fds, 2, verdict ? 200 : (int)(left < 200 ? (left > 0 ? left : 1) : 200));
            if (r < 0 && errno != EINTR) break;
            for (int i = 0; i < 2; i++) {
                if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
                if (n <= 0) { close(fds[i].fd); fds[i].fd = -1; open_fds--; continue; }
                take(i == 0 ? &co : &ce, chunk, (size_t)n, j->cap);
                if (!verdict && co.total + ce.total > j->kill_at) {
                    verdict = "output-limit";
                    kill(pid, SIGKILL);
                    kill_group(pid);
                }
            }
        } else {
            usleep(5000);
        }
        if (!reaped) {
            pid_t w = job_reaped ? pid : waitpid(pid, &status, WNOHANG);
            if (job_reaped) status = job_status;
            if (w == pid) {
                reaped = 1;
                /* Grandchildren that kept the pipes open die with the group. */
                kill_group(pid);
            }
        }
        if (verdict && now_ms() - start > j->timeout_ms + 2000) break;  /* pipes held by an escaped process */
    }
    if (!reaped) {
        kill_group(pid);
        if (job_reaped) status = job_status;
        else if (waitpid(pid, &status, 0) != pid && job_reaped) status = job_status;
    }
    job_pid = 0;
    reap_orphans();
    for (int i = 0; i < 2; i++) if (fds[i].fd >= 0) close(fds[i].fd);
    long ms = now_ms() - start;
    int exec_errno = 0;
    if (read(errpipe[0], &exec_errno, sizeof exec_errno) != sizeof exec_errno) exec_errno = 0;
    close(errpipe[0]);

    printf("{\"job\":");
    json_string(stdout, j->id, strlen(j->id));
    if (exec_errno) printf(",\"status\":\"exec-failed\",\"errno\":%d", exec_errno);
    else if (verdict) printf(",\"status\":\"%s\"", verdict);
    else if (WIFEXITED(status)) printf(",\"status\":\"exited\",\"code\":%d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) printf(",\"status\":\"signaled\",\"signal\":%d", WTERMSIG(status));
    else printf(",\"status\":\"exited\",\"code\":-1");
    printf(",\"ms\":%ld,\"stdout\":", ms);
    json_string(stdout, co.buf, co.kept);
    printf(",\"stderr\":");
    json_string(stdout, ce.buf, ce.kept);
    printf(",\"stdoutBytes\":%zu,\"stderrBytes\":%zu}\n", co.total, ce.total);
    fflush(stdout);
    free(co.buf);
    free(ce.buf);
}

int main(int argc, char **argv)
{
    if (argc != 2) die("usage: driver JOBFILE");
    FILE *f = fopen(argv[1], "r");
    if (!f) die("cannot open the job file");
    signal(SIGPIPE, SIG_IGN);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    struct job j;
    memset(&j, 0, sizeof j);
    int jobs = 0, in_job = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        if (n > 0 && line[n - 1] == '\n') line[--n] = 0;
        char *value = strchr(line, ' ');
        if (value) *value++ = 0; else value = line + n;
        if (!strcmp(line, "JOB")) {
            memset(&j, 0, sizeof j);
            j.id = strdup(unescape(value));
            j.timeout_ms = 10000;
            j.cap = 65536;
            j.kill_at = 16 << 20;
            j.envp[j.envc++] = strdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
            in_job = 1;
        } else if (!in_job) {
            continue;
        } else if (!strcmp(line, "TIMEOUT")) j.timeout_ms = atol(value);
        else if (!strcmp(line, "CAP")) j.cap = (size_t)atol(value);
        else if (!strcmp(line, "KILLAT")) j.kill_at = (size_t)atol(value);
        else if (!strcmp(line, "CWD")) j.cwd = strdup(unescape(value));
        else if (!strcmp(line, "ENV")) { if (j.envc < MAX_ENV) j.envp[j.envc++] = strdup(unescape(value)); }
        else if (!strcmp(line, "ARG")) { if (j.argc < MAX_ARGS) j.argv[j.argc++] = strdup(unescape(value)); }
        else if (!strcmp(line, "END")) {
            j.argv[j.argc] = NULL;
            j.envp[j.envc] = NULL;
            if (j.argc > 0) run(&j);
            jobs++;
            in_job = 0;
        }
    }
    printf("{\"driver\":\"done\",\"jobs\":%d}\n", jobs);
    fflush(stdout);
    return 0;
}
