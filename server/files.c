/*
 * files.c - moving files in and out of a sandbox.
 *
 * deskboxd never resolves a sandbox path itself: the sandbox's init opens it
 * as the sandbox user inside the jail's own root (so neither ".." nor a
 * symlink can leave it, and the user's permissions apply) and passes back an
 * fd of a regular file. A job lives from the open request to its reply (and,
 * for an upload, to init's word that the new file is in place); the bytes
 * move between the fd and the HTTP connection. Uploads go to a new file
 * beside the path that replaces it only when whole, so a failed upload (a
 * full disk, a client gone) leaves the old file as it was. Writes go to the
 * sandbox's tmpfs, which is memory: they do not block the loop on anything
 * the sandbox controls.
 */
#include "files.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

struct file_job {
	struct sandbox *sb;
	struct op_call *req;
	char path[PATH_MAX];
	int write;
	int error;          /* of writing the upload, for the answer after COMMIT */
};

static void answer_errno(struct op_call *r, int e, const char *path)
{
	switch (e) {
	case ENOENT:
		op_fail(r, OPERR_NOT_FOUND, "%s: no such file", path);
		break;
	case EACCES:
	case EPERM:
	case EROFS:
		op_fail(r, OPERR_FORBIDDEN, "%s: %s", path, strerror(e));
		break;
	case ENOSPC:
	case EDQUOT:
		op_fail(r, OPERR_NO_SPACE, "%s: the sandbox's disk is full", path);
		break;
	case EISDIR:
		op_fail(r, OPERR_BAD_REQUEST, "%s is a directory", path);
		break;
	case EINVAL:
		op_fail(r, OPERR_BAD_REQUEST, "%s is not a regular file", path);
		break;
	default:
		op_fail(r, OPERR_BAD_REQUEST, "%s: %s", path, strerror(e));
		break;
	}
}

static void cancel(void *ctx)
{
	struct file_job *job = ctx;

	job->req = NULL;
}

static int write_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		off += (size_t)n;
	}
	return 0;
}

static void job_end(struct file_job *job)
{
	if (job->req)
		op_clear_job(job->req);
	free(job);
}

/* The call, taken off the job before it is answered: an answer may end
 * the call at once (the control channel frees it in on_done), so job_end
 * must not touch it afterwards. */
static struct op_call *job_take(struct file_job *job)
{
	struct op_call *r = job->req;

	job->req = NULL;
	return r;
}

static int on_committed(void *ctx, const struct proto_hdr *h, int *fds, int nfds)
{
	struct file_job *job = ctx;
	struct op_call *r = job->req;

	job->req = NULL;
	if (r) {
		if (!h)
			op_fail(r, OPERR_SANDBOX_NOT_RUNNING, "the sandbox stopped");
		else if (job->error)
			answer_errno(r, job->error, job->path);
		else if (h->arg)
			answer_errno(r, h->arg, job->path);
		else
			op_ok(r, json_pack("{s:s,s:I}", "path", job->path, "size", (json_int_t)r->bin_len));
	}
	job_end(job);
	return 1;
}

/* The upload is written (error 0) or failed: have init put it in place or
 * drop it; the answer waits for that. */
static void commit(struct file_job *job, uint32_t open_id, int error)
{
	char payload[PATH_MAX + 16];
	ssize_t len = proto_pack_open(payload, sizeof(payload), open_id, job->path);

	job->error = error;
	if (len < 0 || !sbx_send(job->sb, PROTO_COMMIT, !error, payload, (size_t)len, NULL, 0,
				 on_committed, job)) {
		struct op_call *r = job_take(job);

		if (r)
			op_fail(r, OPERR_SANDBOX_NOT_RUNNING, "cannot reach the sandbox");
		job_end(job);
	}
}

static int on_opened(void *ctx, const struct proto_hdr *h, int *fds, int nfds)
{
	struct file_job *job = ctx;
	struct op_call *r = job->req;
	struct stat st;
	int fd;

	if (!h) {
		job_take(job);
		if (r)
			op_fail(r, OPERR_SANDBOX_NOT_RUNNING, "the sandbox stopped");
		job_end(job);
		return 1;
	}
	if (h->arg || nfds != 1) {
		job_take(job);
		if (r)
			answer_errno(r, h->arg ? h->arg : EIO, job->path);
		job_end(job);
		return 1;
	}
	fd = fds[0];
	fds[0] = -1;
	if (job->write) {
		/* A client that left takes its upload with it. */
		commit(job, h->id, r ? write_all(fd, r->bin, r->bin_len) : ECANCELED);
		close(fd);
		return 1;
	}
	job_take(job);
	if (!r) {
		close(fd);
	} else if (fstat(fd, &st) < 0) {
		answer_errno(r, errno, job->path);
		close(fd);
	} else if ((uint64_t)st.st_size > r->srv->cfg.max_file) {
		op_fail(r, OPERR_TOO_LARGE, "%s has %lld bytes, over the limit of %zu",
			job->path, (long long)st.st_size, r->srv->cfg.max_file);
		close(fd);
	} else {
		op_ok_fd(r, "application/octet-stream", fd, (uint64_t)st.st_size,
			 json_pack("{s:s,s:I}", "path", job->path, "size", (json_int_t)st.st_size));
	}
	job_end(job);
	return 1;
}

static void start(struct sandbox *sb, struct op_call *req, const char *path, int write)
{
	char payload[PATH_MAX + 16];
	struct file_job *job;
	ssize_t len;

	job = calloc(1, sizeof(*job));
	if (!job) {
		op_fail(req, OPERR_INTERNAL, "out of memory");
		return;
	}
	/* Lexically first: a clear 400 for nonsense, and a clean path in the
	 * log. The kernel inside the sandbox still does the real resolution. */
	if (path_normalize("/home/user", path, job->path, sizeof(job->path))) {
		op_fail(req, OPERR_BAD_REQUEST, "path must be a non-empty file path");
		free(job);
		return;
	}
	job->sb = sb;
	job->req = req;
	job->write = write;
	len = proto_pack_open(payload, sizeof(payload), 0644, job->path);
	if (len < 0 || !sbx_send(sb, PROTO_OPEN, write ? PROTO_OPEN_WRITE : PROTO_OPEN_READ,
				 payload, (size_t)len, NULL, 0, on_opened, job)) {
		op_fail(req, OPERR_SANDBOX_NOT_RUNNING, "cannot reach the sandbox");
		free(job);
		return;
	}
	op_set_job(req, job, cancel);
}

static void run_file(struct op_call *c, int write)
{
	const char *path;

	if (op_param_str(c, "path", 1, &path) < 0)
		return;
	if (!*path)
		return op_fail(c, OPERR_BAD_REQUEST, "path must be a non-empty file path");
	start(c->sb, c, path, write);
}

static void run_read(struct op_call *c)
{
	run_file(c, 0);
}

static void run_write(struct op_call *c)
{
	run_file(c, 1);
}

#define PATH_PROPS "\"sandbox\":{\"type\":\"string\"},\"path\":{\"type\":\"string\"," \
	"\"description\":\"absolute, or relative to /home/user\"}"

const struct op op_files_rows[] = {
	{ "files.read", "Read a regular file of the sandbox (as its user).",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"path\"],\"additionalProperties\":false,"
	  "\"properties\":{" PATH_PROPS "}}",
	  OPF_SANDBOX | OPF_RUNNING | OPF_BIN_OUT, run_read },
	{ "files.write", "Write a file of the sandbox (parents made; replaced only once whole).",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"path\"],\"additionalProperties\":false,"
	  "\"properties\":{" PATH_PROPS "}}",
	  OPF_SANDBOX | OPF_RUNNING | OPF_BIN_IN, run_write },
	{ NULL, NULL, NULL, 0, NULL },
};
