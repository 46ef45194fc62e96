/*
 * hostile_agent.c - a stand-in for deskbox-desktop that breaks the channel
 * rules on purpose (tests/integration/test_hostile_agent.py installs it
 * beside a copy of deskboxd). It says it is ready, then answers each
 * method the way a taken-over agent might:
 *   screenshot    a memfd body, though screenshot replies are inline only
 *   wait.settled  an image memfd that is not sealed
 *   display.get   a file beside a reply that has none
 *   windows       a sealed body over the windows cap (8 MiB)
 *   clipboard.get a body memfd that is not sealed
 *   actions       by the text of the batch's first action (a "type"):
 *                 mode-unsealed, -empty, -toomany, -huge, -unnamed,
 *                 -twice, -html, -body break the images' rules (an
 *                 unsealed or empty memfd, more files than a batch has
 *                 images, more bytes than the cap, a file no image names,
 *                 two images naming one, a media type not an image's, a
 *                 body for a reply that is inline); anything else is the
 *                 honest answer: two known images as sealed memfds
 *                 (HONEST_A, HONEST_B), named in the inline JSON
 * and before each answer it floods: replies to ids nobody waits for (with
 * 60 MiB sealed bodies) and junk datagrams, which deskboxd must drop
 * unread. Plain C, no libraries: it runs inside the jail.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHAN 3

static int send_fds(const char *msg, const int *fds, int nfds)
{
	char ctl[CMSG_SPACE(32 * sizeof(int))];
	struct iovec iov = { (void *)msg, strlen(msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;

		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	return sendmsg(CHAN, &mh, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* A memfd of text followed by pad spaces, sealed or not. */
static int body(const char *text, size_t pad, int seal)
{
	int fd = memfd_create("body", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	size_t n = strlen(text);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n || ftruncate(fd, (off_t)(n + pad)) < 0)
		exit(3);
	if (pad) {
		/* spaces, so a body read whole would still be JSON */
		char buf[65536];

		memset(buf, ' ', sizeof(buf));
		for (size_t off = n; off < n + pad; off += sizeof(buf))
			if (pwrite(fd, buf, n + pad - off < sizeof(buf) ? n + pad - off : sizeof(buf),
				   (off_t)off) < 0)
				exit(3);
	}
	if (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		exit(3);
	return fd;
}

static void reply_with_body(unsigned long id, const char *result, size_t pad, int seal)
{
	char head[128], text[512];
	int fd;

	snprintf(text, sizeof(text), "{\"id\":%lu,\"result\":%s}", id, result);
	fd = body(text, pad, seal);
	snprintf(head, sizeof(head), "{\"id\":%lu,\"body_fd\":true}", id);
	send_fds(head, &fd, 1);
	close(fd);
}

/* The honest answer's images: not real PNG/JPEG (deskboxd never looks
 * inside), bytes a test can compare, a NUL and high bytes included. */
#define HONEST_A "\x89PNG\r\n\x1a\n\0hostile-agent image A \xff\xfe"
#define HONEST_B "\xff\xd8\xff\xe0 hostile-agent image B, the settled one"

/* A sealed (or not) memfd of n bytes. */
static int image(const char *bytes, size_t n, int seal)
{
	int fd = memfd_create("image", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || (n && write(fd, bytes, n) != (ssize_t)n))
		exit(3);
	if (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		exit(3);
	return fd;
}

#define IMG(k, mt) "{\"ok\":true,\"image\":{\"media_type\":\"" mt "\",\"fd\":" #k "},\"width\":1,\"height\":1}"

static void actions_reply(unsigned long id, const char *req)
{
	char reply[1024];
	const char *result = "{\"results\":[{\"ok\":true}," IMG(1, "image/png") "],\"settled\":"
			     "{\"settled\":true,\"waited_ms\":5,\"frame\":3,\"image\":{\"media_type\":"
			     "\"image/jpeg\",\"fd\":0},\"width\":2,\"height\":2}}";
	int fds[32], nfds = 0;

	if (strstr(req, "mode-body")) {
		reply_with_body(id, "{\"results\":[{\"ok\":true}]}", 0, 1);
		return;
	}
	if (strstr(req, "mode-unsealed")) {
		fds[nfds++] = image(HONEST_A, sizeof(HONEST_A) - 1, 0);
		result = "{\"results\":[" IMG(0, "image/png") "]}";
	} else if (strstr(req, "mode-empty")) {
		fds[nfds++] = image("", 0, 1);
		result = "{\"results\":[" IMG(0, "image/png") "]}";
	} else if (strstr(req, "mode-toomany")) {
		/* one more than a batch's 16 images and its settled screen */
		while (nfds < 18)
			fds[nfds++] = image(HONEST_A, sizeof(HONEST_A) - 1, 1);
		result = "{\"results\":[{\"ok\":true}]}";
	} else if (strstr(req, "mode-huge")) {
		/* 2 x 25 MiB: over the 48 MiB all of one reply's images may have */
		fds[nfds++] = body("", 25 << 20, 1);
		fds[nfds++] = body("", 25 << 20, 1);
		result = "{\"results\":[" IMG(0, "image/png") "," IMG(1, "image/png") "]}";
	} else if (strstr(req, "mode-unnamed")) {
		fds[nfds++] = image(HONEST_A, sizeof(HONEST_A) - 1, 1);
		result = "{\"results\":[{\"ok\":true}]}";
	} else if (strstr(req, "mode-twice")) {
		fds[nfds++] = image(HONEST_A, sizeof(HONEST_A) - 1, 1);
		fds[nfds++] = image(HONEST_B, sizeof(HONEST_B) - 1, 1);
		result = "{\"results\":[" IMG(0, "image/png") "," IMG(0, "image/png") "]}";
	} else if (strstr(req, "mode-html")) {
		fds[nfds++] = image(HONEST_A, sizeof(HONEST_A) - 1, 1);
		result = "{\"results\":[" IMG(0, "text/html") "]}";
	} else {
		fds[nfds++] = image(HONEST_B, sizeof(HONEST_B) - 1, 1);
		fds[nfds++] = image(HONEST_A, sizeof(HONEST_A) - 1, 1);
	}
	snprintf(reply, sizeof(reply), "{\"id\":%lu,\"result\":%s}", id, result);
	send_fds(reply, fds, nfds);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

static void flood(void)
{
	char msg[128];
	int big = body("{\"id\":999999,\"result\":{}}", 60 << 20, 1);

	for (int i = 0; i < 20; i++) {
		snprintf(msg, sizeof(msg), "{\"id\":%d,\"body_fd\":true}", 900000 + i);
		send_fds(msg, &big, 1);
		send_fds("not json at all", NULL, 0);
		send_fds("{\"event\":\"display\",\"width\":-5,\"height\":99999999999}", NULL, 0);
	}
	close(big);
}

int main(void)
{
	static char buf[200 * 1024];

	send_fds("{\"event\":\"ready\",\"display\":{\"width\":800,\"height\":600}}", NULL, 0);
	for (;;) {
		int fds[4], nfds = 0;
		char ctl[CMSG_SPACE(4 * sizeof(int))], reply[512], *m;
		struct iovec iov = { buf, sizeof(buf) - 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
				     .msg_controllen = sizeof(ctl) };
		unsigned long id;
		ssize_t n = recvmsg(CHAN, &mh, MSG_CMSG_CLOEXEC);

		if (n <= 0)
			return 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_type == SCM_RIGHTS)
				for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) && nfds < 4; i++)
					memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		buf[n] = '\0';
		m = strstr(buf, "\"id\":");
		if (!m || sscanf(m + 5, "%lu", &id) != 1)
			continue;
		flood();
		if (strstr(buf, "\"method\":\"screenshot\"")) {
			reply_with_body(id, "{\"media_type\":\"image/png\",\"width\":1,\"height\":1}", 0, 1);
		} else if (strstr(buf, "\"method\":\"wait.settled\"")) {
			int fd = body("\x89PNG not really", 0, 0);

			snprintf(reply, sizeof(reply), "{\"id\":%lu,\"result\":{\"media_type\":\"image/png\","
				 "\"settled\":true,\"waited_ms\":1}}", id);
			send_fds(reply, &fd, 1);
			close(fd);
		} else if (strstr(buf, "\"method\":\"display.get\"")) {
			int fd = body("{}", 0, 1);

			snprintf(reply, sizeof(reply), "{\"id\":%lu,\"result\":{\"width\":800,\"height\":600}}", id);
			send_fds(reply, &fd, 1);
			close(fd);
		} else if (strstr(buf, "\"method\":\"windows\"")) {
			reply_with_body(id, "{\"windows\":[]}", (8 << 20) + 1, 1);
		} else if (strstr(buf, "\"method\":\"clipboard.get\"")) {
			reply_with_body(id, "{\"text\":\"x\"}", 0, 0);
		} else if (strstr(buf, "\"method\":\"actions\"")) {
			actions_reply(id, buf);
		} else {
			snprintf(reply, sizeof(reply), "{\"id\":%lu,\"result\":{\"ok\":true}}", id);
			send_fds(reply, NULL, 0);
		}
	}
}
