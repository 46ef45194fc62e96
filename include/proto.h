/*
 * proto.h - the private channel between deskboxd and a sandbox's init.
 *
 * Each sandbox has one AF_UNIX SOCK_SEQPACKET socketpair to deskboxd: one
 * datagram is one message, file descriptors travel beside it as SCM_RIGHTS.
 * A message is a fixed header followed by `len` payload bytes.
 *
 * Everything arriving from the sandbox side is untrusted: the server checks
 * every length and id with proto_unpack_* before using it. The pack/unpack
 * functions are pure (no I/O, no globals) so the unit tests and the fuzz
 * target call them directly.
 */
#ifndef DESKBOX_PROTO_H
#define DESKBOX_PROTO_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

/* Largest datagram either side sends; the socket buffers are sized for it. */
#define PROTO_MAX_MSG (160 * 1024)
/* Most fds one message carries (SPAWN: stdin, stdout, stderr, exec, extra). */
#define PROTO_MAX_FDS 5
/* Most fds one raw datagram carries (the desktop agent's channel: an
 * actions batch's images, AGENTPROTO_MAX_IMAGES, beside its reply). */
#define PROTO_MAX_RAW_FDS 24

enum proto_type {
	PROTO_READY = 1,   /* init → server: the jail is up, commands can run */
	PROTO_SPAWN,       /* server → init: start a process (struct proto_spawn) */
	PROTO_SPAWNED,     /* init → server: id, arg = pid inside the sandbox */
	PROTO_SPAWN_FAIL,  /* init → server: id, arg = errno */
	PROTO_EXITED,      /* init → server: id, arg = wait status */
	PROTO_KILL,        /* server → init: id's whole process tree, arg = signal */
	PROTO_OPEN,        /* server → init: open a file as the sandbox user */
	PROTO_OPENED,      /* init → server: id, arg = 0 and one fd, or errno */
	PROTO_COMMIT,      /* server → init: an upload is whole (arg 1: put it in
			    * place) or failed (arg 0: drop it) */
	PROTO_COMMITTED,   /* init → server: id, arg = 0 or errno */
	PROTO_SIGNAL,      /* server → init: id's command (its process group),
			    * arg = a signal from PROTO_SIGNAL_OK; KILL kills
			    * the whole tree instead */

	/* Egress (docs/network.md). Numbered apart so other additions above
	 * do not renumber them. */
	PROTO_LISTENERS = 100, /* jail setup → server, once, before init runs:
				* the sandbox's proxy listeners (HTTP, SOCKS5) */
	/* deskboxd ↔ deskbox-egress, on their own socketpair; id = the
	 * sandbox's egress key */
	PROTO_EG_ADD,      /* → egress: {"sandbox", "policy"} + the 2 listeners */
	PROTO_EG_POLICY,   /* → egress: the new policy JSON */
	PROTO_EG_REMOVE,   /* → egress: the sandbox is gone */
	PROTO_EG_LOG,      /* ← egress: one connection record (JSON), arg = allowed */
	PROTO_EG_REFUSED,  /* ← egress: arg connections refused over the limit */
	PROTO_EG_OPENED,   /* ← egress: a connection is through (its record
			    * comes when it closes) */
};

/* Signals PROTO_SIGNAL forwards to a command's process group. */
#define PROTO_SIGNAL_OK(s) ((s) == SIGINT || (s) == SIGHUP || (s) == SIGQUIT || \
			    (s) == SIGUSR1 || (s) == SIGUSR2 || (s) == SIGWINCH || \
			    (s) == SIGCONT || (s) == SIGTSTP || (s) == SIGALRM || (s) == SIGTERM)

struct proto_hdr {
	uint32_t type;  /* enum proto_type */
	uint32_t id;    /* request id chosen by the server, echoed in replies */
	int32_t arg;    /* small scalar: pid, errno, wait status, signal, flags */
	uint32_t len;   /* payload bytes following the header */
};

/* PROTO_SPAWN flags (in hdr.arg). */
#define PROTO_SPAWN_EXECFD   0x1  /* an fd to execveat() follows the 3 stdio fds */
#define PROTO_SPAWN_EXTRAFD  0x2  /* one more fd follows; it becomes fd 3 */
#define PROTO_SPAWN_PTY      0x4  /* no stdio fds: init makes a pty, the command
				     * gets its slave as controlling terminal and
				     * SPAWNED carries the master fd */
#define PROTO_SPAWN_QUIET    0x8  /* no SPAWNED reply (the caller needs no pid):
				     * only SPAWN_FAIL or, at the end, EXITED;
				     * one message and one server wake-up fewer
				     * per command */
#define PROTO_SPAWN_AGENT    0x10 /* run as PROTO_AGENT_UID, keeping CAP_SETUID,
				     * CAP_SETGID, CAP_KILL (include/caps.h): the desktop
				     * agent, in a sandbox with its own id range */

/* Ids inside a sandbox: the user's, and the desktop agent's own (with the
 * user's group, so Xvfb and the apps share its XShm segments; see caps.h). */
#define PROTO_USER_UID  1000
#define PROTO_USER_GID  1000
#define PROTO_AGENT_UID 999
/* The agent's own writable place (its recordings) when it has its uid:
 * on the sandbox's root tmpfs like /run/user/1000, so inside disk_mb;
 * the user's group may read it, not write it. */
#define PROTO_AGENT_DIR "/run/deskbox"

/* PROTO_OPEN flags (in hdr.arg). */
#define PROTO_OPEN_READ   0x1  /* open an existing regular file read-only */
#define PROTO_OPEN_WRITE  0x2  /* create parents and a new temporary file
				* beside the path; PROTO_COMMIT puts it in
				* place, so a failed upload leaves the old
				* file as it was */

/*
 * A decoded SPAWN payload. The strings point into the buffer it was decoded
 * from; argv and envp are NULL-terminated arrays the caller provides room for.
 */
struct proto_spawn {
	char **argv;   /* argv[0] is looked up in PATH unless it has a '/' */
	char **envp;   /* complete environment, "K=V" each */
	const char *cwd;
	size_t argc, envc;
};

/*
 * Payload layout of SPAWN: u32 argc, u32 envc, then argc + envc + 1
 * NUL-terminated strings (argv..., envp..., cwd). Of PROTO_OPEN: u32 mode
 * bits for a created file, then one NUL-terminated absolute path. Of
 * PROTO_COMMIT: the same layout, with the upload's OPEN id in place of the
 * mode.
 */

/* Encode into buf (cap bytes). Returns the payload length, or -1 if it does
 * not fit or a string is unfit (argc of 0, a NUL inside a counted string). */
ssize_t proto_pack_spawn(char *buf, size_t cap, char *const argv[],
			 char *const envp[], const char *cwd);

/* Decode buf (len bytes, modified in place: nothing), filling sp. argv and
 * envp must have room for max_strings + 1 entries each. Returns 0, or -1 if
 * the payload is malformed or holds more strings than max_strings. */
int proto_unpack_spawn(const char *buf, size_t len, struct proto_spawn *sp,
		       char **argv, char **envp, size_t max_strings);

/* OPEN payload: mode then the path. Returns length, or -1. */
ssize_t proto_pack_open(char *buf, size_t cap, uint32_t mode, const char *path);
/* Returns 0 and points *path into buf, or -1 when malformed. */
int proto_unpack_open(const char *buf, size_t len, uint32_t *mode,
		      const char **path);

/*
 * Send one message with up to PROTO_MAX_FDS fds (nfds may be 0). Returns 0,
 * or -1 with errno (EAGAIN on a full non-blocking socket, EMSGSIZE).
 */
int proto_send(int sock, uint32_t type, uint32_t id, int32_t arg,
	       const void *payload, size_t len, const int *fds, int nfds);

/*
 * Receive one message into buf (cap bytes, at least sizeof(struct
 * proto_hdr)). Received fds are stored in fds[] (room for PROTO_MAX_FDS),
 * their count in *nfds; they are O_CLOEXEC. Returns the payload length and
 * fills *hdr, 0 on orderly EOF with *hdr zeroed, or -1 with errno (EBADMSG:
 * truncated or inconsistent message; any fds that came with it are closed).
 */
ssize_t proto_recv(int sock, struct proto_hdr *hdr, void *buf, size_t cap,
		   int *fds, int *nfds);

/* Size both socket buffers of sock for datagrams up to max bytes (forcing
 * past the sysctl limits where allowed, as root). */
void proto_size_buffers(int sock, int max);

/* Send one datagram of len bytes with up to PROTO_MAX_RAW_FDS fds. Returns
 * 0, or -1 with errno. */
int proto_send_raw(int sock, const void *buf, size_t len, const int *fds, int nfds);

/*
 * Receive one datagram of any shape (no header) into buf; fds as for
 * proto_recv, but fds[] has room for PROTO_MAX_RAW_FDS. Returns its
 * length, 0 on EOF (indistinguishable from an empty
 * datagram, which neither side sends), or -1 with errno (EBADMSG: it was
 * larger than cap or its fds were cut; the fds are closed).
 */
ssize_t proto_recv_raw(int sock, void *buf, size_t cap, int *fds, int *nfds);

#endif
