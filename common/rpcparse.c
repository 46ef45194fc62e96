/*
 * rpcparse.c - JSON-RPC request envelopes and transport params, checked
 * (pure). See rpcparse.h.
 */
#include "rpcparse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int rpcparse_request(json_t *req, struct rpcparse_req *out, json_t **answer_id,
		     char *err, size_t cap)
{
	json_t *id = json_object_get(req, "id");
	const char *ver = json_string_value(json_object_get(req, "jsonrpc"));

	memset(out, 0, sizeof(*out));
	*answer_id = json_is_object(req) && (json_is_string(id) || json_is_integer(id)) ? id : NULL;
	out->method = json_string_value(json_object_get(req, "method"));
	out->id = id;
	out->has_id = id != NULL;
	out->params = json_object_get(req, "params");
	if (!json_is_object(req))
		snprintf(err, cap, "a request is an object {\"jsonrpc\": \"2.0\", \"method\", \"params\", \"id\"}");
	else if (!ver || strcmp(ver, "2.0"))
		snprintf(err, cap, "jsonrpc must be \"2.0\"");
	else if (!out->method)
		snprintf(err, cap, "method must be a string");
	else if (id && !json_is_string(id) && !json_is_integer(id) && !json_is_real(id) && !json_is_null(id))
		snprintf(err, cap, "id must be a string, a number or null");
	else
		return 0;
	return -1;
}

int rpcparse_transport(json_t *params, int bin_out, int bin_in, struct rpcparse_transport *t,
		       char *err, size_t cap)
{
	json_t *enc = json_object_get(params, "encoding"), *data, *bin;

	memset(t, 0, sizeof(*t));
	if (enc && bin_out) {
		if (!json_is_string(enc) || strcmp(json_string_value(enc), "base64")) {
			snprintf(err, cap, "encoding must be \"base64\"");
			return -1;
		}
		t->b64 = 1;
		json_object_del(params, "encoding");
	}
	if (!bin_in)
		return 0;
	data = json_object_get(params, "data");
	bin = json_object_get(params, "binary");
	if (!!data + !!json_is_true(bin) != 1) {
		snprintf(err, cap, "give the bytes as base64 \"data\", or \"binary\": true and send "
			 "them as the next binary message");
		return -1;
	}
	if (data) {
		size_t n = json_string_length(data);
		ssize_t got;

		t->bin = json_is_string(data) ? malloc(n / 4 * 3 + 3) : NULL;
		got = t->bin ? base64_decode(json_string_value(data), n, (uint8_t *)t->bin) : -1;
		if (got < 0) {
			free(t->bin);
			t->bin = NULL;
			snprintf(err, cap, "data must be base64");
			return -1;
		}
		t->bin_len = (size_t)got;
	} else {
		t->want_bin = 1;
	}
	json_object_del(params, "data");
	json_object_del(params, "binary");
	return 0;
}
