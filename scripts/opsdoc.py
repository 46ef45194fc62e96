#!/usr/bin/python3
"""opsdoc.py - docs/operations.md from deskboxd's operation table.

    build/deskboxd --list-ops | python3 scripts/opsdoc.py > docs/operations.md

The table (server/op_*.c) is the one list of operations: REST routes,
JSON-RPC methods and MCP tools are its faces. This page is generated from it
and tests/integration/test_opsdoc.py fails when the committed page differs,
so the docs cannot drift from what the server accepts.
"""

import json
import sys

SCOPE = [("public", "no token"), ("control_token", "API token, or a full-control viewer token of the sandbox"),
         ("view_token", "API token, or any viewer token of the sandbox")]


def scope(flags):
    for flag, words in SCOPE:
        if flag in flags:
            return words
    return "API token"


def params_table(schema):
    props = (schema or {}).get("properties", {})
    required = set((schema or {}).get("required", []))
    if not props:
        return ["No parameters.", ""]
    out = ["| param | type | required | notes |", "|---|---|---|---|"]
    for name in props:
        p = props[name]
        if "type" in p:
            t = p["type"]
        elif "enum" in p:
            t = " \\| ".join(json.dumps(e) for e in p["enum"])
        elif "oneOf" in p:
            t = " \\| ".join(o.get("type", json.dumps(o.get("const"))) for o in p["oneOf"])
        else:
            t = "any"
        notes = p.get("description", "")
        for k in ("minimum", "maximum", "default"):
            if k in p:
                notes += ("; " if notes else "") + "%s %s" % (k, json.dumps(p[k]))
        out.append("| `%s` | %s | %s | %s |" % (name, t, "yes" if name in required else "", notes))
    out.append("")
    return out


def main():
    ops = json.load(sys.stdin)
    out = ["# Operations", "",
           "Generated from deskboxd's operation table (`deskboxd --list-ops | "
           "python3 scripts/opsdoc.py`); do not edit by hand. Each operation is a "
           "JSON-RPC method of the control channel (docs/rpc.md) by its name, and "
           "a REST route where one is listed (docs/api.md). `sandbox` is the "
           "sandbox's id: in the REST path, or in the JSON-RPC params.", ""]
    out += ["| operation | REST | summary |", "|---|---|---|"]
    for op in ops:
        out.append("| [`%s`](#%s) | %s | %s |" % (op["name"], op["name"].replace(".", "").replace("_", ""),
                                               "`%s`" % op["rest"] if op["rest"] else "channel only",
                                               op["summary"]))
    out.append("")
    for op in ops:
        out += ["## %s" % op["name"], "", op["summary"], ""]
        out.append("- REST: %s" % ("`%s`" % op["rest"] if op["rest"] else "none (control channel only)"))
        out.append("- who: %s" % scope(op["flags"]))
        if "desktop" in op["flags"]:
            out.append("- needs: the sandbox running, with its desktop up")
        elif "running" in op["flags"]:
            out.append("- needs: the sandbox running")
        if "channel_only" in op["flags"]:
            out.append("- only on the control channel (it streams to the connection)")
        if "binary_out" in op["flags"]:
            out.append("- answers with bytes (REST: the body; channel: a binary frame after the result)")
        if "images_out" in op["flags"]:
            out.append("- answers images in its result (REST: base64 `data`; channel: binary frames after "
                       "the result, or base64 with `encoding`; see rpc.md)")
        if "binary_in" in op["flags"]:
            out.append("- takes bytes (REST: the raw body; channel: a binary frame or base64 `data`)")
        out.append("")
        out += params_table(op["params"])
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
