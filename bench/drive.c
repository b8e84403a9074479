/*
 * drive: runs one delivery agent once per message, as an MTA does, and measures it. Used by
 * bench/delivery.sh so that every agent is started the same way (posix_spawn, message file
 * on stdin, stdout to /dev/null, stderr appended to a log) and timed by the same clock.
 * With -j P it keeps P deliveries running at once (a sender's bounce storm); each per-message
 * time runs from spawn to reaping the child. Peak RSS comes from wait4()'s rusage.
 *
 * Usage: drive -j P -l LIST [-e ERRLOG] [-t TIMES] -- COMMAND [ARG...]
 * Appends each per-message time (ms) to TIMES, one a line, and prints one line:
 * n ok fail wall_s peak_rss_kb
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct slot {
    pid_t pid;
    double start;
};

int main(int argc, char **argv)
{
    int jobs = 1;
    const char *list = NULL, *errlog = "/dev/null", *timesfile = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "+j:l:e:t:")) != -1) {
        switch (opt) {
        case 'j': jobs = atoi(optarg); break;
        case 'l': list = optarg; break;
        case 'e': errlog = optarg; break;
        case 't': timesfile = optarg; break;
        default: return 2;
        }
    }
    if (!list || optind >= argc || jobs < 1) {
        fprintf(stderr, "usage: drive -j P -l LIST [-e ERRLOG] [-t TIMES] -- COMMAND [ARG...]\n");
        return 2;
    }
    char **cmd = argv + optind;

    FILE *lf = fopen(list, "r");
    if (!lf) {
        perror(list);
        return 2;
    }
    size_t cap = 1024, n = 0;
    char **paths = malloc(cap * sizeof *paths);
    char line[8192];
    while (fgets(line, sizeof line, lf)) {
        line[strcspn(line, "\n")] = 0;
        if (!*line)
            continue;
        if (n == cap)
            paths = realloc(paths, (cap *= 2) * sizeof *paths);
        paths[n++] = strdup(line);
    }
    fclose(lf);

    double *times = calloc(n ? n : 1, sizeof *times);
    struct slot *slots = calloc((size_t)jobs, sizeof *slots);
    size_t next = 0, done = 0, ok = 0, failed = 0;
    long peak = 0;
    int running = 0;
    double t0 = now();
    while (done < n) {
        while (running < jobs && next < n) {
            posix_spawn_file_actions_t fa;
            posix_spawn_file_actions_init(&fa);
            posix_spawn_file_actions_addopen(&fa, 0, paths[next], O_RDONLY, 0);
            posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
            posix_spawn_file_actions_addopen(&fa, 2, errlog, O_WRONLY | O_APPEND | O_CREAT, 0600);
            int s;
            for (s = 0; s < jobs && slots[s].pid; s++)
                ;
            slots[s].start = now();
            int rc = posix_spawnp(&slots[s].pid, cmd[0], &fa, NULL, cmd, environ);
            posix_spawn_file_actions_destroy(&fa);
            if (rc != 0) {
                fprintf(stderr, "drive: %s: %s\n", cmd[0], strerror(rc));
                return 2;
            }
            running++;
            next++;
        }
        int status;
        struct rusage ru;
        pid_t pid = wait4(-1, &status, 0, &ru);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            perror("wait4");
            return 2;
        }
        double end = now();
        for (int s = 0; s < jobs; s++) {
            if (slots[s].pid == pid) {
                times[done++] = (end - slots[s].start) * 1000.0;
                slots[s].pid = 0;
                running--;
                break;
            }
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            ok++;
        else
            failed++;
        if (ru.ru_maxrss > peak)
            peak = ru.ru_maxrss;
    }
    double wall = now() - t0;
    if (timesfile) {
        FILE *tf = fopen(timesfile, "a");
        if (!tf) {
            perror(timesfile);
            return 2;
        }
        for (size_t i = 0; i < n; i++)
            fprintf(tf, "%.4f\n", times[i]);
        fclose(tf);
    }
    printf("%zu %zu %zu %.4f %ld\n", n, ok, failed, wall, peak);
    return 0;
}
