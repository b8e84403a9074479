/*
 * floor: the least a process-per-message Maildir delivery agent can do, used by
 * bench/delivery.sh as the physical limit of this machine. It reads the message from stdin,
 * creates tmp/<unique> with O_EXCL, writes it, fsyncs it and renames it into new/. No parsing,
 * no database, no log, and no fsync of new/ (procmail and maildrop skip that too). With -d it
 * also fsyncs new/ after the rename, as dovecot-lda does (fdatasync) and as rebound-lda must
 * (DESIGN.md: the message is durable before exit 0): the limit of a delivery that survives a
 * power cut. Exit 0 or 75.
 *
 * Usage: floor [-d] MAILDIR < message
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static int fail(const char *what)
{
    fprintf(stderr, "4.3.0 floor: %s: %s\n", what, strerror(errno));
    return 75;
}

int main(int argc, char **argv)
{
    int dirsync = argc == 3 && strcmp(argv[1], "-d") == 0;
    if (dirsync) {
        argv++;
        argc--;
    }
    if (argc != 2) {
        fprintf(stderr, "4.3.5 usage: floor [-d] MAILDIR < message\n");
        return 75;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    char name[512], tmp[4096], dst[4096];
    snprintf(name, sizeof name, "%lld.M%06ldP%d.%s", (long long)tv.tv_sec, (long)tv.tv_usec,
             (int)getpid(), host);
    snprintf(tmp, sizeof tmp, "%s/tmp/%s", argv[1], name);
    snprintf(dst, sizeof dst, "%s/new/%s", argv[1], name);

    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(tmp);
    static char buf[1 << 16];
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            unlink(tmp);
            return fail("stdin");
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                unlink(tmp);
                return fail(tmp);
            }
            off += w;
        }
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return fail(tmp);
    }
    if (rename(tmp, dst) != 0) {
        unlink(tmp);
        return fail(dst);
    }
    if (dirsync) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/new", argv[1]);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) != 0)
            return fail(dir); /* filed, but not known durable: the MTA retries */
        close(dfd);
    }
    return 0;
}
