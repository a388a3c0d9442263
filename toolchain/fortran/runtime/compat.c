/* Definitions for wheelforge-compat.h: see there, and docs/fortran.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "wheelforge-compat.h"

int mkstemp(char *template) {
  static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  size_t length = strlen(template);
  if (length < 6 || strcmp(template + length - 6, "XXXXXX") != 0) {
    errno = EINVAL;
    return -1;
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    unsigned char random[6];
    if (getentropy(random, sizeof random) != 0) {
      return -1;
    }
    for (int i = 0; i < 6; ++i) {
      template[length - 6 + i] = letters[random[i] % (sizeof letters - 1)];
    }
    int fd = open(template, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd >= 0 || errno != EEXIST) {
      return fd;
    }
  }
  errno = EEXIST;
  return -1;
}

uid_t getuid(void) { return 0; }
gid_t getgid(void) { return 0; }

int system(const char *command) {
  /* system(NULL) asks whether a shell exists: none. */
  if (command == NULL) {
    return 0;
  }
  errno = ENOSYS;
  return -1;
}

pid_t fork(void) {
  errno = ENOSYS;
  return -1;
}

pid_t setsid(void) {
  errno = ENOSYS;
  return -1;
}

pid_t waitpid(pid_t pid, int *status, int options) {
  (void)pid;
  (void)status;
  (void)options;
  errno = ECHILD;
  return -1;
}
