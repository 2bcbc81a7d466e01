#ifndef DLMSDUMP_CPCAP_SHIM_H
#define DLMSDUMP_CPCAP_SHIM_H
#include <pcap/pcap.h>
#include <signal.h>
#include <pthread.h>
#include <string.h>

// MARK: - Stop signals (live capture)
//
// SIGINT/SIGTERM must stop a live capture cleanly. A signal handler may only store to a `volatile sig_atomic_t`
// (C11 7.14.1.1 §5); Swift has no such type, so the handler and its flag live here. They are `static`: every
// Swift object file that calls these functions gets its own copy, so exactly one Swift file (DLMSCapture's
// SignalsStopFlag.swift) calls them.

static volatile sig_atomic_t dlmsdump_stop_signal_number = 0;

/// The first SIGINT/SIGTERM sets the flag; a second one restores the default action and re-raises it, so a
/// stuck process can still be interrupted (as tcpdump does). signal() and raise() are async-signal-safe (POSIX).
static inline void dlmsdump_stop_signal_handler(int sig) {
    if (dlmsdump_stop_signal_number != 0) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    dlmsdump_stop_signal_number = sig;
}

/// Installs the handler for SIGINT and SIGTERM without SA_RESTART (a blocking poll/read returns EINTR).
/// Returns 0, or -1 with errno set.
static inline int dlmsdump_install_stop_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = dlmsdump_stop_signal_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    if (sigaction(SIGINT, &sa, NULL) != 0) return -1;
    if (sigaction(SIGTERM, &sa, NULL) != 0) return -1;
    /* A parent may have started us with the signals blocked (the mask is inherited): unblock them, or the
       handlers would never run and the process could not be stopped. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (pthread_sigmask(SIG_UNBLOCK, &set, NULL) != 0) return -1;
    return 0;
}

/// The signal that asked to stop (SIGINT 2, SIGTERM 15), or 0.
static inline int dlmsdump_stop_signal(void) { return dlmsdump_stop_signal_number; }

/// Puts back the default action of SIGINT and SIGTERM (tests). Returns 0, or -1 with errno set.
static inline int dlmsdump_restore_default_stop_handlers(void) {
    if (signal(SIGINT, SIG_DFL) == SIG_ERR) return -1;
    if (signal(SIGTERM, SIG_DFL) == SIG_ERR) return -1;
    return 0;
}

/// Forgets a received signal (tests; a CLI never needs it).
static inline void dlmsdump_reset_stop_signal(void) { dlmsdump_stop_signal_number = 0; }

#endif
