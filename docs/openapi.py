#!/usr/bin/python3
"""openapi.py - docs/openapi.json (OpenAPI 3.1) from the operation table.

    build/deskboxd --list-ops | python3 docs/openapi.py > docs/openapi.json

Every row with a REST form becomes an operation (operationId = the row's
name): the path's {id}, the row's params schema as query parameters (GET,
DELETE, and routes whose body is bytes) or as the JSON body, bearer auth
unless the row is public, and the error shape every route shares. What the
table does not say (the status of a success, the media types of bytes) is
in the small tables below. tests/integration/test_openapi.py checks the
committed file against the table and validates it with an OpenAPI 3.1
validator from npm.
"""

import json
import sys

# Success statuses that are not 200 (rest.c's route table).
OK_STATUS = {"sandbox.create": "201", "viewer.create_token": "201", "files.write": "201",
             "sandbox.delete": "204", "desktop.vnc": "101", "terminal.open": "101",
             "recordings.start": "201", "recordings.delete": "204"}
# What answers with bytes gives.
BYTES = {"desktop.screenshot": ["image/png", "image/jpeg"], "files.read": ["application/octet-stream"],
         "recordings.get": ["video/mp4"]}
ID = {"name": "id", "in": "path", "required": True, "description": "the sandbox's id",
      "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}


def operation(op, method, path):
    params = op["params"]
    # A {name} segment of the path (besides {id}) is that param.
    segs = [s[1:-1] for s in path.split("/") if s.startswith("{") and s != "{id}"]
    props = {k: v for k, v in params.get("properties", {}).items() if k != "sandbox" and k not in segs}
    required = [k for k in params.get("required", []) if k != "sandbox" and k not in segs]
    o = {"operationId": op["name"], "summary": op["summary"], "tags": [op["name"].split(".")[0]]}
    if "public" in op["flags"]:
        o["security"] = []
    o["parameters"] = [ID] if "{id}" in path else []
    for k in segs:
        o["parameters"].append({"name": k, "in": "path", "required": True,
                                "schema": params["properties"][k]})
    if method in ("get", "delete") or "binary_in" in op["flags"]:
        for k, v in props.items():
            o["parameters"].append({"name": k, "in": "query", "required": k in required, "schema": v})
    elif props:
        body = {"type": "object", "additionalProperties": False, "properties": props}
        if required:
            body["required"] = required
        o["requestBody"] = {"required": bool(required), "content": {"application/json": {"schema": body}}}
    if "binary_in" in op["flags"]:
        o["requestBody"] = {"required": True, "content": {"application/octet-stream": {}}}
    if not o["parameters"]:
        del o["parameters"]
    status = OK_STATUS.get(op["name"], "200")
    if status == "101":
        ok = {"description": "Switching Protocols: the connection is now a WebSocket"}
    elif status == "204":
        ok = {"description": "Done"}
    elif op["name"] in BYTES:
        ok = {"description": "The bytes", "content": {t: {} for t in BYTES[op["name"]]}}
    else:
        ok = {"description": "The result", "content": {"application/json": {"schema": {"type": "object"}}}}
    o["responses"] = {status: ok, "default": {"description": "An error (see docs/api.md)", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}
    return o


def main():
    ops = json.load(sys.stdin)
    paths = {}
    for op in ops:
        if not op.get("rest"):
            continue
        method, path = op["rest"].split(" ", 1)
        paths.setdefault(path, {})[method.lower()] = operation(op, method.lower(), path)
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "deskbox", "version": "1",
                 "description": "Isolated Linux desktops for agents: the REST face of deskboxd's operation "
                                "table (generated from `deskboxd --list-ops` by docs/openapi.py; docs/api.md "
                                "explains it). The same operations are JSON-RPC methods on the control channel "
                                "(GET /v1/rpc) and MCP tools (POST /mcp)."},
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "the API token (or a viewer token where allowed)"}},
            "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string", "description": "stable: bad_request, not_found, …"},
                    "message": {"type": "string"},
                    "index": {"type": "integer", "description": "the failing action of a batch"}}}}}},
        },
    }
    json.dump(doc, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
