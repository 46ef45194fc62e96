/*
 * desktopentry.h - freedesktop.org Desktop Entry files (.desktop), pure:
 * parse the [Desktop Entry] group of one file's bytes, turn its Exec line
 * into an argv (quoting and field codes as the specification says), and
 * guess the MIME type a target (URL or path) is opened as.
 *
 * The bytes come from the sandbox's file system, which the sandbox user
 * may write (~/.local/share/applications): they are untrusted. Every
 * string is bounded, every char * returned is malloc'd and the caller's.
 * No I/O, no globals.
 */
#ifndef DESKBOX_DESKTOPENTRY_H
#define DESKBOX_DESKTOPENTRY_H

#include <stddef.h>

/* Largest file parsed, longest value kept, most list items kept. */
#define DESKTOPENTRY_MAX_FILE  (64 * 1024)
#define DESKTOPENTRY_MAX_VALUE 4096
#define DESKTOPENTRY_MAX_LIST  64
/* Longest application id (file name without ".desktop"). */
#define DESKTOPENTRY_MAX_ID    128

struct desktopentry {
	char *type;          /* "Application", "Link", ... (NULL: absent) */
	char *name;          /* unlocalized Name */
	char *exec;          /* Exec, general escapes undone, quoting kept */
	char *try_exec;
	char *icon;
	char *wm_class;      /* StartupWMClass */
	char **categories;   /* NULL-terminated, never NULL after a parse */
	char **mime;         /* MimeType, NULL-terminated, never NULL */
	int no_display, hidden, terminal;
};

/* Parse buf. Returns 0, or -1 with the reason in err (not a desktop entry,
 * a line it cannot read, too large). On -1 out holds nothing to free. */
int desktopentry_parse(const char *buf, size_t len, struct desktopentry *out,
		       char *err, size_t errlen);
void desktopentry_free(struct desktopentry *e);

/* Whether e is an application that can be started (Type=Application, a
 * Name and an Exec line, not Hidden). NoDisplay ones count: they are kept
 * out of menus, not out of use (Debian's MuPDF is one). */
int desktopentry_listed(const struct desktopentry *e);

/* Whether mime is one of e's MimeType entries. */
int desktopentry_handles(const struct desktopentry *e, const char *mime);

/*
 * e's Exec as an argv (NULL-terminated, free with desktopentry_argv_free).
 * uri (or NULL) fills %u/%U, and %f/%F as a path when it is a file:// URI;
 * with no field code to take it, it is appended. args (NULL-terminated, or
 * NULL) are appended after. location fills %k. Returns NULL with err set
 * when Exec is empty or its quoting is broken.
 */
char **desktopentry_argv(const struct desktopentry *e, const char *uri,
			 const char *const *args, const char *location,
			 char *err, size_t errlen);
void desktopentry_argv_free(char **argv);

/* An application id a caller may name: [A-Za-z0-9._-], not starting with
 * '.', at most DESKTOPENTRY_MAX_ID bytes. */
int desktopentry_id_ok(const char *id);

/*
 * The MIME type a target opens as: "x-scheme-handler/http(s)" for such
 * URLs, else by the path's (or file:// URL's) extension; "inode/directory"
 * when is_dir. Unknown extensions: "application/octet-stream".
 */
const char *desktopentry_mime_of(const char *target, int is_dir);

/* A file:// URI's path, percent-decoded (malloc'd), or NULL when uri is
 * not one or decodes to a NUL byte. */
char *desktopentry_file_path(const char *uri);

#endif
