/*
 * deskbox.c - the deskbox command: sandboxes from a shell.
 *
 *   deskbox [--url URL] [--token TOKEN] [--state-dir DIR] COMMAND [ARGS]
 *
 * One table of subcommands (name, usage, run), each a short function over
 * the REST API or the control channel (exec and rpc), with its own --help.
 * The server is --url, else $DESKBOX_URL, else http://127.0.0.1:8080; the
 * token --token, else $DESKBOX_TOKEN, else the token file in the state dir
 * (--state-dir, $DESKBOX_STATE_DIR, /var/lib/deskbox). Errors go to stderr
 * with the server's code; the exit status says what kind (see EXIT_*), and
 * `exec` exits with the command's own status. No globals.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli_net.h"
#include "util.h"

/* Exit statuses (sysexits.h values, so scripts can tell them apart). */
#define EXIT_USAGE       64   /* the command line is wrong */
#define EXIT_REFUSED     65   /* the server refused the request (400, 409, 413…) */
#define EXIT_NOT_FOUND   66   /* no such sandbox, file or method */
#define EXIT_UNAVAILABLE 69   /* cannot reach the server, or it is stopping */
#define EXIT_SERVER      70   /* the server failed (5xx) */
#define EXIT_NOT_SETTLED 75   /* wait: the screen kept changing until the timeout */
#define EXIT_LOCAL       74   /* a local file could not be read or written */
#define EXIT_AUTH        77   /* missing or wrong token, or not allowed */

struct cli {
	struct cli_net_url url;
	char url_s[300];
	char token[300];
};

struct cli_cmd {
	const char *name;
	const char *usage;
	int (*run)(struct cli *c, int argc, char **argv);
};

__attribute__((format(printf, 2, 3)))
static int cli_fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("deskbox: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

static int cli_status_exit(int status)
{
	if (status == 401 || status == 403)
		return EXIT_AUTH;
	if (status == 404)
		return EXIT_NOT_FOUND;
	if (status == 503)
		return EXIT_UNAVAILABLE;
	if (status >= 500)
		return EXIT_SERVER;
	return EXIT_REFUSED;
}

static int cli_code_exit(const char *code)
{
	if (!code)
		return EXIT_SERVER;
	if (!strcmp(code, "unauthorized") || !strcmp(code, "forbidden"))
		return EXIT_AUTH;
	if (!strcmp(code, "not_found"))
		return EXIT_NOT_FOUND;
	if (!strcmp(code, "unavailable"))
		return EXIT_UNAVAILABLE;
	if (!strcmp(code, "internal") || !strcmp(code, "desktop_failed") || !strcmp(code, "timeout"))
		return EXIT_SERVER;
	return EXIT_REFUSED;
}

/*
 * One REST call. Returns 0 with *out (JSON, or NULL when raw is wanted:
 * then body and len hold the bytes, the caller frees), or an exit status
 * having said why on stderr.
 */
static int cli_api(struct cli *c, const char *method, const char *path, json_t *jbody, const char *raw_body,
		   size_t raw_len, json_t **out, char **body, size_t *len)
{
	struct cli_net_resp r;
	char err[512], *payload = NULL;
	size_t plen = 0;
	int rc;

	if (jbody) {
		payload = json_dumps(jbody, JSON_COMPACT);
		plen = payload ? strlen(payload) : 0;
	}
	rc = cli_net_http(&c->url, c->token[0] ? c->token : NULL, method, path,
			  jbody ? "Content-Type: application/json\r\n" : NULL, jbody ? payload : raw_body,
			  jbody ? plen : raw_len, &r, err, sizeof(err));
	free(payload);
	if (rc < 0)
		return cli_fail(EXIT_UNAVAILABLE, "%s (is deskboxd running at %s?)", err, c->url_s);
	if (r.status >= 400) {
		json_t *e = json_loads(r.body, 0, NULL);
		const char *code = json_string_value(json_object_get(json_object_get(e, "error"), "code"));
		const char *msg = json_string_value(json_object_get(json_object_get(e, "error"), "message"));

		rc = cli_fail(cli_status_exit(r.status), "%s: %s", code ? code : "error",
			      msg ? msg : r.body);
		json_decref(e);
		free(r.body);
		return rc;
	}
	if (body) {
		*body = r.body;
		*len = r.len;
		return 0;
	}
	if (out) {
		*out = r.len ? json_loads(r.body, 0, NULL) : json_object();
		if (!*out) {
			free(r.body);
			return cli_fail(EXIT_SERVER, "the server's answer is not JSON");
		}
	}
	free(r.body);
	return 0;
}

static void cli_print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	putchar('\n');
}

/* --help anywhere in args: print the usage and return 1. */
static int cli_wants_help(const struct cli_cmd *cmd, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: deskbox %s\n", cmd->usage);
			return 1;
		}
	}
	return 0;
}

/* ---- commands ---- */

static int cmd_create(struct cli *c, int argc, char **argv)
{
	json_t *body = json_object(), *apps = json_array(), *sb = NULL;
	int as_json = 0, rc, desktop = 1;
	long w = 0, h = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			as_json = 1;
		} else if (!strcmp(argv[i], "--no-desktop")) {
			desktop = 0;
		} else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			if (sscanf(argv[++i], "%ldx%ld", &w, &h) != 2 || w < 64 || h < 64) {
				json_decref(body);
				json_decref(apps);
				return cli_fail(EXIT_USAGE, "--size takes WIDTHxHEIGHT, e.g. 1280x800");
			}
		} else if (!strcmp(argv[i], "--app") && i + 1 < argc) {
			json_array_append_new(apps, json_string(argv[++i]));
		} else {
			json_decref(body);
			json_decref(apps);
			return cli_fail(EXIT_USAGE, "create: unknown argument %s (see deskbox create --help)", argv[i]);
		}
	}
	if (!desktop)
		json_object_set_new(body, "desktop", json_false());
	else if (w)
		json_object_set_new(body, "desktop", json_pack("{s:i,s:i}", "width", (int)w, "height", (int)h));
	if (json_array_size(apps))
		json_object_set(body, "apps", apps);
	json_decref(apps);
	rc = cli_api(c, "POST", "/v1/sandboxes", body, NULL, 0, &sb, NULL, NULL);
	json_decref(body);
	if (rc)
		return rc;
	if (as_json)
		cli_print_json(sb);
	else
		printf("%s\n", json_string_value(json_object_get(sb, "id")));
	json_decref(sb);
	return 0;
}

static int cmd_ls(struct cli *c, int argc, char **argv)
{
	json_t *list = NULL, *sb;
	size_t i;
	int rc, as_json = argc > 1 && !strcmp(argv[1], "--json");

	if (argc > 1 + as_json)
		return cli_fail(EXIT_USAGE, "ls takes no arguments but --json");
	rc = cli_api(c, "GET", "/v1/sandboxes", NULL, NULL, 0, &list, NULL, NULL);
	if (rc)
		return rc;
	if (as_json) {
		cli_print_json(list);
	} else {
		printf("%-32s  %-9s  %-9s  %s\n", "ID", "STATE", "DISPLAY", "CREATED");
		json_array_foreach(json_object_get(list, "sandboxes"), i, sb) {
			json_t *d = json_object_get(sb, "display");
			char disp[32] = "-";

			if (json_is_object(d))
				snprintf(disp, sizeof(disp), "%lldx%lld",
					 (long long)json_integer_value(json_object_get(d, "width")),
					 (long long)json_integer_value(json_object_get(d, "height")));
			printf("%-32s  %-9s  %-9s  %s\n", json_string_value(json_object_get(sb, "id")),
			       json_string_value(json_object_get(sb, "state")), disp,
			       json_string_value(json_object_get(sb, "created_at")) ?: "");
		}
	}
	json_decref(list);
	return 0;
}

static int cmd_rm(struct cli *c, int argc, char **argv)
{
	int worst = 0;

	if (argc < 2)
		return cli_fail(EXIT_USAGE, "rm: which sandbox? (deskbox rm ID...)");
	for (int i = 1; i < argc; i++) {
		char path[128];
		int rc;

		snprintf(path, sizeof(path), "/v1/sandboxes/%.64s", argv[i]);
		rc = cli_api(c, "DELETE", path, NULL, NULL, 0, NULL, NULL, NULL);
		if (rc && !worst)
			worst = rc;
	}
	return worst;
}

static int cmd_actions(struct cli *c, const char *id, json_t *action)
{
	char path[160];
	json_t *res = NULL;
	int rc;

	snprintf(path, sizeof(path), "/v1/sandboxes/%.64s/actions", id);
	rc = cli_api(c, "POST", path, action, NULL, 0, &res, NULL, NULL);
	json_decref(action);
	json_decref(res);
	return rc;
}

static int cmd_click(struct cli *c, int argc, char **argv)
{
	const char *button = "left";
	char *end1, *end2;
	long x, y;

	if (argc == 6 && !strcmp(argv[4], "--button"))
		button = argv[5];
	else if (argc != 4)
		return cli_fail(EXIT_USAGE, "usage: deskbox click ID X Y [--button left|right|middle]");
	x = strtol(argv[2], &end1, 10);
	y = strtol(argv[3], &end2, 10);
	if (*end1 || *end2 || end1 == argv[2] || end2 == argv[3])
		return cli_fail(EXIT_USAGE, "click: X and Y are whole numbers");
	if (strcmp(button, "left") && strcmp(button, "right") && strcmp(button, "middle"))
		return cli_fail(EXIT_USAGE, "click: --button is left, right or middle");
	{
		char action[32];

		snprintf(action, sizeof(action), "%s_click", button);
		return cmd_actions(c, argv[1], json_pack("{s:s,s:[i,i]}", "action", action, "coordinate", (int)x,
							 (int)y));
	}
}

static int cmd_type(struct cli *c, int argc, char **argv)
{
	if (argc != 3)
		return cli_fail(EXIT_USAGE, "usage: deskbox type ID TEXT");
	return cmd_actions(c, argv[1], json_pack("{s:s,s:s}", "action", "type", "text", argv[2]));
}

static int cmd_key(struct cli *c, int argc, char **argv)
{
	if (argc != 3)
		return cli_fail(EXIT_USAGE, "usage: deskbox key ID CHORD (e.g. ctrl+s, Return)");
	return cmd_actions(c, argv[1], json_pack("{s:s,s:s}", "action", "key", "text", argv[2]));
}

static int write_fd(int fd, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w <= 0 && errno != EINTR)
			break;
		if (w > 0)
			off += (size_t)w;
	}
	return off == len ? 0 : -1;
}

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = strcmp(path, "-") ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : 1;
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w <= 0 && errno != EINTR)
			break;
		if (w > 0)
			off += (size_t)w;
	}
	if (fd != 1)
		close(fd);
	return off == len ? 0 : -1;
}

static int cmd_shot(struct cli *c, int argc, char **argv)
{
	const char *out = NULL, *fmt = "png";
	char path[240], *body = NULL;
	int settle = 0;
	size_t len = 0;
	int rc;

	if (argc < 2)
		return cli_fail(EXIT_USAGE, "usage: deskbox shot ID [-o FILE] [--jpeg]");
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--jpeg"))
			fmt = "jpeg";
		else if (!strcmp(argv[i], "--settle"))
			settle = 1;
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else
			return cli_fail(EXIT_USAGE, "shot: unknown argument %s", argv[i]);
	}
	/* --settle: once the screen has been still for half a second. */
	snprintf(path, sizeof(path), "/v1/sandboxes/%.64s/screenshot?format=%s%s", argv[1], fmt,
		 settle ? "&settle_ms=500" : "");
	rc = cli_api(c, "GET", path, NULL, NULL, 0, NULL, &body, &len);
	if (rc)
		return rc;
	if (!out)
		out = strcmp(fmt, "png") ? "screenshot.jpg" : "screenshot.png";
	if (write_file(out, body, len) < 0)
		rc = cli_fail(EXIT_LOCAL, "cannot write %s: %s", out, strerror(errno));
	else if (strcmp(out, "-"))
		printf("%s\n", out);
	free(body);
	return rc;
}

static int cmd_wait(struct cli *c, int argc, char **argv)
{
	long quiet = 500, timeout = 10000;
	char path[160];
	json_t *body, *res = NULL;
	int rc;

	if (argc < 2)
		return cli_fail(EXIT_USAGE, "usage: deskbox wait ID [--settled] [--quiet MS] [--timeout MS]");
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--settled"))
			continue;
		if (!strcmp(argv[i], "--quiet") && i + 1 < argc)
			quiet = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = strtol(argv[++i], NULL, 10);
		else
			return cli_fail(EXIT_USAGE, "wait: unknown argument %s", argv[i]);
	}
	snprintf(path, sizeof(path), "/v1/sandboxes/%.64s/desktop/wait", argv[1]);
	body = json_pack("{s:I,s:I}", "quiet_ms", (json_int_t)quiet, "timeout_ms", (json_int_t)timeout);
	rc = cli_api(c, "POST", path, body, NULL, 0, &res, NULL, NULL);
	json_decref(body);
	if (rc)
		return rc;
	rc = json_is_true(json_object_get(res, "settled")) ? 0 : EXIT_NOT_SETTLED;
	if (rc)
		fprintf(stderr, "deskbox: the screen did not settle within %ld ms\n", timeout);
	json_decref(res);
	return rc;
}

/* "ID:PATH" → id and path (pointing into s, which is cut), or -1. */
static int remote_spec(char *s, char **id, char **path)
{
	char *colon = strchr(s, ':');

	if (!colon || colon - s != ID_LEN)
		return -1;
	*colon = '\0';
	if (!id_valid(s)) {
		*colon = ':';
		return -1;
	}
	*id = s;
	*path = colon + 1;
	return 0;
}

static int cmd_cp(struct cli *c, int argc, char **argv)
{
	char *id, *rpath, path[4200], esc[4096];
	int rc;

	if (argc != 3)
		return cli_fail(EXIT_USAGE, "usage: deskbox cp LOCAL ID:PATH | deskbox cp ID:PATH LOCAL");
	if (remote_spec(argv[2], &id, &rpath) == 0) {
		FILE *f = strcmp(argv[1], "-") ? fopen(argv[1], "rb") : stdin;
		char *data = NULL;
		size_t len = 0, cap = 0;

		if (!f)
			return cli_fail(EXIT_LOCAL, "cannot read %s: %s", argv[1], strerror(errno));
		for (;;) {
			if (len == cap) {
				char *nd = realloc(data, cap = cap ? cap * 2 : 65536);

				if (!nd) {
					free(data);
					return cli_fail(EXIT_LOCAL, "out of memory");
				}
				data = nd;
			}
			size_t n = fread(data + len, 1, cap - len, f);

			if (!n)
				break;
			len += n;
		}
		if (f != stdin)
			fclose(f);
		cli_net_escape(rpath, esc, sizeof(esc));
		snprintf(path, sizeof(path), "/v1/sandboxes/%s/files?path=%s", id, esc);
		rc = cli_api(c, "PUT", path, NULL, data ? data : "", len, NULL, NULL, NULL);
		free(data);
		return rc;
	}
	if (remote_spec(argv[1], &id, &rpath) == 0) {
		char *body = NULL;
		size_t len = 0;

		cli_net_escape(rpath, esc, sizeof(esc));
		snprintf(path, sizeof(path), "/v1/sandboxes/%s/files?path=%s", id, esc);
		rc = cli_api(c, "GET", path, NULL, NULL, 0, NULL, &body, &len);
		if (rc)
			return rc;
		if (write_file(argv[2], body, len) < 0)
			rc = cli_fail(EXIT_LOCAL, "cannot write %s: %s", argv[2], strerror(errno));
		free(body);
		return rc;
	}
	return cli_fail(EXIT_USAGE, "cp: one side must be ID:PATH (a sandbox id, a colon, a path)");
}

static int cmd_view(struct cli *c, int argc, char **argv)
{
	char path[160];
	json_t *tok = NULL, *body;
	int rc, control = argc == 3 && !strcmp(argv[2], "--control");

	if (argc != 2 && !control)
		return cli_fail(EXIT_USAGE, "usage: deskbox view ID [--control]");
	snprintf(path, sizeof(path), "/v1/sandboxes/%.64s/viewer-tokens", argv[1]);
	body = json_pack("{s:b}", "view_only", !control);
	rc = cli_api(c, "POST", path, body, NULL, 0, &tok, NULL, NULL);
	json_decref(body);
	if (rc)
		return rc;
	printf("%s\n", json_string_value(json_object_get(tok, "url")));
	json_decref(tok);
	return 0;
}

/* ---- the control channel ---- */

static int rpc_open(struct cli *c, int *fd)
{
	char err[512];

	*fd = cli_net_ws_open(&c->url, c->token, "/v1/rpc", "deskbox.rpc.v1", err, sizeof(err));
	if (*fd >= 0)
		return 0;
	if (!strcmp(err, "401") || !strcmp(err, "403"))
		return cli_fail(EXIT_AUTH, "the server refused the token (%s)", err);
	if (strspn(err, "-0123456789") == strlen(err))
		return cli_fail(cli_status_exit(atoi(err)), "the control channel refused the connection (%s)", err);
	return cli_fail(EXIT_UNAVAILABLE, "%s (is deskboxd running at %s?)", err, c->url_s);
}

static int rpc_send(int fd, json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	int rc = s ? cli_net_ws_send(fd, 1, s, strlen(s)) : -1;

	free(s);
	json_decref(msg);
	return rc;
}

static int rpc_error_exit(const json_t *err)
{
	const char *code = json_string_value(json_object_get(json_object_get(err, "data"), "code"));
	int n = (int)json_integer_value(json_object_get(err, "code"));

	return cli_fail(code ? cli_code_exit(code) : n == -32601 ? EXIT_NOT_FOUND : EXIT_REFUSED, "%s: %s",
			code ? code : "error", json_string_value(json_object_get(err, "message")) ?: "");
}

static int cmd_rpc(struct cli *c, int argc, char **argv)
{
	json_t *params, *msg;
	int fd, rc;

	if (argc < 2 || argc > 3)
		return cli_fail(EXIT_USAGE, "usage: deskbox rpc METHOD [PARAMS-JSON]");
	params = json_loads(argc == 3 ? argv[2] : "{}", 0, NULL);
	if (!json_is_object(params)) {
		json_decref(params);
		return cli_fail(EXIT_USAGE, "rpc: PARAMS must be a JSON object");
	}
	rc = rpc_open(c, &fd);
	if (rc) {
		json_decref(params);
		return rc;
	}
	rpc_send(fd, json_pack("{s:s,s:i,s:s,s:o}", "jsonrpc", "2.0", "id", 1, "method", argv[1], "params", params));
	for (;;) {
		char *data;
		size_t len;
		int op = cli_net_ws_recv(fd, &data, &len);

		if (op <= 0) {
			rc = cli_fail(EXIT_UNAVAILABLE, "the control channel closed");
			break;
		}
		if (op == 2) {   /* the bytes of a binary result */
			fwrite(data, 1, len, stdout);
			free(data);
			break;
		}
		msg = json_loadb(data, len, 0, NULL);
		free(data);
		if (json_integer_value(json_object_get(msg, "id")) != 1) {
			json_decref(msg);
			continue;
		}
		if (json_object_get(msg, "error")) {
			rc = rpc_error_exit(json_object_get(msg, "error"));
		} else {
			json_t *res = json_object_get(msg, "result");
			int binary = json_is_true(json_object_get(res, "binary"));

			if (!binary || isatty(1))
				cli_print_json(res);
			if (binary && !isatty(1)) {
				json_decref(msg);
				continue;   /* the bytes follow */
			}
		}
		json_decref(msg);
		break;
	}
	close(fd);
	return rc;
}

/* Output of the process: base64 text to fd. */
static void exec_output(const json_t *params)
{
	const char *stream = json_string_value(json_object_get(params, "stream"));
	const json_t *d = json_object_get(params, "data");
	size_t n = json_string_length(d);
	uint8_t *raw = malloc(n / 4 * 3 + 3);
	ssize_t got = raw ? base64_decode(json_string_value(d), n, raw) : -1;

	if (got > 0)
		write_fd(stream && !strcmp(stream, "stderr") ? 2 : 1, (const char *)raw, (size_t)got);
	free(raw);
}

static int cmd_exec(struct cli *c, int argc, char **argv)
{
	json_t *args = json_array(), *msg;
	int fd, rc, i = 2, pass_stdin = 1, next_id = 2;
	long pid = 0;
	long timeout_s = 86400;

	if (argc < 3)
		return json_decref(args), cli_fail(EXIT_USAGE, "usage: deskbox exec ID [-n] [--timeout S] [--] CMD [ARG...]");
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "-n"))
			pass_stdin = 0;
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout_s = strtol(argv[++i], NULL, 10);
		else
			return json_decref(args), cli_fail(EXIT_USAGE, "exec: unknown option %s", argv[i]);
	}
	if (i >= argc || timeout_s < 1)
		return json_decref(args), cli_fail(EXIT_USAGE, "exec: which command? (deskbox exec ID -- CMD ARG...)");
	for (; i < argc; i++)
		json_array_append_new(args, json_string(argv[i]));
	rc = rpc_open(c, &fd);
	if (rc)
		return json_decref(args), rc;
	rpc_send(fd, json_pack("{s:s,s:i,s:s,s:{s:s,s:o,s:s,s:b,s:I}}", "jsonrpc", "2.0", "id", 1, "method",
			       "process.spawn", "params", "sandbox", argv[1], "argv", args, "output_encoding",
			       "base64", "kill_on_close", 1, "timeout_ms", (json_int_t)timeout_s * 1000));
	rc = -1;
	while (rc < 0) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { 0, POLLIN, 0 } };
		int np = pid && pass_stdin ? 2 : 1;

		if (poll(p, (nfds_t)np, -1) < 0 && errno != EINTR)
			break;
		if (np == 2 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			char buf[49152], b64[65540];
			ssize_t n = read(0, buf, sizeof(buf));

			if (n > 0) {
				b64[base64_encode((uint8_t *)buf, (size_t)n, b64)] = '\0';
				rpc_send(fd, json_pack("{s:s,s:i,s:s,s:{s:s,s:I,s:s,s:s}}", "jsonrpc", "2.0", "id",
						       next_id++, "method", "process.write", "params", "sandbox", argv[1],
						       "pid", (json_int_t)pid, "data", b64, "encoding", "base64"));
			} else {
				pass_stdin = 0;
				rpc_send(fd, json_pack("{s:s,s:i,s:s,s:{s:s,s:I}}", "jsonrpc", "2.0", "id", next_id++,
						       "method", "process.close_stdin", "params", "sandbox", argv[1],
						       "pid", (json_int_t)pid));
			}
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		{
			char *data;
			size_t len;
			int op = cli_net_ws_recv(fd, &data, &len);
			const char *method;

			if (op <= 0) {
				rc = cli_fail(EXIT_UNAVAILABLE, "the control channel closed before the command ended");
				break;
			}
			msg = json_loadb(data, len, 0, NULL);
			free(data);
			method = json_string_value(json_object_get(msg, "method"));
			if (json_integer_value(json_object_get(msg, "id")) == 1) {
				if (json_object_get(msg, "error"))
					rc = rpc_error_exit(json_object_get(msg, "error"));
				else
					pid = (long)json_integer_value(json_object_get(json_object_get(msg, "result"), "pid"));
			} else if (json_object_get(msg, "error")) {
				/* A write to a process that already ended: its exit follows. */
			} else if (method && !strcmp(method, "process.output")) {
				exec_output(json_object_get(msg, "params"));
			} else if (method && !strcmp(method, "process.exit")) {
				const json_t *pr = json_object_get(msg, "params");
				const json_t *code = json_object_get(pr, "exit_code"), *sig = json_object_get(pr, "signal");

				fflush(stdout);
				if (json_is_true(json_object_get(pr, "timed_out")))
					fprintf(stderr, "deskbox: the command timed out\n");
				rc = json_is_integer(code) ? (int)json_integer_value(code)
				     : json_is_integer(sig) ? 128 + (int)json_integer_value(sig) : EXIT_SERVER;
			}
			json_decref(msg);
		}
	}
	close(fd);
	return rc < 0 ? EXIT_UNAVAILABLE : rc;
}

/* ---- MCP over stdio ---- */

static int cmd_mcp(struct cli *c, int argc, char **argv)
{
	char session[160] = "", version[40] = "", *line = NULL, err[512];
	size_t cap = 0;
	ssize_t n;

	if (argc != 1)
		return cli_fail(EXIT_USAGE, "usage: deskbox mcp (speaks MCP on stdin/stdout)");
	while ((n = getline(&line, &cap, stdin)) > 0) {
		json_t *msg = json_loadb(line, (size_t)n, 0, NULL), *meta;
		const char *method = json_string_value(json_object_get(msg, "method"));
		const char *mv, *name;
		char hdrs[1024];
		struct cli_net_resp r;
		int used;

		if (!msg) {
			printf("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32700,\"message\":\"Parse error\"}}\n");
			fflush(stdout);
			continue;
		}
		meta = json_object_get(json_object_get(msg, "params"), "_meta");
		mv = json_string_value(json_object_get(meta, "io.modelcontextprotocol/protocolVersion"));
		name = json_string_value(json_object_get(json_object_get(msg, "params"), "name"));
		used = snprintf(hdrs, sizeof(hdrs), "Content-Type: application/json\r\n"
				"Accept: application/json, text/event-stream\r\n");
		if (mv) {   /* the stateless revision: its headers mirror the body */
			used += snprintf(hdrs + used, sizeof(hdrs) - (size_t)used,
					 "MCP-Protocol-Version: %.40s\r\nMcp-Method: %.100s\r\n", mv, method ? method : "");
			if (name && strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./")
					    == strlen(name))
				used += snprintf(hdrs + used, sizeof(hdrs) - (size_t)used, "Mcp-Name: %.200s\r\n", name);
		} else {
			if (session[0])
				used += snprintf(hdrs + used, sizeof(hdrs) - (size_t)used, "Mcp-Session-Id: %s\r\n",
						 session);
			if (version[0])
				used += snprintf(hdrs + used, sizeof(hdrs) - (size_t)used,
						 "MCP-Protocol-Version: %s\r\n", version);
		}
		if (cli_net_http(&c->url, c->token, "POST", "/mcp", hdrs, line, (size_t)n, &r, err, sizeof(err)) < 0) {
			json_decref(msg);
			free(line);
			return cli_fail(EXIT_UNAVAILABLE, "%s", err);
		}
		if (method && !strcmp(method, "initialize") && r.status == 200) {
			json_t *res = json_loads(r.body, 0, NULL);
			const char *pv = json_string_value(json_object_get(json_object_get(res, "result"),
									  "protocolVersion"));

			snprintf(session, sizeof(session), "%s", r.session);
			snprintf(version, sizeof(version), "%s", pv ? pv : "");
			json_decref(res);
		}
		if (r.len && r.body[0] == '{') {
			fwrite(r.body, 1, r.len, stdout);
			putchar('\n');
			fflush(stdout);
		} else if (r.status >= 400 && json_object_get(msg, "id")) {
			json_t *e = json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", json_object_get(msg, "id"),
					      "error", "code", -32603, "message", "the MCP endpoint refused the request");

			json_dumpf(e, stdout, JSON_COMPACT);
			putchar('\n');
			fflush(stdout);
			json_decref(e);
		}
		free(r.body);
		json_decref(msg);
	}
	free(line);
	return 0;
}

static const struct cli_cmd cli_cmds[] = {
	{ "create", "create [--size WxH] [--app CMD]... [--no-desktop] [--json]\n"
	  "  Create a sandbox and print its id (--json: the whole object).", cmd_create },
	{ "ls", "ls [--json]\n  List the sandboxes.", cmd_ls },
	{ "rm", "rm ID...\n  Delete sandboxes.", cmd_rm },
	{ "exec", "exec ID [-n] [--timeout SECONDS] [--] CMD [ARG...]\n"
	  "  Run CMD in the sandbox; its output streams as it comes, stdin is passed\n"
	  "  through (-n: not), and its exit status becomes deskbox's.", cmd_exec },
	{ "shot", "shot ID [-o FILE|-] [--jpeg] [--settle]\n"
	  "  Save a screenshot (default screenshot.png); --settle: once the screen is still.", cmd_shot },
	{ "wait", "wait ID [--settled] [--quiet MS] [--timeout MS]\n"
	  "  Wait until the screen has been still for MS (500; exit 75 if not by the timeout, 10000).", cmd_wait },
	{ "click", "click ID X Y [--button left|right|middle]\n  Click on the desktop.", cmd_click },
	{ "type", "type ID TEXT\n  Type text on the desktop.", cmd_type },
	{ "key", "key ID CHORD\n  Press a key chord (ctrl+s, alt+F4, Return).", cmd_key },
	{ "cp", "cp LOCAL ID:PATH | cp ID:PATH LOCAL\n  Copy a file into or out of a sandbox ('-' is stdin/stdout).",
	  cmd_cp },
	{ "view", "view ID [--control]\n  Print a viewer URL for the desktop (view-only unless --control).", cmd_view },
	{ "rpc", "rpc METHOD [PARAMS-JSON]\n  Call any operation on the control channel and print its result.",
	  cmd_rpc },
	{ "mcp", "mcp\n  Bridge MCP on stdin/stdout to the server's /mcp (for MCP clients that launch a command).",
	  cmd_mcp },
};

#define CLI_NCMDS (sizeof(cli_cmds) / sizeof(cli_cmds[0]))

static void cli_usage(FILE *f)
{
	fprintf(f, "usage: deskbox [--url URL] [--token TOKEN] [--state-dir DIR] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < CLI_NCMDS; i++)
		fprintf(f, "  %s\n", cli_cmds[i].usage);
	fprintf(f, "\nServer: --url, $DESKBOX_URL, or http://127.0.0.1:8080. Token: --token, $DESKBOX_TOKEN,\n"
		"or DIR/token (--state-dir, $DESKBOX_STATE_DIR, /var/lib/deskbox).\n"
		"Exit status: the command's for exec; else 0, 64 usage, 65 refused, 66 not found,\n"
		"69 unavailable, 70 server error, 74 local file, 75 not settled, 77 auth.\n");
}

static void cli_read_token(struct cli *c, const char *state_dir)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/token", state_dir);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(c->token, sizeof(c->token), f))
		c->token[strcspn(c->token, "\r\n")] = '\0';
	fclose(f);
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	const char *url = getenv("DESKBOX_URL"), *token = getenv("DESKBOX_TOKEN");
	const char *state = getenv("DESKBOX_STATE_DIR");
	char err[512];
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cli_usage(stdout);
			return 0;
		}
		if (i + 1 >= argc)
			break;
		if (!strcmp(argv[i], "--url"))
			url = argv[++i];
		else if (!strcmp(argv[i], "--token"))
			token = argv[++i];
		else if (!strcmp(argv[i], "--state-dir"))
			state = argv[++i];
		else
			break;
	}
	if (i >= argc || argv[i][0] == '-') {
		cli_usage(stderr);
		return EXIT_USAGE;
	}
	snprintf(c.url_s, sizeof(c.url_s), "%s", url && url[0] ? url : "http://127.0.0.1:8080");
	if (cli_net_parse_url(c.url_s, &c.url, err, sizeof(err)) < 0)
		return cli_fail(EXIT_USAGE, "%s", err);
	if (token && token[0])
		snprintf(c.token, sizeof(c.token), "%s", token);
	else
		cli_read_token(&c, state && state[0] ? state : "/var/lib/deskbox");
	for (size_t k = 0; k < CLI_NCMDS; k++)
		if (!strcmp(cli_cmds[k].name, argv[i])) {
			if (cli_wants_help(&cli_cmds[k], argc - i, argv + i))
				return 0;
			return cli_cmds[k].run(&c, argc - i, argv + i);
		}
	return cli_fail(EXIT_USAGE, "unknown command %s (deskbox --help lists them)", argv[i]);
}
