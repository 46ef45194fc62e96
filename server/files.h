/*
 * files.h - PUT/GET /v1/sandboxes/{id}/files?path=P.
 */
#ifndef DESKBOX_FILES_H
#define DESKBOX_FILES_H

#include "op.h"
#include "sandbox.h"

/* The operation rows files.read and files.write (op.c's table). */
extern const struct op op_files_rows[];

#endif
