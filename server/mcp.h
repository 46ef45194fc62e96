/*
 * mcp.h - the Model Context Protocol face of the operation table: POST /mcp
 * (Streamable HTTP), both the session revision (2025-11-25: initialize,
 * Mcp-Session-Id) and the stateless one (2026-07-28: MCP-Protocol-Version,
 * Mcp-Method/Mcp-Name checked against the body, server/discover).
 *
 * Its tools are rows of the operation table under MCP names (sandbox_id
 * for the sandbox); their descriptions and input schemas are the rows'.
 * Loop thread only.
 */
#ifndef DESKBOX_MCP_H
#define DESKBOX_MCP_H

#include "http.h"
#include "srv.h"

/* Answer r, a request routed to /mcp with its body buffered. */
void mcp_handle(struct http_req *r);

/* The tools array of tools/list (a new reference). */
json_t *mcp_tools(void);

/* Forget every session (at exit). */
void mcp_destroy(struct srv *srv);

#endif
