/*
 * A static probe run inside test containers (and from the host, against a container's root filesystem). Each
 * subcommand makes one attempt and prints "<what> ok" or "<what> errno=<N>", and exits 0 either way, so a test
 * reads what the kernel (or the seccomp filter) answered.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_ether.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif

static int report(const char *what, long result) {
    if (result < 0) {
        printf("%s errno=%d\n", what, errno);
    } else {
        printf("%s ok\n", what);
    }
    return 0;
}

/* clone with the given flags; a child that is made exits at once. */
static int try_clone(const char *what, unsigned long flags) {
    long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) {
        _exit(0);
    }
    if (pid > 0) {
        waitpid((pid_t) pid, NULL, 0);
    }
    return report(what, pid);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: probe euid|clone|clone-newuser|clone-newnet|clone3|unshare-user|io-uring|"
                "personality HEX|packet|uid\n");
        return 2;
    }
    const char *what = argv[1];
    if (strcmp(what, "euid") == 0) {
        printf("euid=%d\n", (int) geteuid());
        return 0;
    }
    if (strcmp(what, "clone") == 0) {
        return try_clone(what, 0);
    }
    if (strcmp(what, "clone-newuser") == 0) {
        return try_clone(what, CLONE_NEWUSER);
    }
    if (strcmp(what, "clone-newnet") == 0) {
        return try_clone(what, CLONE_NEWUSER | CLONE_NEWNET);
    }
    if (strcmp(what, "clone3") == 0) {
        uint64_t args[11];
        memset(args, 0, sizeof args);
        args[4] = SIGCHLD; /* exit_signal */
        long pid = syscall(SYS_clone3, args, sizeof args);
        if (pid == 0) {
            _exit(0);
        }
        if (pid > 0) {
            waitpid((pid_t) pid, NULL, 0);
        }
        return report(what, pid);
    }
    if (strcmp(what, "unshare-user") == 0) {
        return report(what, unshare(CLONE_NEWUSER));
    }
    if (strcmp(what, "io-uring") == 0) {
        unsigned char params[120];
        memset(params, 0, sizeof params);
        long fd = syscall(SYS_io_uring_setup, 4, params);
        return report(what, fd);
    }
    if (strcmp(what, "personality") == 0 && argc > 2) {
        unsigned long persona = strtoul(argv[2], NULL, 16);
        return report(what, syscall(SYS_personality, persona));
    }
    if (strcmp(what, "packet") == 0) {
        return report(what, socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
    }
    fprintf(stderr, "probe: unknown test '%s'\n", what);
    return 2;
}
