/*
 * phasecast/version.h - the library version, at compile time and run time.
 *
 * The wire protocol and the change-log format carry their own version
 * numbers (see docs/protocol.md); this one is the library's.
 */
#ifndef PHASECAST_VERSION_H
#define PHASECAST_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

#define PC_VERSION_MAJOR  0
#define PC_VERSION_MINOR  1
#define PC_VERSION_PATCH  0
#define PC_VERSION_STRING "0.1.0"

/* pc_version - PC_VERSION_STRING of the library actually linked. */
const char *pc_version(void);

#ifdef __cplusplus
}
#endif

#endif /* PHASECAST_VERSION_H */
