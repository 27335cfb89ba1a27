/* File helpers: capped reads, atomic writes, hashing. */
#ifndef RH_FSUTIL_H
#define RH_FSUTIL_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "error.h"

/* Read a regular file of at most max bytes into a NUL-terminated buffer. A larger file, or a
 * non-regular one, is an error (hostile input must not make us read forever). */
int rh_read_file_capped (const char *path, size_t max, char **out, size_t *len, rh_error *err);

/* Read at most max bytes from fd until EOF; more than max is an error. */
int rh_read_fd_capped (int fd, size_t max, char **out, size_t *len, rh_error *err);

/* write() all of buf, retrying short writes and EINTR. Returns 0, or -1 with errno set. */
int rh_write_all (int fd, const void *buf, size_t len);

/* Replace path atomically: write a temp file in the same directory, fsync it, rename it over
 * path, fsync the directory. On any failure path is untouched and the temp file is removed. */
int rh_write_file_atomic (const char *path, const void *data, size_t len, mode_t mode, rh_error *err);

/* The same inside an open directory: name (one component) is replaced through dirfd, so a
 * directory renamed or a symlink planted on the way to it after dirfd was opened changes nothing.
 * The temp file is made with O_EXCL | O_NOFOLLOW and the given mode. */
int rh_write_file_atomic_at (int dirfd, const char *name, const void *data, size_t len, mode_t mode, rh_error *err);

/* Remove the temp files that rh_write_file_atomic_at leaves beside name when the process is
 * killed between creating and renaming one (".<name>.rh-XXXXXXXXXXXX"). Best effort. */
void rh_sweep_atomic_temps_at (int dirfd, const char *name);

/* Read name (one component) in dirfd: a regular file (never followed if a symlink) of at most max
 * bytes. st (may be NULL) gets its fstat. */
int rh_read_file_at_capped (int dirfd, const char *name, size_t max, char **out, size_t *len, struct stat *st,
                            rh_error *err);

/* Lowercase hex SHA-256 (65 bytes incl. NUL) of data, via OpenSSL (low-level SHA256_*). */
void rh_sha256_hex (const void *data, size_t len, char out[65]);

/* mkdir -p with mode; existing directories are fine. */
int rh_mkdir_p (const char *path, mode_t mode, rh_error *err);

#endif
