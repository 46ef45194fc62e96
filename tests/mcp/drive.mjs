// drive.mjs - an MCP client session against deskboxd's /mcp, through the
// official TypeScript SDK (Client + StreamableHTTPClientTransport), as an
// MCP host would run it. tests/integration/test_mcp_sdk.py starts the
// server, runs this, and checks what it reports (one JSON object on stdout)
// and what it did inside the sandbox.
//
//   node drive.mjs URL TOKEN
//
// Steps: list the tools; create a sandbox with an xterm; wait for its
// window; take a screenshot (image content); click into the xterm and type
// a command through `computer`; read the command's output back with
// `exec`; call a tool wrongly (an isError result); delete the sandbox.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, token] = process.argv.slice(2);
const report = { steps: [] };
const step = (name, data) => report.steps.push({ name, ...data });

function pngSize(b64) {
	const b = Buffer.from(b64, "base64");
	const sig = b.subarray(0, 8).toString("hex");
	return { signature: sig, width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

async function call(client, name, args) {
	const r = await client.callTool({ name, arguments: args });
	return r;
}

const client = new Client({ name: "deskbox-test", version: "1.0.0" });
const transport = new StreamableHTTPClientTransport(new URL(url), {
	requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
let sandbox = null;
try {
	await client.connect(transport);
	report.sessionId = transport.sessionId ?? null;
	report.protocolVersion = transport.protocolVersion ?? null;
	const tools = await client.listTools();
	report.tools = tools.tools.map((t) => t.name);
	report.computerSchema = tools.tools.find((t) => t.name === "computer")?.inputSchema ?? null;

	let r = await call(client, "sandbox_create", { apps: ["xterm -T mcpterm -geometry 80x20+0+0"] });
	sandbox = r.structuredContent;
	report.sandbox = sandbox;
	step("sandbox_create", { isError: !!r.isError });

	let win = null;
	for (let i = 0; i < 200 && !win; i++) {
		r = await call(client, "windows_list", { sandbox_id: sandbox.id });
		win = (r.structuredContent?.windows ?? []).find((w) => (w.title ?? "").includes("mcpterm"));
		if (!win) await new Promise((res) => setTimeout(res, 100));
	}
	step("windows_list", { window: win });

	// Where it already is (the click below aims at it), answered once shown.
	r = await call(client, "window_move", { sandbox_id: sandbox.id, window: win.id, x: 0, y: 30 });
	const moved = r.structuredContent?.window;
	step("window_move", { isError: !!r.isError, xy: moved ? [moved.x, moved.y] : null, content: r.isError ? r.content : null });
	if (moved) win = moved;

	r = await call(client, "screenshot", { sandbox_id: sandbox.id });
	const img = r.content.find((c) => c.type === "image");
	step("screenshot", { isError: !!r.isError, mimeType: img?.mimeType, png: img ? pngSize(img.data) : null });

	r = await call(client, "computer", { sandbox_id: sandbox.id, action: "screenshot" });
	const img2 = r.content.find((c) => c.type === "image");
	step("computer_screenshot", { isError: !!r.isError, png: img2 ? pngSize(img2.data) : null });

	const cx = win.x + Math.floor(win.width / 2), cy = win.y + Math.floor(win.height / 2);
	r = await call(client, "computer", { sandbox_id: sandbox.id, action: "left_click", coordinate: [cx, cy] });
	step("left_click", { isError: !!r.isError, content: r.content });
	// The xterm's shell may still be starting: its first prompt marks it ready.
	for (let i = 0; i < 100; i++) {
		r = await call(client, "exec", { sandbox_id: sandbox.id, cmd: "pgrep -u user -x sh >/dev/null || pgrep -u user -x bash" });
		if (r.structuredContent?.exit_code === 0) break;
		await new Promise((res) => setTimeout(res, 100));
	}
	r = await call(client, "computer", {
		sandbox_id: sandbox.id, action: "type", text: "echo typed-via-mcp-$((6*7)) > /tmp/mcp-typed.txt\n",
	});
	step("type", { isError: !!r.isError });

	let got = "";
	for (let i = 0; i < 100 && !got.includes("typed-via-mcp-42"); i++) {
		r = await call(client, "exec", { sandbox_id: sandbox.id, cmd: "cat /tmp/mcp-typed.txt 2>/dev/null" });
		got = r.structuredContent?.stdout ?? "";
		if (!got.includes("typed-via-mcp-42")) await new Promise((res) => setTimeout(res, 100));
	}
	step("exec_readback", { stdout: got });

	r = await call(client, "files_write", { sandbox_id: sandbox.id, path: "/tmp/hello.txt", content: "héllo\n" });
	step("files_write", { isError: !!r.isError });
	r = await call(client, "files_read", { sandbox_id: sandbox.id, path: "/tmp/hello.txt" });
	step("files_read", { isError: !!r.isError, text: r.content[0]?.text });

	r = await call(client, "screenshot", { sandbox_id: "0000" });
	step("bad_sandbox", { isError: !!r.isError, text: r.content[0]?.text });

	try {
		await call(client, "no_such_tool", {});
		step("unknown_tool", { threw: false });
	} catch (e) {
		step("unknown_tool", { threw: true, code: e.code });
	}

	r = await call(client, "sandbox_delete", { sandbox_id: sandbox.id });
	step("sandbox_delete", { isError: !!r.isError });
	sandbox = null;
	await transport.terminateSession();
	report.terminated = transport.sessionId === undefined;
	await client.close();
	report.ok = true;
} catch (e) {
	report.ok = false;
	report.error = String(e?.stack ?? e);
}
process.stdout.write(JSON.stringify(report) + "\n");
process.exit(report.ok ? 0 : 1);
