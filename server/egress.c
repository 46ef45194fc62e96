/*
 * egress.c - deskboxd's side of network egress (see egress.h and
 * docs/network.md).
 *
 * Owns the deskbox-egress helper (its pid, pidfd and channel) and each
 * sandbox's `struct egress_sbx`: its policy, its proxy listeners (kept so a
 * restarted helper gets them again), its connection log ring and counters.
 * Runs on the loop thread; talking to the helper is one non-blocking
 * datagram per message, never a wait. The helper is untrusted (it parses
 * what sandboxes send): its records are checked like a sandbox's messages.
 *
 * egress_jail_listeners is the exception: it runs in the jail child, before
 * the sandbox's init, and touches no deskboxd state.
 */
#include "egress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus.h"
#include "ev.h"
#include "log.h"
#include "netpolicy.h"
#include "proto.h"
#include "sandbox.h"

#define LOG_RING 1000          /* records kept per sandbox */
#define RESTART_MS 1000

struct egress {
	struct srv *srv;
	char path[PATH_MAX];
	pid_t pid;
	int chan;
	uint32_t next_key;
	lws_sorted_usec_list_t restart;
};

struct egress_sbx {
	uint32_t key;
	json_t *policy;            /* normalized, as the API shows it */
	int lfd[2];                /* HTTP, SOCKS5 listeners; -1 until they come */
	int got_listeners;
	json_t *ring[LOG_RING];
	size_t head, n;
	uint64_t seq;
	uint64_t allowed, denied, refused, bytes_out, bytes_in;
	uint64_t open;             /* through the proxy now (OPENED, no record yet) */
};

static const char *const proxy_env[] = {
	"HTTP_PROXY=http://127.0.0.1:3128", "http_proxy=http://127.0.0.1:3128",
	"HTTPS_PROXY=http://127.0.0.1:3128", "https_proxy=http://127.0.0.1:3128",
	/* socks5h: the proxy resolves names; the sandbox has no DNS. */
	"ALL_PROXY=socks5h://127.0.0.1:1080", "all_proxy=socks5h://127.0.0.1:1080",
	"NO_PROXY=localhost,127.0.0.1,::1", "no_proxy=localhost,127.0.0.1,::1",
	NULL,
};

const char *const *egress_env(const struct sandbox *sb)
{
	return sb->egress && sb->egress->got_listeners ? proxy_env : NULL;
}

static int make_listener(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4096) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int egress_jail_listeners(int chan)
{
	int fds[2] = { make_listener(EGRESS_HTTP_PORT), make_listener(EGRESS_SOCKS_PORT) };
	int r = -1, e = 0;

	if (fds[0] >= 0 && fds[1] >= 0)
		r = proto_send(chan, PROTO_LISTENERS, 0, 0, NULL, 0, fds, 2);
	e = errno;
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	errno = e;
	return r;
}

static void helper_gone(struct egress *eg);

static void send_add(struct egress *eg, struct sandbox *sb)
{
	struct egress_sbx *es = sb->egress;
	json_t *j = json_pack("{s:s,s:O}", "sandbox", sb->id, "policy", es->policy);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (!s || eg->chan < 0 ||
	    proto_send(eg->chan, PROTO_EG_ADD, es->key, 0, s, strlen(s), es->lfd, 2) < 0)
		log_event(sb->id, "egress: cannot hand the proxies to the helper: %s",
			  eg->chan < 0 ? "it is not running" : strerror(errno));
	free(s);
	json_decref(j);
}

static struct sandbox *by_key(struct srv *srv, uint32_t key)
{
	for (struct sandbox *sb = srv->sandboxes; sb; sb = sb->next)
		if (sb->egress && sb->egress->key == key)
			return sb;
	return NULL;
}

static uint64_t num(json_t *rec, const char *key)
{
	json_t *v = json_object_get(rec, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

/* A record from the helper: keep it in the ring, count it. */
static void on_record(struct egress *eg, struct sandbox *sb, const char *p, size_t len, int allowed)
{
	struct egress_sbx *es = sb->egress;
	json_t *rec = json_loadb(p, len, 0, NULL);

	if (!json_is_object(rec)) {
		json_decref(rec);
		log_event(sb->id, "egress: a malformed record from the helper");
		return;
	}
	allowed = json_is_true(json_object_get(rec, "allowed"));
	json_object_set_new(rec, "seq", json_integer((json_int_t)++es->seq));
	if (allowed)
		es->allowed++;
	else
		es->denied++;
	if (json_is_string(json_object_get(rec, "closed")) && es->open)
		es->open--;
	if (allowed)
		eg->srv->metrics.egress_allowed++;
	else
		eg->srv->metrics.egress_denied++;
	es->bytes_out += num(rec, "bytes_out");
	es->bytes_in += num(rec, "bytes_in");
	if (!allowed)
		bus_emit(eg->srv, sb->id, BUS_NETWORK_DENIED,
			 json_pack("{s:O?,s:O?,s:O?,s:O?}", "host", json_object_get(rec, "host"),
				   "port", json_object_get(rec, "port"),
				   "reason", json_object_get(rec, "reason"),
				   "rule", json_object_get(rec, "rule")));
	if (es->n == LOG_RING) {
		json_decref(es->ring[es->head]);
		es->head = (es->head + 1) % LOG_RING;
		es->n--;
	}
	es->ring[(es->head + es->n++) % LOG_RING] = rec;
}

static void on_chan(void *ctx, uint32_t events)
{
	struct egress *eg = ctx;
	static char buf[PROTO_MAX_MSG];

	for (int i = 0; i < 256; i++) {
		struct proto_hdr h;
		int fds[PROTO_MAX_FDS], nfds = 0;
		ssize_t n = proto_recv(eg->chan, &h, buf, sizeof(buf), fds, &nfds);
		struct sandbox *sb;

		if (n < 0 && errno == EAGAIN)
			return;
		for (int k = 0; k < nfds; k++)
			close(fds[k]);   /* the helper has no business sending fds */
		if (n < 0 && errno == EBADMSG)
			continue;
		if (n < 0 || (n == 0 && h.type == 0)) {
			helper_gone(eg);
			return;
		}
		sb = by_key(eg->srv, h.id);
		if (!sb)
			continue;   /* a sandbox removed meanwhile */
		if (h.type == PROTO_EG_LOG)
			on_record(eg, sb, buf, (size_t)n, h.arg);
		else if (h.type == PROTO_EG_REFUSED && h.arg > 0)
			sb->egress->refused += (uint64_t)h.arg;
		else if (h.type == PROTO_EG_OPENED)
			sb->egress->open++;
	}
}

static void on_restart(lws_sorted_usec_list_t *sul);

static int spawn(struct egress *eg)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	proto_size_buffers(sv[0], PROTO_MAX_MSG);
	proto_size_buffers(sv[1], PROTO_MAX_MSG);
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		char *argv[4] = { "deskbox-egress", NULL, NULL, NULL };
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (eg->srv->cfg.egress_hosts[0]) {
			argv[1] = "--hosts";
			argv[2] = eg->srv->cfg.egress_hosts;
		}
		if (dup2(sv[1], 3) < 0)
			_exit(127);
		syscall(SYS_close_range, 4, ~0U, 0);
		execv(eg->path, argv);
		_exit(127);
	}
	close(sv[1]);
	eg->pid = pid;
	eg->chan = sv[0];
	fcntl(eg->chan, F_SETFL, O_NONBLOCK);
	if (ev_add(eg->srv, eg->chan, EPOLLIN, on_chan, eg) < 0) {
		helper_gone(eg);
		return -1;
	}
	/* A restarted helper gets every running sandbox back; the connections
	 * of the old one died with it. */
	for (struct sandbox *sb = eg->srv->sandboxes; sb; sb = sb->next) {
		if (sb->egress)
			sb->egress->open = 0;
		if (sb->egress && sb->egress->got_listeners && sb->egress->lfd[0] >= 0)
			send_add(eg, sb);
	}
	return 0;
}

static void helper_gone(struct egress *eg)
{
	if (eg->chan >= 0) {
		ev_del(eg->srv, eg->chan);
		close(eg->chan);
		eg->chan = -1;
	}
	if (eg->pid > 0) {
		int st = 0;

		kill(eg->pid, SIGKILL);
		waitpid(eg->pid, &st, 0);  /* killed: immediate */
		if (!eg->srv->stopping)
			log_event(NULL, "egress: the helper exited (status %d); restarting it", st);
		eg->pid = 0;
	}
	if (!eg->srv->stopping)
		ev_timer(eg->srv, &eg->restart, on_restart, RESTART_MS);
}

static void on_restart(lws_sorted_usec_list_t *sul)
{
	struct egress *eg = lws_container_of(sul, struct egress, restart);

	if (spawn(eg) < 0)
		log_event(NULL, "egress: cannot restart the helper: %s", strerror(errno));
}

int egress_check_hosts(const char *path, char *err, size_t errlen)
{
	struct netpolicy_hosts h;
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t cap = 0;
	ssize_t n;
	int r;

	if (!f) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	/* getdelim with NUL reads the whole (text) file. */
	n = getdelim(&text, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(text);
		text = strdup("");
	}
	r = text ? netpolicy_hosts_parse(text, &h, err, errlen) : -1;
	if (r == 0)
		netpolicy_hosts_free(&h);
	else if (!text)
		snprintf(err, errlen, "out of memory");
	free(text);
	return r;
}

int egress_start(struct srv *srv, const char *exe_dir)
{
	struct egress *eg = calloc(1, sizeof(*eg));

	if (!eg)
		return -1;
	eg->srv = srv;
	eg->chan = -1;
	snprintf(eg->path, sizeof(eg->path), "%s/deskbox-egress", exe_dir);
	srv->egress = eg;
	if (access(eg->path, X_OK) < 0 || spawn(eg) < 0) {
		log_event(NULL, "egress: cannot start %s: %s; sandboxes have no network", eg->path,
			  strerror(errno));
		srv->egress = NULL;
		free(eg);
		return -1;
	}
	return 0;
}

void egress_stop(struct srv *srv)
{
	struct egress *eg = srv->egress;

	if (!eg)
		return;
	ev_timer_cancel(&eg->restart);
	if (eg->chan >= 0) {
		ev_del(srv, eg->chan);
		close(eg->chan);   /* EOF: the helper exits by itself */
	}
	if (eg->pid > 0)
		waitpid(eg->pid, NULL, 0);
	free(eg);
	srv->egress = NULL;
}

int egress_sandbox_new(struct sandbox *sb, const char *policy)
{
	struct egress_sbx *es = calloc(1, sizeof(*es));
	struct netpolicy p;
	char err[512];
	json_t *j = policy ? json_loads(policy, 0, NULL) : NULL;

	if (!es || netpolicy_parse(j, &p, err, sizeof(err))) {
		free(es);
		json_decref(j);
		return -1;
	}
	json_decref(j);
	es->policy = netpolicy_json(&p);
	netpolicy_free(&p);
	if (!es->policy) {
		free(es);
		return -1;
	}
	es->lfd[0] = es->lfd[1] = -1;
	if (sb->srv->egress) {
		if (++sb->srv->egress->next_key == 0)
			sb->srv->egress->next_key = 1;
		es->key = sb->srv->egress->next_key;
	}
	sb->egress = es;
	return 0;
}

/* Is fd a listening TCP socket on IPv4? (What the jail made; the sandbox
 * could not send anything else before it, but check.) */
static int is_listener(int fd)
{
	int v = 0;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) < 0 || !v)
		return 0;
	l = sizeof(v);
	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) == 0 && v == AF_INET;
}

void egress_sandbox_listeners(struct sandbox *sb, int *fds, int nfds)
{
	struct egress_sbx *es = sb->egress;

	if (!es || es->got_listeners || sb->state != SBX_STARTING || nfds != 2 ||
	    !is_listener(fds[0]) || !is_listener(fds[1])) {
		log_event(sb->id, "egress: ignored an unexpected listener message");
		return;
	}
	es->got_listeners = 1;
	es->lfd[0] = fds[0];
	es->lfd[1] = fds[1];
	fds[0] = fds[1] = -1;
	if (sb->srv->egress)
		send_add(sb->srv->egress, sb);
}

void egress_sandbox_stop(struct sandbox *sb)
{
	struct egress_sbx *es = sb->egress;
	struct egress *eg = sb->srv->egress;

	if (!es || es->lfd[0] < 0)
		return;
	if (eg && eg->chan >= 0)
		proto_send(eg->chan, PROTO_EG_REMOVE, es->key, 0, NULL, 0, NULL, 0);
	for (int i = 0; i < 2; i++) {
		close(es->lfd[i]);
		es->lfd[i] = -1;
	}
}

void egress_sandbox_free(struct sandbox *sb)
{
	struct egress_sbx *es = sb->egress;

	if (!es)
		return;
	egress_sandbox_stop(sb);
	for (size_t i = 0; i < es->n; i++)
		json_decref(es->ring[(es->head + i) % LOG_RING]);
	json_decref(es->policy);
	free(es);
	sb->egress = NULL;
}

json_t *egress_json(const struct sandbox *sb)
{
	const struct egress_sbx *es = sb->egress;
	json_t *j;

	if (!es)
		return json_null();
	j = json_deep_copy(es->policy);
	json_object_set_new(j, "stats", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}",
			    "open", (json_int_t)es->open,
			    "allowed", (json_int_t)es->allowed, "denied", (json_int_t)es->denied,
			    "refused", (json_int_t)es->refused,
			    "bytes_out", (json_int_t)es->bytes_out, "bytes_in", (json_int_t)es->bytes_in));
	json_object_set_new(j, "proxy", es->got_listeners ?
			    json_pack("{s:s,s:s}", "http", "http://127.0.0.1:3128",
				      "socks5", "socks5h://127.0.0.1:1080") : json_null());
	return j;
}

int egress_set_policy(struct sandbox *sb, const json_t *policy, char *err, size_t errlen)
{
	struct egress_sbx *es = sb->egress;
	struct egress *eg = sb->srv->egress;
	struct netpolicy p;
	json_t *norm;
	char *s;

	if (netpolicy_parse(policy, &p, err, errlen))
		return -1;
	norm = netpolicy_json(&p);
	netpolicy_free(&p);
	s = norm ? json_dumps(norm, JSON_COMPACT) : NULL;
	if (!s || !es || (eg && eg->chan >= 0 && es->lfd[0] >= 0 &&
			  proto_send(eg->chan, PROTO_EG_POLICY, es->key, 0, s, strlen(s), NULL, 0) < 0)) {
		snprintf(err, errlen, "cannot hand the policy to the egress helper");
		free(s);
		json_decref(norm);
		return -2;
	}
	free(s);
	json_decref(es->policy);
	es->policy = norm;
	log_event(sb->id, "egress: policy replaced");
	return 0;
}

json_t *egress_log_json(const struct sandbox *sb, uint64_t after)
{
	const struct egress_sbx *es = sb->egress;
	json_t *arr = json_array();

	for (size_t i = 0; es && i < es->n; i++) {
		json_t *rec = es->ring[(es->head + i) % LOG_RING];

		if (num(rec, "seq") > after)
			json_array_append(arr, rec);
	}
	return json_pack("{s:o,s:I}", "records", arr,
			 "dropped", (json_int_t)(es && es->seq > es->n ? es->seq - es->n : 0));
}
