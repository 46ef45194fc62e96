#!/usr/bin/env node
// rpc_demo.mjs - deskbox's control channel from Node.js (npm "ws"):
// JSON-RPC 2.0 over one WebSocket at /v1/rpc.
//
// Creates a sandbox with an xterm, listens for screen.changed, types a
// command into the xterm, waits for the screen to settle, saves a
// screenshot, streams a command's output (process.spawn) and prints its
// exit code, then deletes the sandbox.
//
//   cd examples && npm ci
//   DESKBOX_TOKEN=... node examples/rpc_demo.mjs [--url ws://127.0.0.1:8080] [--out shot.png]
//
// docs/rpc.md describes every method and event.
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}
const url = arg('--url', process.env.DESKBOX_URL || 'ws://127.0.0.1:8080').replace(/\/$/, '') + '/v1/rpc';
const token = arg('--token', process.env.DESKBOX_TOKEN || '');
const out = arg('--out', 'screenshot.png');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Requests by id, answers matched as they come; notifications go to the
// listeners; a result saying "binary": true takes the binary frame after it.
class Channel {
  constructor(ws) {
    this.ws = ws;
    this.nextId = 1;
    this.waiting = new Map();
    this.listeners = new Set();
    this.held = null;
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('close', () => {
      for (const { reject } of this.waiting.values()) reject(new Error('the connection closed'));
      this.waiting.clear();
    });
  }

  onMessage(data, isBinary) {
    if (isBinary) {
      const msg = this.held;
      this.held = null;
      msg.result.bytesData = data;
      return this.settle(msg);
    }
    const msg = JSON.parse(data.toString('utf8'));
    if (msg.id === undefined) {
      for (const fn of [...this.listeners]) fn(msg);
    } else if (msg.result && msg.result.binary === true) {
      this.held = msg;
    } else {
      this.settle(msg);
    }
  }

  settle(msg) {
    const w = this.waiting.get(msg.id);
    if (!w) return;
    this.waiting.delete(msg.id);
    if (msg.error) {
      const code = (msg.error.data && msg.error.data.code) || msg.error.code;
      w.reject(new Error(`${w.method}: ${msg.error.message} (${code})`));
    } else {
      w.resolve(msg.result);
    }
  }

  call(method, params = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, method });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  // Resolves with the first notification pred accepts.
  next(pred, ms) {
    return new Promise((resolve, reject) => {
      const fn = (msg) => {
        if (!pred(msg)) return;
        this.listeners.delete(fn);
        clearTimeout(timer);
        resolve(msg);
      };
      const timer = setTimeout(() => { this.listeners.delete(fn); reject(new Error('timed out')); }, ms);
      this.listeners.add(fn);
    });
  }
}

// Wait until the screen has been still for quietMs: desktop.wait where the
// server has it, else until screen.changed stops for quietMs.
async function settle(ch, sid, quietMs = 300, limitMs = 10000) {
  try {
    return await ch.call('desktop.wait', { sandbox: sid, until: 'settled', quiet_ms: quietMs, timeout_ms: limitMs });
  } catch (e) {
    if (!/no such method/.test(e.message)) throw e;
  }
  const end = Date.now() + limitMs;
  let changes = 0;
  while (Date.now() < end) {
    try {
      await ch.next((m) => m.method === 'screen.changed', quietMs);
      changes++;
    } catch {
      break; // quietMs without a change
    }
  }
  return { changes, settled: true };
}

async function findWindow(ch, sid, title, limitMs = 30000) {
  const end = Date.now() + limitMs;
  for (;;) {
    const { windows } = await ch.call('windows.list', { sandbox: sid });
    const w = windows.find((x) => x.title === title);
    if (w) return w;
    if (Date.now() > end) throw new Error(`no ${title} window after ${limitMs} ms`);
    await sleep(100);
  }
}

async function main() {
  const ws = new WebSocket(url, 'deskbox.rpc.v1', {
    headers: { Authorization: `Bearer ${token}` },
    maxPayload: 64 << 20,
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('unexpected-response', (req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
  });
  const ch = new Channel(ws);
  const sb = await ch.call('sandbox.create', { apps: ['xterm'] });
  const sid = sb.id;
  console.log(`sandbox ${sid} created`);
  try {
    await ch.call('events.subscribe', { sandbox: sid, topics: ['screen.changed'] });
    const term = await findWindow(ch, sid, 'xterm');
    const x = term.x + Math.floor(term.width / 2), y = term.y + Math.floor(term.height / 2);
    await ch.call('desktop.actions', {
      sandbox: sid,
      actions: [
        { action: 'left_click', coordinate: [x, y] },
        { action: 'type', text: 'echo typed-over-rpc > /tmp/typed.txt' },
        { action: 'key', text: 'Return' },
      ],
    });
    const how = await settle(ch, sid);
    const sorted = Object.fromEntries(Object.entries(how).filter(([k]) => k !== 'bytesData').sort());
    console.log(`screen settled (${JSON.stringify(sorted)})`);
    const shot = await ch.call('desktop.screenshot', { sandbox: sid });
    writeFileSync(out, shot.bytesData);
    console.log(`screenshot saved: ${out} (${shot.bytes} bytes, ${shot.media_type})`);
    // Stream a command's output as it runs; listen before spawning so
    // nothing is missed.
    let pid = null;
    const early = [];
    const done = new Promise((resolve) => {
      const fn = (m) => {
        if (pid === null) return early.push(m);
        if (m.params.pid !== pid) return;
        if (m.method === 'process.output') {
          for (const line of m.params.data.split(/(?<=\n)/)) process.stdout.write(`[${m.params.stream}] ${line}`);
        } else if (m.method === 'process.exit') {
          ch.listeners.delete(fn);
          console.log(`exit code: ${m.params.exit_code}`);
          resolve();
        }
      };
      ch.listeners.add(fn);
      ch.replay = (p) => { pid = p; for (const m of early.splice(0)) fn(m); };
    });
    const res = await ch.call('process.spawn', {
      sandbox: sid,
      cmd: 'cat /tmp/typed.txt; for i in 1 2 3; do echo line $i; sleep 0.1; done; echo oops >&2; exit 3',
    });
    ch.replay(res.pid);
    await done;
  } finally {
    await ch.call('sandbox.delete', { sandbox: sid });
    console.log(`sandbox ${sid} deleted`);
    ws.close();
  }
}

main().catch((e) => {
  console.error(`rpc_demo: ${e.message}`);
  process.exit(1);
});
