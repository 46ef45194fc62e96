/*
 * fuzz_rpc.c - libFuzzer target for the JSON-RPC channel's parsing
 * (common/rpcparse.c, as server/rpc.c uses it): one input is one WebSocket
 * text message, loaded as rpc_message loads it (any value, batches too).
 *
 * Each request is checked as a member would be; a good one's params then
 * go through the transport's params four ways (operations with and without
 * binary input and output). A refusal says why and holds nothing; what is
 * accepted leaves no transport key behind and decodes within its bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpcparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void transport(const json_t *params, int bin_out, int bin_in)
{
	json_t *p = json_deep_copy(params);
	struct rpcparse_transport t;
	json_t *data = json_object_get(p, "data");
	size_t dlen = json_string_length(data);
	char err[256] = "";

	CHECK(p);
	if (rpcparse_transport(p, bin_out, bin_in, &t, err, sizeof(err)) == 0) {
		CHECK(!bin_out || !t.b64 || !json_object_get(p, "encoding"));
		if (bin_in) {
			CHECK(!json_object_get(p, "data") && !json_object_get(p, "binary"));
			CHECK(t.want_bin != !!t.bin);
			CHECK(!t.bin || t.bin_len <= dlen / 4 * 3 + 3);
		} else {
			CHECK(!t.bin && !t.want_bin);
		}
		free(t.bin);
	} else {
		CHECK(err[0] && !t.bin);
	}
	json_decref(p);
}

static void request(json_t *req)
{
	struct rpcparse_req q;
	json_t *answer_id = (json_t *)1;
	char err[256] = "";

	if (rpcparse_request(req, &q, &answer_id, err, sizeof(err)) < 0) {
		CHECK(err[0]);
		CHECK(!answer_id || json_is_string(answer_id) || json_is_integer(answer_id));
		return;
	}
	CHECK(q.method && (q.has_id == !!q.id));
	if (!json_is_object(q.params))
		return;
	for (int i = 0; i < 4; i++)
		transport(q.params, i & 1, i >> 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *msg = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);

	if (json_is_array(msg))
		for (size_t i = 0; i < json_array_size(msg); i++)
			request(json_array_get(msg, i));
	else if (msg)
		request(msg);
	json_decref(msg);
	return 0;
}
