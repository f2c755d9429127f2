/* ovnic-hostd: PCI Vital Product Data (the "vpd" file of a PCI device).
 *
 * VPD is a list of resources (PCI Local Bus 3.0, section 6.4): a large resource
 * "Identifier String" (tag 0x82, the product name), "VPD-R" (0x90, read-only
 * keywords such as PN, EC, SN, V0 and the checksum RV), "VPD-W" (0x91), and the
 * small resource "End" (0x78).  A keyword is two ASCII characters, a length byte,
 * and that many bytes of data.  The data comes from the device, so every length is
 * checked against the buffer. */
#ifndef OVNIC_HOST_VPD_H
#define OVNIC_HOST_VPD_H 1

#include <stddef.h>
#include <stdint.h>

/* VPD is at most 32 KiB (15-bit address). */
#define VPD_MAX_SIZE 32768

/** Finds keyword 'keyword' (two characters, for example "SN") in the VPD-R or VPD-W
 * resource of 'vpd' ('len' bytes) and copies its value into 'buf' ('size' bytes),
 * NUL terminated, with trailing spaces and NULs removed.  Returns the length of the
 * value (>= 0), -ENOENT if the keyword is absent, -EBADMSG if the resources are
 * malformed before it (a length beyond the buffer, no End tag), -EILSEQ if the value
 * holds a byte that is not printable ASCII, or -ENAMETOOLONG if it does not fit. */
int vpd_keyword_find(const uint8_t *vpd, size_t len, const char keyword[2], char *buf,
                     size_t size);

/** The Identifier String (the product name) of 'vpd', as vpd_keyword_find() returns
 * a value, with the same errors. */
int vpd_id_string(const uint8_t *vpd, size_t len, char *buf, size_t size);

#endif /* OVNIC_HOST_VPD_H */
