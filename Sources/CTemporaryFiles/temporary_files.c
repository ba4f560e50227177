#include "temporary_files.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// A command has a handful of temporary files at once (an output, a spool); 256 is far more than any needs.
#define SLOT_COUNT 256

static _Atomic(char *) slots[SLOT_COUNT];
// Serializes add, remove and list among threads, so list never reads a path that remove frees. The signal handler
// does not take it: it only exchanges pointers out of the table and never frees them.
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

int qwenkit_temporary_files_add(const char *path) {
    char *copy = strdup(path);
    if (copy == NULL) return -1;
    pthread_mutex_lock(&table_lock);
    for (int i = 0; i < SLOT_COUNT; i++) {
        char *expected = NULL;
        if (atomic_compare_exchange_strong(&slots[i], &expected, copy)) {
            pthread_mutex_unlock(&table_lock);
            return i;
        }
    }
    pthread_mutex_unlock(&table_lock);
    free(copy);
    return -1;
}

void qwenkit_temporary_files_remove(int slot) {
    if (slot < 0 || slot >= SLOT_COUNT) return;
    pthread_mutex_lock(&table_lock);
    free(atomic_exchange(&slots[slot], NULL));
    pthread_mutex_unlock(&table_lock);
}

void qwenkit_temporary_files_unlink_all(void) {
    for (int i = 0; i < SLOT_COUNT; i++) {
        // Not freed: free() is not async-signal-safe, and the process is about to end anyway.
        char *path = atomic_exchange(&slots[i], NULL);
        if (path != NULL) unlink(path);
    }
}

int qwenkit_temporary_files_list(char *buffer, int capacity) {
    pthread_mutex_lock(&table_lock);
    int used = 0;
    for (int i = 0; i < SLOT_COUNT; i++) {
        char *path = atomic_load(&slots[i]);
        if (path == NULL) continue;
        int length = (int)strlen(path) + 1;
        if (used + length <= capacity) memcpy(buffer + used, path, (size_t)length);
        used += length;
    }
    pthread_mutex_unlock(&table_lock);
    return used;
}

static void on_signal(int signal_number) {
    qwenkit_temporary_files_unlink_all();
    _exit(128 + signal_number);
}

void qwenkit_temporary_files_install_signal_handlers(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    // Block the other two while one runs, so two signals in quick succession do not interleave.
    sigaddset(&action.sa_mask, SIGINT);
    sigaddset(&action.sa_mask, SIGTERM);
    sigaddset(&action.sa_mask, SIGHUP);
    const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    sigset_t handled;
    sigemptyset(&handled);
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction previous;
        // A signal ignored when we were started (nohup, a background job without job control) stays ignored.
        if (sigaction(signals[i], NULL, &previous) == 0 && previous.sa_handler == SIG_IGN) continue;
        sigaction(signals[i], &action, NULL);
        sigaddset(&handled, signals[i]);
    }
    // A parent may start us with signals blocked (some process launchers pass on the mask of the thread that
    // spawned them); a handled signal that stays blocked would never arrive, and the process could not be stopped.
    pthread_sigmask(SIG_UNBLOCK, &handled, NULL);
}

static atomic_int interrupt_requested;
static struct sigaction interrupt_previous;
static int interrupt_installed;

static void on_interrupt(int signal_number) {
    (void)signal_number;
    atomic_store(&interrupt_requested, 1);
}

void qwenkit_interrupt_catch_begin(void) {
    atomic_store(&interrupt_requested, 0);
    struct sigaction previous;
    if (interrupt_installed || sigaction(SIGINT, NULL, &previous) != 0 || previous.sa_handler == SIG_IGN) return;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    // Interrupted writes to the terminal and reads resume instead of failing with EINTR.
    action.sa_flags = SA_RESTART;
    if (sigaction(SIGINT, &action, &interrupt_previous) == 0) interrupt_installed = 1;
}

void qwenkit_interrupt_catch_end(void) {
    if (!interrupt_installed) return;
    sigaction(SIGINT, &interrupt_previous, NULL);
    interrupt_installed = 0;
}

int qwenkit_interrupt_requested(void) {
    return atomic_load(&interrupt_requested);
}
