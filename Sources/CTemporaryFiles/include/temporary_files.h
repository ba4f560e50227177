#ifndef QWENKIT_TEMPORARY_FILES_H
#define QWENKIT_TEMPORARY_FILES_H

// The process-wide list of temporary files to remove when the process is interrupted. The removal runs inside a
// signal handler, where only async-signal-safe calls are allowed (unlink, _exit) and Swift code is not: this is why
// it is C. Each slot holds a path owned by whoever takes it out with an atomic exchange, so a registration that is
// withdrawn while a handler runs on another thread is neither freed twice nor read after being freed.

// Adds `path` (copied). Returns the slot to pass to qwenkit_temporary_files_remove, or -1 when the table is full or
// memory ran out (the file is then simply not removed on an interrupt).
int qwenkit_temporary_files_add(const char *path);

// Withdraws a registration (the file was renamed into place or removed by its owner). -1 is ignored.
void qwenkit_temporary_files_remove(int slot);

// Unlinks every registered file and empties the table. Async-signal-safe.
void qwenkit_temporary_files_unlink_all(void);

// The paths currently registered, for tests: copies them, each ending in a NUL byte, into `buffer` while they fit in
// `capacity` bytes. Returns the bytes all of them need (larger than `capacity`: call again with more room).
int qwenkit_temporary_files_list(char *buffer, int capacity);

// Installs handlers for SIGINT, SIGTERM and SIGHUP that unlink every registered file and end the process with
// status 128 + the signal number (130, 143, 129), as a shell reports a command ended by that signal.
void qwenkit_temporary_files_install_signal_handlers(void);

// SIGINT as a request rather than an end (chat: Ctrl-C stops the reply being generated, not the program). Between
// begin and end, SIGINT only sets a flag the program polls; end restores the handler that was there (the one above,
// which exits). A SIGINT that was ignored stays ignored. Here beside the other handler because it is C for the same
// reason: the handler only stores to an atomic flag, which is async-signal-safe.
void qwenkit_interrupt_catch_begin(void);
void qwenkit_interrupt_catch_end(void);
// Nonzero once a SIGINT arrived since qwenkit_interrupt_catch_begin.
int qwenkit_interrupt_requested(void);

#endif
