/*
 * fuzz_mcp.c - libFuzzer target for the MCP endpoint's parsing
 * (common/mcpparse.c, as server/mcp.c uses it): one POST to /mcp.
 *
 * An input is header lines, an empty line, then the body. A line is a
 * letter, a colon and a value: v MCP-Protocol-Version, s Mcp-Session-Id
 * (present), m Mcp-Method, n Mcp-Name, o Origin, h Host, a Accept; a
 * value of "~" stands for a header too long to read. The body is read as
 * the endpoint reads it; a refusal has a status, a JSON-RPC code, a message
 * and an id that is a string or an integer; an accepted message is of one
 * era. A tools/call's arguments then go through every tool shape against
 * desktop.actions' properties: what is accepted is an object with at most
 * one action, and a write's bytes are within what base64 can make.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcpparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define HDR_MAX 600

struct hdr {
	char v[HDR_MAX];
	int n;            /* -1 absent, -2 too long, else its length */
};

static void args(const json_t *params)
{
	static const char props_json[] = "{\"sandbox\":{},\"actions\":{},\"scale_to\":{},\"format\":{}}";
	const json_t *a = json_object_get(params, "arguments");
	json_t *props = json_loads(props_json, 0, NULL);

	CHECK(props);
	if (a && !json_is_object(a))
		a = NULL;
	for (int shape = MCPPARSE_JSON; shape <= MCPPARSE_WRITE; shape++) {
		json_t *p = (json_t *)1;
		char *bin = (char *)1, err[300] = "";
		size_t bin_len = 1;

		if (mcpparse_args(shape, shape == MCPPARSE_ACTION ? " actions " : NULL, props, a, &p, &bin,
				  &bin_len, err, sizeof(err)) < 0) {
			CHECK(err[0] && !p && !bin && !bin_len);
			continue;
		}
		CHECK(json_is_object(p) && !json_object_get(p, "sandbox_id"));
		if (shape == MCPPARSE_ACTION)
			CHECK(json_array_size(json_object_get(p, "actions")) == 1);
		if (shape == MCPPARSE_WRITE) {
			size_t clen = json_string_length(json_object_get(a, "content"));

			CHECK(bin && bin_len <= clen);
			CHECK(!json_object_get(p, "content") && !json_object_get(p, "encoding"));
		} else {
			CHECK(!bin && !bin_len);
		}
		free(bin);
		json_decref(p);
	}
	json_decref(props);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hdr h[7];
	static const char keys[] = "vsmnoha";
	struct mcpparse_hdrs hd;
	struct mcpparse_msg m;
	struct mcpparse_err e;
	const char *p = (const char *)data, *end = p + size;
	char name[512];

	for (int i = 0; i < 7; i++) {
		h[i].v[0] = '\0';
		h[i].n = -1;
	}
	/* The header lines. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		const char *k;

		if (!len) {
			p++;
			break;
		}
		if (len >= 2 && p[1] == ':' && p[0] && (k = strchr(keys, p[0]))) {
			struct hdr *x = &h[k - keys];
			size_t vl = len - 2;

			if (vl == 1 && p[2] == '~') {
				x->n = -2;
			} else if (vl < HDR_MAX && !memchr(p + 2, '\0', vl)) {
				memcpy(x->v, p + 2, vl);
				x->v[vl] = '\0';
				x->n = (int)vl;
			}
		}
		p = nl ? nl + 1 : end;
	}
	/* What the server reads: a version under 32 bytes, a method under 128. */
	if (h[0].n >= 32)
		h[0] = (struct hdr){ "", -2 };
	if (h[2].n >= 128)
		h[2] = (struct hdr){ "", -2 };
	if (h[3].n >= 512)
		h[3] = (struct hdr){ "", -2 };
	if (h[0].n == -2)   /* the server answers "too long" before reading */
		return 0;

	(void)mcpparse_origin_ok(h[4].n >= 0 ? h[4].v : NULL, h[5].n >= 0 ? h[5].v : NULL);
	(void)mcpparse_accepts_json(h[6].n >= 0 ? h[6].v : NULL);
	if (h[3].n >= 0 && mcpparse_name_value(h[3].v, name, sizeof(name)) == 0)
		CHECK(strlen(name) < sizeof(name));
	if (h[3].n >= 0 && mcpparse_name_value(h[3].v, name, 16) == 0)
		CHECK(strlen(name) < 16);

	hd = (struct mcpparse_hdrs){ .version = h[0].v, .has_sid = h[1].n >= 0, .method = h[2].v,
				     .method_n = h[2].n, .name = h[3].v, .name_n = h[3].n };
	if (mcpparse_message(p, (size_t)(end - p), &hd, &m, &e) < 0) {
		CHECK(e.status >= 400 && e.status < 600 && e.code < 0 && e.msg[0]);
		CHECK(!e.id || json_is_string(e.id) || json_is_integer(e.id));
		json_decref(e.data);
		json_decref(m.msg);
		return 0;
	}
	CHECK(json_is_object(m.msg) && m.method);
	CHECK(m.initialize + m.session + m.modern == 1);
	CHECK(!m.params || json_is_object(m.params));
	CHECK(!m.id || json_is_string(m.id) || json_is_integer(m.id));
	if (m.session && mcpparse_session_version(hd.version, m.id, &e) < 0)
		CHECK(e.msg[0] && !e.data);
	if (m.initialize)
		CHECK(mcpparse_is_legacy(mcpparse_initialize_version(
			json_string_value(json_object_get(m.params, "protocolVersion")))));
	if (!strcmp(m.method, "tools/call"))
		args(m.params);
	json_decref(m.msg);
	return 0;
}
