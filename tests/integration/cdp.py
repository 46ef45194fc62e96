"""cdp.py - run inside a sandbox: evaluate JavaScript in the page Chromium
shows, over its DevTools port on the sandbox's loopback, and print the value
as JSON. Uploaded with wsclient.py beside it by test_input_browser.py.

    python3 cdp.py PORT EXPRESSION
    python3 cdp.py PORT --navigate URL     (prints the frame id)
"""
import json
import sys
import urllib.request

from wsclient import WSClient


def main():
    port, expr = int(sys.argv[1]), sys.argv[2]
    with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10) as r:
        pages = [p for p in json.load(r) if p.get("type") == "page"]
    path = pages[0]["webSocketDebuggerUrl"].split("%d" % port, 1)[1]
    ws = WSClient("127.0.0.1", port, path)
    if expr == "--navigate":
        call = {"id": 1, "method": "Page.navigate", "params": {"url": sys.argv[3]}}
    else:
        call = {"id": 1, "method": "Runtime.evaluate",
                "params": {"expression": expr, "returnByValue": True}}
    ws.send_text(json.dumps(call))
    while True:
        kind, data = ws.recv(timeout=20)
        if kind == "close":
            sys.exit("devtools closed the connection")
        msg = json.loads(data)
        if msg.get("id") == 1:
            break
    ws.close()
    res = msg.get("result")
    if res is None or "exceptionDetails" in res or "errorText" in res:
        sys.exit("failed: %r" % msg)
    print(json.dumps(res["result"].get("value") if "result" in res else res.get("frameId")))


main()
