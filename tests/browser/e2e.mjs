// e2e.mjs - drives deskbox's browser UI in a real (headless) Chromium with
// playwright-core. Started by test_browser.py, which owns deskboxd and checks
// inside the sandbox what the browser did.
//
//   DESKBOX_URL=http://127.0.0.1:PORT DESKBOX_TOKEN=... CHROMIUM=/usr/bin/chromium \
//   DESKBOX_ARTIFACTS=tests/artifacts/browser DESKBOX_PROFILE=/tmp/fresh-dir \
//   node tests/browser/e2e.mjs
//
// Talking to the Python side: a line "@@ {json}" on stdout asks it something
// (check a file in the sandbox, ...); it answers one JSON line on stdin,
// {"ok": true, ...} or {"ok": false, "why": "..."}. Everything else on stdout
// and stderr is log. Exit status 0 when every step passed.
//
// playwright-core comes from web/node_modules (web/build.sh installs it).

import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { mkdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, "..", "..");
const require = createRequire(join(REPO, "web", "package.json"));
const { chromium } = require("playwright-core");

const BASE = process.env.DESKBOX_URL;
const TOKEN = process.env.DESKBOX_TOKEN;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS = process.env.DESKBOX_ARTIFACTS || join(REPO, "tests", "artifacts", "browser");
const PROFILE = process.env.DESKBOX_PROFILE;
const TOTAL_MS = Number(process.env.DESKBOX_E2E_TIMEOUT_MS || 240000);
if (!BASE || !TOKEN || !PROFILE) {
  console.error("e2e.mjs: DESKBOX_URL, DESKBOX_TOKEN and DESKBOX_PROFILE are required");
  process.exit(2);
}
mkdirSync(ARTIFACTS, { recursive: true });

// ---------------------------------------------------------------- python link

const answers = [];
const waiting = [];
const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const w = waiting.shift();
  if (w) w(line);
  else answers.push(line);
});
rl.on("close", () => {
  while (waiting.length) waiting.shift()(JSON.stringify({ ok: false, why: "the test runner went away" }));
});

async function ask(what, fields = {}) {
  process.stdout.write("@@ " + JSON.stringify({ ask: what, ...fields }) + "\n");
  const line = answers.length ? answers.shift() : await new Promise((r) => waiting.push(r));
  const ans = JSON.parse(line);
  if (!ans.ok) throw new Error(`check "${what}" failed: ${ans.why}`);
  return ans;
}

// ---------------------------------------------------------------- helpers

let step = "start";
// Tokens never reach the log (console messages quote WebSocket URLs).
const redact = (x) => (typeof x === "string" ? x.replace(/token=[^&\s'"]+/g, "token=…") : x);
const log = (...a) => console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${step}:`, ...a.map(redact));
const t0 = Date.now();
let shotN = 0;
const pages = new Set();

async function shot(page, name) {
  const file = join(ARTIFACTS, `${String(++shotN).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file });
  log("screenshot", file);
}

function watch(page, name) {
  pages.add(page);
  page.on("pageerror", (e) => log(`[${name}] page error:`, e.message));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") log(`[${name}] console.${m.type()}:`, m.text());
  });
  page.on("close", () => pages.delete(page));
}

// How the VNC canvas looks: its size and how many pixels are near-white
// (an xterm's background) or not the page's background.
async function canvasStats(page) {
  return page.evaluate(() => {
    const c = document.querySelector("#screen canvas");
    if (!c || !c.width || !c.height) return null;
    const ctx = c.getContext("2d", { willReadFrequently: true });
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let white = 0, lit = 0;
    const colors = new Set();
    for (let i = 0; i < d.length; i += 4) {
      const r = d[i], g = d[i + 1], b = d[i + 2];
      if (r > 200 && g > 200 && b > 200) white++;
      if (r + g + b > 60) lit++;
      if (i % 64 === 0) colors.add((r << 16) | (g << 8) | b);
    }
    return { width: c.width, height: c.height, white, lit, colors: colors.size };
  });
}

// Wait until the viewer is connected and the desktop shows an xterm.
async function waitForDesktop(page, label) {
  await page.waitForFunction(() => document.body.dataset.vnc === "connected", null, { timeout: 45000 });
  let stats = null;
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    stats = await canvasStats(page);
    if (stats && stats.white > 20000 && stats.colors >= 2) break;
    await page.waitForTimeout(250);
  }
  log(`${label} canvas`, JSON.stringify(stats));
  if (!stats || stats.white <= 20000) throw new Error(`${label}: the canvas never showed the desktop: ${JSON.stringify(stats)}`);
  return stats;
}

// Click at a point of the remote screen (remote pixels), through the canvas.
async function clickRemote(page, x, y) {
  const box = await page.evaluate(() => {
    const c = document.querySelector("#screen canvas");
    const r = c.getBoundingClientRect();
    return { x: r.x, y: r.y, w: r.width, h: r.height, cw: c.width, ch: c.height };
  });
  const px = box.x + (x * box.w) / box.cw;
  const py = box.y + (y * box.h) / box.ch;
  await page.mouse.move(px, py);
  await page.mouse.click(px, py);
  return { px, py };
}

// Type as a person on a US keyboard does: Shift held for the shifted
// characters. (keyboard.type would send ">" as key ">" with no Shift down,
// which only a VNC server that fakes Shift for a keysym turns into ">".)
const US_SHIFTED = {
  "~": "Backquote", "!": "Digit1", "@": "Digit2", "#": "Digit3", "$": "Digit4", "%": "Digit5",
  "^": "Digit6", "&": "Digit7", "*": "Digit8", "(": "Digit9", ")": "Digit0", "_": "Minus",
  "+": "Equal", "{": "BracketLeft", "}": "BracketRight", "|": "Backslash", ":": "Semicolon",
  '"': "Quote", "<": "Comma", ">": "Period", "?": "Slash",
};
async function typeRemote(page, text) {
  for (const ch of text) {
    if (US_SHIFTED[ch]) await page.keyboard.press("Shift+" + US_SHIFTED[ch]);
    else if (/[A-Z]/.test(ch)) await page.keyboard.press("Shift+Key" + ch);
    else await page.keyboard.type(ch);
    await page.waitForTimeout(10);
  }
  await page.keyboard.press("Enter");
}

function isPng(buf) {
  return buf.length > 8 && buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
}

// ---------------------------------------------------------------- the flow

async function run(context) {
  // 0. No token: the dashboard asks once; a wrong one is refused and asked
  //    again; the right one is kept for the tab (a reload does not ask).
  step = "token-dialog";
  const first = await context.newPage();
  watch(first, "token-dialog");
  await first.goto(`${BASE}/`);
  await first.waitForSelector("#token-dialog[open]", { timeout: 15000 });
  await first.fill("#token-dialog input[name=token]", "not-the-token");
  await first.click("#token-dialog button[type=submit]");
  await first.waitForFunction(() => {
    const d = document.querySelector("#token-dialog");
    return d.open && !d.querySelector(".reason").hidden;
  }, null, { timeout: 15000 });
  await first.fill("#token-dialog input[name=token]", TOKEN);
  await first.click("#token-dialog button[type=submit]");
  await first.waitForFunction(() => document.querySelector("#refreshed").dataset.at, null, { timeout: 15000 });
  await first.reload();
  await first.waitForFunction(() => document.querySelector("#refreshed").dataset.at, null, { timeout: 15000 });
  if (await first.evaluate(() => document.querySelector("#token-dialog")?.open))
    throw new Error("the dashboard asked for the token again after a reload");
  await first.close();

  // 1. The dashboard, token in the URL: kept, and taken out of the address bar.
  step = "dashboard";
  const dash = await context.newPage();
  watch(dash, "dashboard");
  await dash.goto(`${BASE}/?token=${encodeURIComponent(TOKEN)}`);
  await dash.waitForFunction(() => document.querySelector("#refreshed").dataset.at, null, { timeout: 15000 });
  if (dash.url().includes("token=")) throw new Error("the token is still in the address bar: " + dash.url());
  const stored = await dash.evaluate(() => sessionStorage.getItem("deskbox.token"));
  if (stored !== TOKEN) throw new Error("the token was not kept in sessionStorage");
  const before = new Set(await dash.$$eval("#sandboxes tbody tr", (trs) => trs.map((t) => t.dataset.id)));
  await shot(dash, "dashboard");

  // 2. Create a sandbox from the form: 1024x768, xterm, 10 minutes, 512 MiB.
  step = "create";
  await dash.selectOption("select[name=size]", "1024x768");
  await dash.fill("input[name=apps]", "xterm -geometry 80x24+0+0");
  await dash.selectOption("select[name=timeout_s]", "600");
  await dash.click(".limits summary");
  await dash.fill("input[name=memory_mb]", "512");
  await dash.click("#create-btn");
  const row = await dash.waitForFunction((known) => {
    const tr = [...document.querySelectorAll("#sandboxes tbody tr")].find((t) => !known.includes(t.dataset.id));
    return tr && tr.dataset.state === "running" ? tr.dataset.id : null;
  }, [...before], { timeout: 60000 });
  const sid = await row.jsonValue();
  log("created", sid);
  await ask("created", { sandbox: sid, width: 1024, height: 768, memory_mb: 512, timeout_s: 600 });
  const rowText = await dash.textContent(`tr[data-id="${sid}"]`);
  if (!rowText.includes("1024 × 768")) throw new Error("the row does not show the desktop size: " + rowText);
  await shot(dash, "dashboard-created");

  // An API error is shown as the API's message: an impossible size.
  step = "create-error";
  await dash.evaluate(() => {
    const sel = document.querySelector("select[name=size]");
    sel.add(new Option("bad", "99999x99999"));
    sel.value = "99999x99999";
  });
  await dash.click("#create-btn");
  await dash.waitForSelector("#banner.error:not([hidden])", { timeout: 15000 });
  const errText = await dash.textContent("#banner .banner-text");
  log("error banner:", errText);
  if (!/bad_request/.test(errText) || !/desktop/.test(errText)) throw new Error("unclear error banner: " + errText);
  await shot(dash, "dashboard-error");
  await dash.selectOption("select[name=size]", "1280x800");

  // 3. Its viewer, from the row's link: a new tab that got the token.
  step = "viewer";
  const [viewer] = await Promise.all([
    context.waitForEvent("page"),
    dash.click(`tr[data-id="${sid}"] a[data-action=open]`),
  ]);
  watch(viewer, "viewer");
  await viewer.waitForLoadState();
  const stats = await waitForDesktop(viewer, "viewer");
  if (stats.width !== 1024 || stats.height !== 768) throw new Error(`canvas is ${stats.width}x${stats.height}, not 1024x768`);
  await shot(viewer, "viewer");

  // 4. Type into the xterm on the canvas: a file appears in the sandbox.
  step = "type";
  await clickRemote(viewer, 200, 150);
  await typeRemote(viewer, "echo from-browser > /tmp/b");
  await ask("file_has", { sandbox: sid, path: "/tmp/b", text: "from-browser\n", timeout: 20 });
  await viewer.waitForTimeout(300);
  await shot(viewer, "viewer-typed");

  // The desktop is framed: the stage around the canvas is not the
  // desktop's black, and the canvas has an edge.
  step = "frame";
  const frame = await viewer.evaluate(() => {
    const c = document.querySelector("#screen canvas"), s = document.querySelector("#screen");
    const cr = c.getBoundingClientRect(), sr = s.getBoundingClientRect();
    const bg = getComputedStyle(s).backgroundColor.match(/\d+/g).map(Number);
    return { shadow: getComputedStyle(c).boxShadow, bg, inset: Math.min(cr.left - sr.left, cr.top - sr.top,
      sr.right - cr.right, sr.bottom - cr.bottom) };
  });
  log("frame", JSON.stringify(frame));
  if (frame.shadow === "none" || frame.bg[0] + frame.bg[1] + frame.bg[2] < 90 || frame.inset < 8)
    throw new Error("the desktop is not framed: " + JSON.stringify(frame));

  // Where the agent's pointer is: the page draws it from what the server
  // reports, at that spot of the canvas however it is scaled.
  step = "pointer";
  for (const [x, y] of [[600, 400], [90, 700]]) {
    await ask("mouse_move", { sandbox: sid, x, y });
    await viewer.waitForFunction(([x, y]) => {
      const p = document.querySelector("#remote-pointer");
      return !p.hidden && p.dataset.x === String(x) && p.dataset.y === String(y);
    }, [x, y], { timeout: 15000 });
    const where = await viewer.evaluate(([x, y]) => {
      const c = document.querySelector("#screen canvas").getBoundingClientRect();
      const cw = document.querySelector("#screen canvas").width, ch = document.querySelector("#screen canvas").height;
      const p = document.querySelector("#remote-pointer").getBoundingClientRect();
      return { dx: p.left + p.width / 2 - (c.left + (x + 0.5) * c.width / cw),
               dy: p.top + p.height / 2 - (c.top + (y + 0.5) * c.height / ch) };
    }, [x, y]);
    if (Math.abs(where.dx) > 1.5 || Math.abs(where.dy) > 1.5)
      throw new Error(`the pointer mark is off its spot by ${JSON.stringify(where)}`);
  }
  await shot(viewer, "viewer-pointer");
  if (await viewer.evaluate(() => document.body.dataset.vnc) !== "connected")
    throw new Error("the viewer lost its connection over PointerPos");

  // The size label follows a resize made through the API.
  step = "resize";
  await ask("resize_display", { sandbox: sid, width: 800, height: 600 });
  await viewer.waitForFunction(() => document.querySelector("#dims").textContent === "800×600" &&
    document.querySelector("#screen canvas").width === 800, null, { timeout: 15000 });
  await shot(viewer, "viewer-resized");
  await ask("resize_display", { sandbox: sid, width: 1024, height: 768 });
  await viewer.waitForFunction(() => document.querySelector("#dims").textContent === "1024×768", null,
    { timeout: 15000 });

  // 5. Clipboard both ways.
  step = "clipboard";
  const clipOut = "to-desktop-" + Math.floor(Math.random() * 1e9) + " héllo";
  await viewer.fill("#clip-out", clipOut);
  await viewer.click("#clip-send");
  await ask("clipboard_is", { sandbox: sid, text: clipOut, timeout: 15 });
  const clipIn = "from-desktop-" + Math.floor(Math.random() * 1e9) + " wörld";
  await ask("set_clipboard", { sandbox: sid, text: clipIn });
  await viewer.waitForFunction((t) => document.querySelector("#clip-in").value === t, clipIn, { timeout: 15000 });
  // Beyond Latin-1 (noVNC's extended clipboard), lines included.
  const utfOut = "✓ 日本 " + Math.floor(Math.random() * 1e9) + "\nzweite Zeile ✓";
  await viewer.fill("#clip-out", utfOut);
  await viewer.click("#clip-send");
  await ask("clipboard_is", { sandbox: sid, text: utfOut, timeout: 15 });
  const utfIn = "日本 ✓ " + Math.floor(Math.random() * 1e9) + "\nline 2";
  await ask("set_clipboard", { sandbox: sid, text: utfIn });
  await viewer.waitForFunction((t) => document.querySelector("#clip-in").value === t, utfIn, { timeout: 15000 });

  // 6. Screenshot button: a PNG download of the desktop.
  step = "screenshot";
  const [dl] = await Promise.all([viewer.waitForEvent("download", { timeout: 20000 }), viewer.click("#shot")]);
  const dlFile = join(ARTIFACTS, "downloaded-" + dl.suggestedFilename());
  await dl.saveAs(dlFile);
  if (!isPng(readFileSync(dlFile))) throw new Error("the screenshot download is not a PNG");
  log("downloaded", dlFile);

  // 7. The terminal panel: a shell in the sandbox, output shown on the page.
  step = "terminal";
  await viewer.click("#toggle-terminal");
  await viewer.waitForFunction(() => document.querySelector("#terminal-panel").dataset.state === "connected", null, { timeout: 20000 });
  await viewer.waitForFunction(() => /\$\s*$/m.test(document.querySelector("#terminal .xterm-rows").innerText), null, { timeout: 15000 });
  const n = 1000 + Math.floor(Math.random() * 90000);
  await viewer.click("#terminal");
  await viewer.keyboard.type(`echo term-ok-$((${n}+1)) > /tmp/t; cat /tmp/t`, { delay: 5 });
  await viewer.keyboard.press("Enter");
  await viewer.waitForFunction((want) => document.querySelector("#terminal .xterm-rows").innerText.includes(want),
    `term-ok-${n + 1}`, { timeout: 15000 });
  await ask("file_has", { sandbox: sid, path: "/tmp/t", text: `term-ok-${n + 1}\n`, timeout: 10 });
  await shot(viewer, "viewer-terminal");

  // 8. The desktop restarts under the viewer: it reconnects by itself.
  step = "reconnect";
  const connects = await viewer.evaluate(() => window.deskbox.vnc.connects);
  await ask("restart_desktop", { sandbox: sid });
  await viewer.waitForFunction((n) => window.deskbox.vnc.connects > n && document.body.dataset.vnc === "connected",
    connects, { timeout: 60000 });
  await waitForDesktop(viewer, "reconnected viewer");
  await shot(viewer, "viewer-reconnected");

  // 8b. Record from the viewer, act meanwhile, stop; the recording page
  //     plays it and clicking an action seeks the video to its offset.
  step = "recording";
  await viewer.waitForSelector("#rec-toggle:not([hidden])");
  await viewer.click("#rec-toggle");
  await viewer.waitForFunction(() => document.querySelector("#rec-toggle").dataset.running, null, { timeout: 20000 });
  for (const word of ["one", "two", "three"]) {
    const r = await viewer.evaluate(async ({ sid, word }) => {
      const resp = await fetch(`/v1/sandboxes/${sid}/actions`, {
        method: "POST",
        headers: { Authorization: "Bearer " + sessionStorage.getItem("deskbox.token"), "Content-Type": "application/json" },
        body: JSON.stringify({ action: "type", text: `echo rec-${word}\n` }),
      });
      return resp.status;
    }, { sid, word });
    if (r !== 200) throw new Error("typing while recording: HTTP " + r);
    await new Promise((res) => setTimeout(res, 800));
  }
  await viewer.click("#rec-toggle");
  await viewer.waitForSelector("#rec-list a", { timeout: 30000 });
  await shot(viewer, "viewer-recordings");
  const [player] = await Promise.all([context.waitForEvent("page"), viewer.click("#rec-list a")]);
  watch(player, "recording");
  await player.waitForFunction(() => {
    const v = document.querySelector("#video");
    return v.readyState >= 2 && document.querySelectorAll("#actions li").length >= 3;
  }, null, { timeout: 30000 });
  const meta = await player.evaluate(() => {
    const v = document.querySelector("#video");
    return { w: v.videoWidth, h: v.videoHeight, d: v.duration, n: window.deskbox.actions.length,
      ops: window.deskbox.actions.map((a) => a.op) };
  });
  log("recording page", JSON.stringify(meta));
  if (meta.w !== 1024 || meta.h !== 768 || !(meta.d > 2)) throw new Error("the video does not play: " + JSON.stringify(meta));
  const typed = await player.evaluate(() => window.deskbox.actions
    .map((a, i) => ({ i, op: a.op, at: a.offset_ms })).filter((a) => a.op === "desktop.actions"));
  if (typed.length !== 3) throw new Error("the log lacks the typed actions: " + JSON.stringify(typed));
  for (const [sel, a] of [[`#actions button[data-index="${typed[1].i}"]`, typed[1]],
    [`#timeline button:nth-child(${typed[2].i + 1})`, typed[2]]]) {
    await player.click(sel);
    await player.waitForFunction((want) => {
      const v = document.querySelector("#video");
      return !v.seeking && Math.abs(v.currentTime - want) < 0.05;
    }, a.at / 1000, { timeout: 10000 });
    const cur = await player.evaluate(() => ({
      t: document.querySelector("#video").currentTime,
      row: [...document.querySelectorAll("#actions li")].findIndex((li) => li.classList.contains("current")),
    }));
    log("clicked", sel, "->", JSON.stringify(cur));
    if (cur.row !== a.i) throw new Error(`the clicked action is not highlighted: ${JSON.stringify(cur)}`);
  }
  await shot(player, "recording-page");
  await player.close();

  // 9. Share a view-only link; open it in a fresh tab (no API token there).
  step = "share";
  await viewer.click("#share");
  await viewer.waitForSelector("#share-url:not([hidden])", { timeout: 15000 });
  const link = await viewer.inputValue("#share-url");
  log("share link", link);
  if (!link.includes("view_only=1") || !link.includes("token=")) throw new Error("unexpected share link " + link);
  await shot(viewer, "viewer-shared");

  step = "view-only";
  const ro = await context.newPage();
  watch(ro, "view-only");
  await ro.goto(link);
  await waitForDesktop(ro, "view-only viewer");
  if (ro.url().includes("token=")) throw new Error("the viewer token is still in the address bar");
  const ui = await ro.evaluate(() => ({
    mode: document.body.dataset.mode,
    checked: document.querySelector("#viewonly").checked,
    locked: document.querySelector("#viewonly").disabled,
    terminal: !document.querySelector("#toggle-terminal").hidden,
    share: !document.querySelector("#share-section").hidden,
  }));
  log("view-only page", JSON.stringify(ui));
  if (!ui.checked || !ui.locked) throw new Error("view only is not locked on: " + JSON.stringify(ui));
  if (ui.terminal || ui.share) throw new Error("terminal or share offered to a view-only link: " + JSON.stringify(ui));
  await shot(ro, "viewonly");
  // Unlock it by force (the server must still refuse input), click and type.
  await ro.evaluate(() => {
    const b = document.querySelector("#viewonly");
    b.disabled = false;
    b.checked = false;
    b.dispatchEvent(new Event("change"));
  });
  await clickRemote(ro, 200, 150);
  await typeRemote(ro, "echo from-viewonly > /tmp/v");
  await ask("file_absent", { sandbox: sid, path: "/tmp/v", wait: 3 });
  // Its screenshot button still works (from the viewer's canvas if REST refuses the token).
  const [dl2] = await Promise.all([ro.waitForEvent("download", { timeout: 20000 }), ro.click("#shot")]);
  const dl2File = join(ARTIFACTS, "downloaded-viewonly-" + dl2.suggestedFilename());
  await dl2.saveAs(dl2File);
  if (!isPng(readFileSync(dl2File))) throw new Error("the view-only screenshot is not a PNG");
  await shot(ro, "viewonly-forced");
  await ro.close();

  // Viewer addresses that name no sandbox say so.
  step = "unknown-id";
  const lost = await context.newPage();
  watch(lost, "unknown-id");
  for (const [q, big, detail] of [
    ["?id=doesnotexist", "No such sandbox", /doesnotexist.*not a sandbox id/],
    ["?id=" + "0".repeat(32) + "&token=" + encodeURIComponent(TOKEN), "No such sandbox", /no sandbox 00000000/],
    ["", "No sandbox given", /dashboard/],
  ]) {
    await lost.goto(`${BASE}/viewer.html${q}`);
    await lost.waitForFunction(() => document.querySelector("#conn").dataset.state === "error", null, { timeout: 15000 });
    const o = await lost.evaluate(() => ({ big: document.querySelector("#overlay-text").textContent,
      detail: document.querySelector("#overlay-detail").textContent }));
    log("viewer" + redact(q), JSON.stringify(o));
    if (o.big !== big || !detail.test(o.detail)) throw new Error(`viewer.html${q} says ${JSON.stringify(o)}`);
  }
  await shot(lost, "viewer-unknown-id");
  await lost.close();

  // 10. Destroy from the dashboard (two clicks), the viewer notices.
  step = "destroy";
  await viewer.click("#toggle-terminal");   // hide it; the session stays
  await dash.bringToFront();
  const btn = `tr[data-id="${sid}"] button[data-action=destroy]`;
  await dash.click(btn);
  await dash.waitForSelector(`${btn}.armed`);
  await dash.click(btn);
  await dash.waitForSelector(`tr[data-id="${sid}"]`, { state: "detached", timeout: 60000 });
  await ask("gone", { sandbox: sid });
  await shot(dash, "dashboard-destroyed");
  await viewer.waitForFunction(() => /gone/.test(document.querySelector("#overlay-text").textContent), null, { timeout: 30000 });
  await shot(viewer, "viewer-gone");
}

// ---------------------------------------------------------------- main

let context;
let status = 0;
const guard = setTimeout(() => {
  console.error(`e2e.mjs: no end after ${TOTAL_MS / 1000}s (at step ${step})`);
  process.exit(3);
}, TOTAL_MS);
try {
  context = await chromium.launchPersistentContext(PROFILE, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1400, height: 900 },
    args: [
      "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  await run(context);
  log("all steps passed");
} catch (e) {
  status = 1;
  console.error(`e2e.mjs: FAILED at step ${step}: ${e && e.stack || e}`);
  let i = 0;
  for (const p of pages) {
    try {
      await p.screenshot({ path: join(ARTIFACTS, `failure-${step}-${++i}.png`) });
    } catch { /* page gone */ }
  }
} finally {
  if (context) await context.close().catch(() => {});
  clearTimeout(guard);
  rl.close();
}
process.exit(status);
