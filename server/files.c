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
	struct http_req *req;
	char path[PATH_MAX];
	int write;
	int error;          /* of writing the upload, for the answer after COMMIT */
};

static void answer_errno(struct http_req *r, int e, const char *path)
{
	switch (e) {
	case ENOENT:
		http_error(r, 404, "not_found", "%s: no such file", path);
		break;
	case EACCES:
	case EPERM:
	case EROFS:
		http_error(r, 403, "forbidden", "%s: %s", path, strerror(e));
		break;
	case ENOSPC:
	case EDQUOT:
		http_error(r, 507, "no_space", "%s: the sandbox's disk is full", path);
		break;
	case EISDIR:
		http_error(r, 400, "bad_request", "%s is a directory", path);
		break;
	case EINVAL:
		http_error(r, 400, "bad_request", "%s is not a regular file", path);
		break;
	default:
		http_error(r, 400, "bad_request", "%s: %s", path, strerror(e));
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
		http_clear_job(job->req);
	free(job);
}

static int on_committed(void *ctx, const struct proto_hdr *h, int *fds, int nfds)
{
	struct file_job *job = ctx;
	struct http_req *r = job->req;

	if (r) {
		if (!h)
			http_error(r, 409, "sandbox_not_running", "the sandbox stopped");
		else if (job->error)
			answer_errno(r, job->error, job->path);
		else if (h->arg)
			answer_errno(r, h->arg, job->path);
		else
			http_respond_json(r, 201, json_pack("{s:s,s:I}", "path", job->path,
							    "size", (json_int_t)r->body_len));
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
		if (job->req)
			http_error(job->req, 409, "sandbox_not_running", "cannot reach the sandbox");
		job_end(job);
	}
}

static int on_opened(void *ctx, const struct proto_hdr *h, int *fds, int nfds)
{
	struct file_job *job = ctx;
	struct http_req *r = job->req;
	struct stat st;
	int fd;

	if (!h) {
		if (r)
			http_error(r, 409, "sandbox_not_running", "the sandbox stopped");
		job_end(job);
		return 1;
	}
	if (h->arg || nfds != 1) {
		if (r)
			answer_errno(r, h->arg ? h->arg : EIO, job->path);
		job_end(job);
		return 1;
	}
	fd = fds[0];
	fds[0] = -1;
	if (job->write) {
		/* A client that left takes its upload with it. */
		commit(job, h->id, r ? write_all(fd, r->body, r->body_len) : ECANCELED);
		close(fd);
		return 1;
	}
	if (!r) {
		close(fd);
	} else if (fstat(fd, &st) < 0) {
		answer_errno(r, errno, job->path);
		close(fd);
	} else if ((uint64_t)st.st_size > r->srv->cfg.max_file) {
		http_error(r, 413, "too_large", "%s has %lld bytes, over the limit of %zu",
			   job->path, (long long)st.st_size, r->srv->cfg.max_file);
		close(fd);
	} else {
		http_respond_fd(r, 200, "application/octet-stream", fd, (uint64_t)st.st_size);
	}
	job_end(job);
	return 1;
}

static void start(struct sandbox *sb, struct http_req *req, const char *path, int write)
{
	char payload[PATH_MAX + 16];
	struct file_job *job;
	ssize_t len;

	job = calloc(1, sizeof(*job));
	if (!job) {
		http_error(req, 500, "internal", "out of memory");
		return;
	}
	/* Lexically first: a clear 400 for nonsense, and a clean path in the
	 * log. The kernel inside the sandbox still does the real resolution. */
	if (path_normalize("/home/user", path, job->path, sizeof(job->path))) {
		http_error(req, 400, "bad_request", "path must be a non-empty file path");
		free(job);
		return;
	}
	job->sb = sb;
	job->req = req;
	job->write = write;
	len = proto_pack_open(payload, sizeof(payload), 0644, job->path);
	if (len < 0 || !sbx_send(sb, PROTO_OPEN, write ? PROTO_OPEN_WRITE : PROTO_OPEN_READ,
				 payload, (size_t)len, NULL, 0, on_opened, job)) {
		http_error(req, 409, "sandbox_not_running", "cannot reach the sandbox");
		free(job);
		return;
	}
	http_set_job(req, job, cancel);
}

void files_put(struct sandbox *sb, struct http_req *req, const char *path)
{
	start(sb, req, path, 1);
}

void files_get(struct sandbox *sb, struct http_req *req, const char *path)
{
	start(sb, req, path, 0);
}
