// stdio.mjs - the official MCP SDK's stdio client launching `deskbox mcp`
// (the CLI's bridge to /mcp), as an MCP host configured with a command
// would. Prints one JSON report; tests/integration/test_cli.py checks it.
//
//   node stdio.mjs DESKBOX_BINARY URL TOKEN
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [bin, url, token] = process.argv.slice(2);
const report = {};
try {
	const transport = new StdioClientTransport({
		command: bin, args: ["mcp"], env: { DESKBOX_URL: url, DESKBOX_TOKEN: token, PATH: process.env.PATH },
	});
	const client = new Client({ name: "deskbox-stdio-test", version: "1.0.0" });
	await client.connect(transport);
	report.tools = (await client.listTools()).tools.map((t) => t.name);
	const r = await client.callTool({ name: "sandbox_list", arguments: {} });
	report.sandboxes = r.structuredContent?.sandboxes ?? null;
	const bad = await client.callTool({ name: "exec", arguments: { sandbox_id: "0".repeat(32), cmd: "true" } });
	report.badIsError = !!bad.isError;
	await client.close();
	report.ok = true;
} catch (e) {
	report.ok = false;
	report.error = String(e?.stack ?? e);
}
process.stdout.write(JSON.stringify(report) + "\n");
process.exit(report.ok ? 0 : 1);
