#!/usr/bin/python3
"""agent_replay.py - replay a recorded agent transcript against a fresh
sandbox with the deskbox Python client, printing each step's result.

    python3 examples/agent_replay.py [TRANSCRIPT.json] [--url URL] [--token TOKEN]

TRANSCRIPT defaults to tests/fixtures/anthropic_computer.json (Anthropic
tool_use blocks; tests/fixtures/openai_computer.json holds OpenAI
computer_call items and is replayed the same way). The sandbox runs an
xterm and is deleted at the end.
"""

import argparse
import json
import os
import sys
import time

from deskbox import Deskbox, DeskboxError

HERE = os.path.dirname(os.path.abspath(__file__))


def summary(result):
    """One line for a tool_result block or a computer_call_output item."""
    if result.get("type") == "tool_result":
        parts = []
        for c in result["content"]:
            if c["type"] == "image":
                parts.append("image %s (%d bytes base64)" % (c["source"]["media_type"], len(c["source"]["data"])))
            else:
                parts.append(repr(c["text"][:80]))
        return "%s%s" % ("ERROR " if result["is_error"] else "", ", ".join(parts) or "(no content)")
    url = result["output"]["image_url"]
    return "screenshot %s (%d chars)" % (url[:url.index(",")], len(url))


def ready_for_typing(sb, timeout=30.0):
    """Wait for the xterm's window and its shell: keys typed earlier are lost."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(w["title"] == "replay" for w in sb.windows()) and \
                sb.exec("pgrep -x -P $(pgrep -x xterm) bash || pgrep -x -P $(pgrep -x xterm) sh").exit_code == 0:
            break
        time.sleep(0.1)
    sb.wait_settled(timeout=10)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("transcript", nargs="?", default=os.path.join(HERE, "..", "tests", "fixtures",
                                                                 "anthropic_computer.json"))
    ap.add_argument("--url")
    ap.add_argument("--token")
    args = ap.parse_args(argv)
    with open(args.transcript) as f:
        fx = json.load(f)
    disp = fx.get("display", {})
    dbx = Deskbox(args.url, args.token)
    try:
        sb = dbx.create(apps=["xterm -T replay -geometry 80x20+0+0"])
    except DeskboxError as e:
        print("cannot create a sandbox: %s" % e, file=sys.stderr)
        return 1
    with sb:
        print("sandbox %s" % sb.id)
        ready_for_typing(sb)
        for name, calls in fx["transcripts"].items():
            calls = calls if isinstance(calls, list) else [calls]
            for call in calls:
                if call.get("pending_safety_checks"):
                    print("%-26s %-12s skipped: pending safety checks need a person's yes" % (name, call["call_id"]))
                    continue
                try:
                    if call["type"] == "tool_use":
                        res = sb.anthropic_tool(call, disp.get("width"), disp.get("height"))
                        label = call["input"].get("action", call["name"])
                    else:
                        res = sb.openai_tool(call, disp.get("width") if name != "ga" else None,
                                             disp.get("height") if name != "ga" else None)
                        label = ",".join(a["type"] for a in call.get("actions") or [call["action"]])
                    print("%-26s %-18s %s" % (name, label, summary(res)))
                except DeskboxError as e:
                    print("%-26s %-18s failed: %s" % (name, call.get("id"), e))
        for path, want in fx.get("effects", {}).items():
            sb.wait_settled(timeout=5)
            try:
                got = sb.files.read(path)
            except DeskboxError as e:
                got = "(%s)" % e.code
            print("effect %-30s %s" % (path, "ok" if got == want else "got %r, want %r" % (got, want)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
