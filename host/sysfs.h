/* ovnic-hostd: reading and writing sysfs attributes.
 *
 * Every file operation of host/ on sysfs goes through these functions, so that unit
 * tests can replace them with the linker's --wrap and so that a simulated tree under
 * another root (--sysfs-root) behaves as /sys does.  Paths are absolute or relative
 * to the current directory; callers build them under their sysfs root. */
#ifndef OVNIC_HOST_SYSFS_H
#define OVNIC_HOST_SYSFS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest attribute text read by host_sysfs_read() (sysfs attributes are a page). */
#define HOST_SYSFS_ATTR_MAX 4096

/** Reads the text attribute 'path' into 'buf' ('size' bytes, at least 1), NUL
 * terminated, with one trailing newline removed.  Returns the length of the text
 * (>= 0), -ENOENT if there is no such file, -EFBIG if the text does not fit, or
 * another negative errno of open() or read(). */
int host_sysfs_read(const char *path, char *buf, size_t size);

/** Reads the binary attribute 'path' (for example "vpd") into 'buf', at most 'size'
 * bytes.  Returns the number of bytes read (>= 0) or a negative errno. */
int host_sysfs_read_bin(const char *path, uint8_t *buf, size_t size);

/** Reads the decimal or 0x-prefixed hexadecimal number in 'path' into '*value'.
 * Returns 0, -EINVAL if the text is not such a number, or the errors of
 * host_sysfs_read(); '*value' is untouched on failure. */
int host_sysfs_read_uint(const char *path, unsigned long *value);

/** Writes 'text' to 'path' in one write(), as "echo -n TEXT > PATH" does (O_TRUNC
 * included, for simulated trees of plain files); the
 * kernel's answer to the write (for example -EBUSY from sriov_numvfs) is the
 * result.  The file must exist (it is never created).  Returns 0 or a negative
 * errno. */
int host_sysfs_write(const char *path, const char *text);

/** The last component of the target of symbolic link 'path' into 'buf' (for example
 * "mlx5_core" for a device's "driver" link).  Returns 0, -ENOENT if there is no such
 * link, -EINVAL if 'path' is not a link, -ENAMETOOLONG if it does not fit. */
int host_sysfs_link_name(const char *path, char *buf, size_t size);

/** True if 'path' exists (any kind of file, links followed). */
bool host_sysfs_exists(const char *path);

/** Calls 'cb' with each entry name of directory 'path' but "." and "..", in
 * ascending strcmp() order, until 'cb' returns nonzero.  Returns 0, the nonzero
 * value of 'cb', -ENOENT if there is no such directory, -ENOMEM, or another negative
 * errno of opendir(). */
int host_sysfs_dir_foreach(const char *path, int (*cb)(const char *name, void *aux),
                           void *aux);

#endif /* OVNIC_HOST_SYSFS_H */
