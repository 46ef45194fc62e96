// viewer.js - one sandbox's desktop in the browser (noVNC), a terminal
// (xterm.js over the PTY WebSocket), clipboard, screenshots and share links.
//
//   viewer.html?id=ID                 the API token from this tab's sessionStorage
//   viewer.html?id=ID&token=TOKEN     the API token, or a viewer token
//                                     (POST /v1/sandboxes/ID/viewer-tokens)
//   ...&view_only=1                   the link is view-only: the switch is locked on
//
// The token and view_only are taken out of the address bar at once and kept
// in sessionStorage, so a reload still works and the address can be copied
// without the secret.
//
// Which kind of token a ?token= is, is found by asking GET /v1/sandboxes/ID
// with it: 200 (or 404) means an API token; 401/403 a viewer token, which
// only /vnc (and, unless view-only, /pty) take. With a viewer token the page
// degrades: no sharing, screenshots come from the viewer's own canvas when
// the REST call is refused, and the terminal is hidden if /pty refuses it.
//
// deskboxd does the authentication (?token= on the WebSocket URLs, since a
// browser cannot set headers there); VNC itself runs with security None.
//
// Where the sandbox's pointer is (moved by an agent, say) is drawn by this
// page, #remote-pointer: noVNC shows only the cursor's shape, under the
// local mouse. The server sends the position as the standard PointerPos
// pseudo-encoding, which noVNC 1.7 neither asks for nor parses; ViewerRFB
// below adds both (pinned to the noVNC in package.json, checked by the
// browser test), and also reports framebuffer resizes for the size label.

import RFB from "./vendor/novnc/core/rfb.js";
import {
  ApiError, api, authed, describeError, getToken, h, setToken, shortId, takeUrlParams,
} from "./api.js";

const $ = (sel) => document.querySelector(sel);
const POINTER_POS = -232;   // RFB pseudo-encoding: the rectangle's x, y is the pointer

class ViewerRFB extends RFB {
  _sendEncodings() {
    const send = RFB.messages.clientEncodings;
    RFB.messages.clientEncodings = (sock, encs) => send.call(RFB.messages, sock, [...encs, POINTER_POS]);
    try {
      super._sendEncodings();
    } finally {
      RFB.messages.clientEncodings = send;
    }
  }

  _handleRect() {
    if (this._FBU.encoding !== POINTER_POS) return super._handleRect();
    this.dispatchEvent(new CustomEvent("pointerpos", { detail: { x: this._FBU.x, y: this._FBU.y } }));
    return true;
  }

  _resize(width, height) {
    super._resize(width, height);
    this.dispatchEvent(new CustomEvent("fbresize", { detail: { width, height } }));
  }
}
const sid = new URL(location.href).searchParams.get("id") || "";
const path = "/v1/sandboxes/" + encodeURIComponent(sid);
const VIEWER_KEY = "deskbox.viewer." + sid;

const auth = { mode: "api", token: "", viewOnly: false };  // mode: api | viewer
const vnc = { rfb: null, connects: 0, attempt: 0, timer: 0, connectedAt: 0, everConnected: false, stopped: false, retryAt: 0 };
const pointer = { x: -1, y: -1 };   // the sandbox's pointer, remote pixels; -1: not known
let sandbox = null;    // last GET of the sandbox (API mode only)

// ---------------------------------------------------------------- ui helpers

function setConn(state, text) {
  const c = $("#conn");
  c.dataset.state = state;
  c.textContent = text;
}

function overlay(text, detail, retry) {
  const o = $("#overlay");
  if (text === null) {
    o.hidden = true;
    return;
  }
  o.hidden = false;
  $("#overlay-text").textContent = text;
  $("#overlay-detail").textContent = detail || "";
  $("#retry").hidden = !retry;
}

let toastTimer = 0;
function toast(content, { error = false, ms = 5000 } = {}) {
  let t = document.querySelector(".toast");
  if (!t) {
    t = document.createElement("div");
    t.setAttribute("role", "status");
    document.body.append(t);
  }
  t.className = "toast" + (error ? " error" : "");
  t.replaceChildren(...(Array.isArray(content) ? content : [content]));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.remove(), ms);
}

function saveViewer() {
  try {
    sessionStorage.setItem(VIEWER_KEY, JSON.stringify({ token: auth.token, viewOnly: auth.viewOnly }));
  } catch { /* no storage: this page load only */ }
}

function loadViewer() {
  try {
    const v = JSON.parse(sessionStorage.getItem(VIEWER_KEY) || "null");
    return v && typeof v.token === "string" && v.token ? v : null;
  } catch {
    return null;
  }
}

function wsUrl(kind) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const token = auth.mode === "viewer" ? auth.token : getToken();
  return `${proto}//${location.host}${path}/${kind}?token=${encodeURIComponent(token)}`;
}

// A REST call with whatever token this page has. In API mode a 401 asks for
// the token again; in viewer mode the ApiError goes to the caller.
function call(method, p, opts = {}) {
  return auth.mode === "api" ? authed(method, p, opts) : api(method, p, { ...opts, token: auth.token });
}

// ---------------------------------------------------------------- auth

async function resolveAuth(taken) {
  const hintViewOnly = /^(1|true|yes)$/i.test(taken.view_only || "");
  if (taken.token && taken.token !== getToken()) {
    for (let tries = 0; ; tries++) {
      try {
        sandbox = await api("GET", path, { token: taken.token });
        setToken(taken.token);
        break;
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) {
          setToken(taken.token);   // it got past auth: an API token
          break;
        }
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
          auth.mode = "viewer";
          auth.token = taken.token;
          auth.viewOnly = hintViewOnly;
          saveViewer();
          break;
        }
        overlay("Cannot reach deskboxd", describeError(e), false);
        await new Promise((r) => setTimeout(r, Math.min(5000, 500 * 2 ** tries)));
      }
    }
  } else if (!taken.token) {
    const v = loadViewer();
    if (v) {
      auth.mode = "viewer";
      auth.token = v.token;
      auth.viewOnly = !!v.viewOnly;
    }
  }
  if (auth.mode === "api" && hintViewOnly) auth.viewOnly = true;
}

// API mode: the sandbox as the server sees it; null when it is gone.
async function fetchSandbox() {
  if (auth.mode !== "api") return undefined;
  try {
    sandbox = await authed("GET", path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) sandbox = null;
    else throw e;
  }
  if (!vnc.rfb || document.body.dataset.vnc !== "connected") {
    const d = sandbox && (sandbox.display || (sandbox.desktop && sandbox.desktop.display));
    showDims(d);
  }
  return sandbox;
}

// The desktop's size: from the API until the viewer connects, then from
// the framebuffer, which follows every resize.
function showDims(d) {
  $("#dims").textContent = d ? `${d.width}×${d.height}` : "";
}

// #remote-pointer over the canvas at the sandbox's pointer, wherever the
// canvas is (scaled to fit, scrolled, letterboxed).
function placePointer() {
  const el = $("#remote-pointer");
  const c = document.querySelector("#screen canvas");
  if (!vnc.rfb || document.body.dataset.vnc !== "connected" || pointer.x < 0 || !c || !c.width) {
    el.hidden = true;
    return;
  }
  const r = c.getBoundingClientRect();
  const s = $("#screen").getBoundingClientRect();
  const x = r.left - s.left + (pointer.x + 0.5) * (r.width / c.width);
  const y = r.top - s.top + (pointer.y + 0.5) * (r.height / c.height);
  el.style.transform = `translate(${x}px, ${y}px)`;
  el.dataset.x = pointer.x;
  el.dataset.y = pointer.y;
  el.hidden = false;
}

// ---------------------------------------------------------------- VNC

function applySettings() {
  if (!vnc.rfb) return;
  vnc.rfb.scaleViewport = $("#fit").checked;
  vnc.rfb.clipViewport = false;
  vnc.rfb.viewOnly = $("#viewonly").checked;
}

function connectVnc() {
  clearTimeout(vnc.timer);
  vnc.timer = 0;
  if (vnc.stopped) return;
  if (vnc.rfb) {
    // An old connection still around: let its disconnect handler see it is stale.
    const old = vnc.rfb;
    vnc.rfb = null;
    try { old.disconnect(); } catch { /* already gone */ }
  }
  setConn("connecting", "connecting");
  overlay(vnc.everConnected ? "Reconnecting…" : "Connecting…", "", false);
  let rfb;
  try {
    rfb = new ViewerRFB($("#screen"), wsUrl("vnc"), { wsProtocols: ["binary"], shared: true });
  } catch (e) {
    setConn("error", "error");
    overlay("Cannot start the viewer", String(e && e.message || e), true);
    return;
  }
  vnc.rfb = rfb;
  rfb.background = "transparent";   // the stage's own, so the desktop's edge shows
  rfb.focusOnClick = true;
  rfb.qualityLevel = 7;
  rfb.compressionLevel = 2;
  applySettings();
  rfb.addEventListener("connect", () => {
    if (vnc.rfb !== rfb) return;
    vnc.connectedAt = Date.now();
    vnc.everConnected = true;
    vnc.connects++;
    setConn("connected", "connected");
    overlay(null);
    document.body.dataset.vnc = "connected";
    showDims({ width: rfb._fbWidth, height: rfb._fbHeight });
    placePointer();
    rfb.focus();
  });
  rfb.addEventListener("disconnect", (ev) => {
    if (vnc.rfb !== rfb) return;
    vnc.rfb = null;
    document.body.dataset.vnc = "disconnected";
    placePointer();
    onVncLost(ev.detail && ev.detail.clean);
  });
  rfb.addEventListener("pointerpos", (ev) => {
    if (vnc.rfb !== rfb) return;
    pointer.x = ev.detail.x;
    pointer.y = ev.detail.y;
    placePointer();
  });
  rfb.addEventListener("fbresize", (ev) => {
    if (vnc.rfb !== rfb) return;
    showDims(ev.detail);
    requestAnimationFrame(placePointer);   // after noVNC has rescaled
  });
  rfb.addEventListener("clipboard", (ev) => {
    $("#clip-in").value = ev.detail.text;
    $("#clip-received").textContent = "received " + new Date().toLocaleTimeString();
  });
  rfb.addEventListener("desktopname", (ev) => {
    if (ev.detail && ev.detail.name) document.title = `${ev.detail.name} · deskbox`;
  });
  rfb.addEventListener("credentialsrequired", () => {
    // deskboxd serves VNC with security None; asking for a password means
    // something else answered.
    vnc.stopped = true;
    rfb.disconnect();
    setConn("error", "error");
    overlay("The VNC server asked for a password", "deskboxd should not: check the server version.", false);
  });
  rfb.addEventListener("securityfailure", (ev) => {
    toast("VNC security failure: " + (ev.detail.reason || ev.detail.status), { error: true });
  });
}

async function onVncLost(clean) {
  if (vnc.stopped) return;
  // A connection that held for a while starts the backoff over.
  if (vnc.connectedAt && Date.now() - vnc.connectedAt > 10000) vnc.attempt = 0;
  vnc.connectedAt = 0;
  setConn("retrying", "disconnected");
  let detail = "";
  // Is the sandbox still there? (API mode: ask; 401 asks for the token.)
  if (auth.mode === "api") {
    try {
      const sb = await fetchSandbox();
      if (sb === null) {
        sandboxGone("The sandbox is gone", "It was destroyed or expired.");
        return;
      }
      if (sb.state !== "running") {
        // stopping (next time it is a 404), starting, failed: look again soon.
        detail = `The sandbox is ${sb.state}${sb.error ? ": " + sb.error : ""}.`;
      } else if (sb.desktop === false) {
        stopVnc("This sandbox has no desktop", "It was created without one; the terminal still works.");
        return;
      } else if (sb.desktop && sb.desktop.state && sb.desktop.state !== "running") {
        detail = `The desktop is ${sb.desktop.state}${sb.desktop.error ? ": " + sb.desktop.error : ""}.`;
      }
    } catch (e) {
      detail = describeError(e) + ".";   // the server is down or restarting: keep trying
    }
    if (vnc.stopped || vnc.rfb) return;   // "Reconnect now" was pressed meanwhile
  } else if (!vnc.everConnected && vnc.attempt >= 2) {
    detail = "The link may have expired, or the sandbox is gone.";
  }
  const delay = Math.min(15000, 500 * 2 ** vnc.attempt) * (0.8 + Math.random() * 0.4);
  vnc.attempt++;
  vnc.retryAt = Date.now() + delay;
  const countdown = () => {
    const left = Math.max(0, Math.ceil((vnc.retryAt - Date.now()) / 1000));
    setConn("retrying", `retrying in ${left}s`);
    overlay(vnc.everConnected ? "Disconnected" : "Cannot connect", (detail ? detail + " " : "") +
      `Retrying in ${left}s.`, true);
  };
  countdown();
  const tick = setInterval(() => {
    if (vnc.rfb || vnc.stopped) return clearInterval(tick);
    countdown();
  }, 1000);
  vnc.timer = setTimeout(() => {
    clearInterval(tick);
    connectVnc();
  }, delay);
}

// The sandbox is no more: stop everything that would talk to it.
function sandboxGone(text, detail) {
  stopVnc(text, detail);
  for (const sel of ["#shot", "#share", "#clip-send", "#toggle-terminal", "#fit", "#viewonly"]) {
    $(sel).disabled = true;
  }
  if (auth.mode === "api") $("#overlay-home").hidden = false;
  document.body.dataset.gone = "1";
}

function stopVnc(text, detail) {
  vnc.stopped = true;
  clearTimeout(vnc.timer);
  if (vnc.rfb) {
    const r = vnc.rfb;
    vnc.rfb = null;
    r.disconnect();
  }
  setConn("error", text.toLowerCase());
  overlay(text, detail, false);
}

// ---------------------------------------------------------------- view only

function setupViewOnly() {
  const box = $("#viewonly");
  if (auth.viewOnly) {
    box.checked = true;
    box.disabled = true;
    $("#lock").hidden = false;
    $("#viewonly-label").classList.add("locked");
    $("#viewonly-label").title = "This link is view-only";
  }
  box.addEventListener("change", () => {
    applySettings();
    updateClipboardControls();
    if (!box.checked && vnc.rfb) vnc.rfb.focus();
  });
  $("#fit").addEventListener("change", () => {
    applySettings();
    requestAnimationFrame(placePointer);
  });
}

// ---------------------------------------------------------------- clipboard

function updateClipboardControls() {
  const ro = $("#viewonly").checked;
  $("#clip-send").disabled = ro;
  $("#clip-out").disabled = ro;
  $("#clip-out").placeholder = ro ? "View only: nothing is sent" : "Type or paste here, then Send";
}

function setupClipboard() {
  $("#clip-send").addEventListener("click", () => {
    const text = $("#clip-out").value;
    if (!vnc.rfb || document.body.dataset.vnc !== "connected") {
      $("#clip-sent").textContent = "not connected";
      return;
    }
    vnc.rfb.clipboardPasteFrom(text);
    $("#clip-sent").textContent = "sent " + new Date().toLocaleTimeString();
  });
  $("#clip-copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("#clip-in").value);
      $("#clip-received").textContent = "copied";
    } catch {
      $("#clip-in").select();
    }
  });
  updateClipboardControls();
}

// ---------------------------------------------------------------- screenshot

function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.textContent = "Download again";
  document.body.append(a);
  a.click();
  a.remove();
  const again = a.cloneNode(true);
  toast([`Saved ${name} `, again], { ms: 8000 });
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function canvasBlob() {
  return new Promise((resolve, reject) => {
    if (!vnc.rfb || document.body.dataset.vnc !== "connected") {
      reject(new Error("the viewer is not connected"));
      return;
    }
    vnc.rfb.toBlob((b) => (b ? resolve(b) : reject(new Error("no image"))), "image/png");
  });
}

async function screenshot() {
  const btn = $("#shot");
  btn.disabled = true;
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").replace("Z", "");
  const name = `deskbox-${shortId(sid)}-${stamp}.png`;
  try {
    let blob;
    try {
      blob = await call("GET", path + "/screenshot?format=png", { as: "blob" });
    } catch (e) {
      // A viewer token may not be good for REST: take the viewer's canvas.
      if (!(e instanceof ApiError && (e.status === 401 || e.status === 403))) throw e;
      blob = await canvasBlob();
    }
    download(blob, name);
  } catch (e) {
    toast(describeError(e, "Screenshot failed"), { error: true });
  } finally {
    btn.disabled = false;
  }
}

// ---------------------------------------------------------------- share

async function share() {
  const btn = $("#share");
  const control = $("#share-control").checked;
  btn.disabled = true;
  $("#share-note").textContent = "";
  $("#share-note").classList.remove("error");
  try {
    const res = await call("POST", path + "/viewer-tokens", {
      body: { view_only: !control, ttl_s: Number($("#share-ttl").value) },
    });
    // Built here rather than taken from res.url: this page knows the scheme
    // and host the browser really uses (a TLS proxy in front, say).
    const u = new URL("viewer.html", location.href);
    u.search = "";
    u.searchParams.set("id", sid);
    u.searchParams.set("token", res.token);
    if (res.view_only) u.searchParams.set("view_only", "1");
    $("#share-url").value = u.href;
    $("#share-url").hidden = false;
    $("#share-copy").hidden = false;
    $("#share-url").select();
    const exp = res.expires_at ? new Date(res.expires_at) : null;
    $("#share-note").textContent = (res.view_only ? "View-only" : "Full control") +
      (exp ? ", until " + exp.toLocaleString() : "");
  } catch (e) {
    $("#share-note").textContent = describeError(e, "Cannot make a link");
    $("#share-note").classList.add("error");
  } finally {
    btn.disabled = false;
  }
}

function setupShare() {
  if (auth.mode === "viewer") {
    // Making links takes the API token.
    $("#share-section").hidden = true;
    return;
  }
  const label = () => {
    $("#share").textContent = $("#share-control").checked ? "Share control link" : "Share view-only link";
  };
  $("#share-control").addEventListener("change", label);
  $("#share").addEventListener("click", share);
  $("#share-copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("#share-url").value);
      $("#share-note").textContent = "Link copied.";
    } catch {
      $("#share-url").select();
    }
  });
  label();
}

// ---------------------------------------------------------------- recordings

// The sandbox's recordings, each linked to recording.html (the video with
// its action log; opened with rel=opener so the new tab gets this one's
// sessionStorage, tokens included, as the dashboard's viewer links do);
// Record starts one, Stop finalizes it.
const recs = { list: [], timer: 0 };

function recLink(r) {
  return "recording.html?id=" + encodeURIComponent(sid) + "&rec=" + encodeURIComponent(r.id);
}

async function refreshRecordings() {
  clearTimeout(recs.timer);
  try {
    recs.list = (await call("GET", path + "/recordings")).recordings || [];
  } catch (e) {
    $("#rec-note").textContent = describeError(e, "Cannot list recordings");
    return;
  }
  const running = recs.list.find((r) => r.state === "recording" || r.state === "stopping");
  $("#rec-toggle").textContent = running ? "Stop recording" : "Record";
  $("#rec-toggle").dataset.running = running ? running.id : "";
  $("#rec-list").replaceChildren(...recs.list.slice().reverse().map((r) => h("li", {},
    r.state === "stopped" ? h("a", { href: recLink(r), target: "_blank", rel: "opener" }, r.id)
      : h("span", {}, r.id),
    h("span", { class: "muted" }, `${r.state}, ${Math.round(r.duration_ms / 1000)} s, ` +
      `${Math.round(r.bytes / 1024)} KiB`))));
  if (running) recs.timer = setTimeout(refreshRecordings, 2000);
}

async function toggleRecording() {
  const btn = $("#rec-toggle");
  const running = btn.dataset.running;
  btn.disabled = true;
  $("#rec-note").textContent = "";
  try {
    if (running) await call("POST", path + "/recordings/" + running + "/stop", { body: {} });
    else await call("POST", path + "/recordings", { body: { fps: 10 } });
  } catch (e) {
    $("#rec-note").textContent = describeError(e, running ? "Cannot stop" : "Cannot record");
  } finally {
    btn.disabled = false;
  }
  await refreshRecordings();
}

function setupRecordings() {
  // A view-only token may watch recordings but not make them.
  $("#rec-toggle").hidden = auth.viewOnly && auth.mode === "viewer";
  $("#rec-toggle").addEventListener("click", toggleRecording);
  refreshRecordings();
}

// ---------------------------------------------------------------- terminal

const term = { xterm: null, fit: null, ws: null, opened: false, everOpened: false, fitTimer: 0 };
const encoder = new TextEncoder();

function termState(text) {
  $("#term-state").textContent = text;
  $("#terminal-panel").dataset.state = text;
}

function sendResize() {
  if (term.ws && term.ws.readyState === WebSocket.OPEN && term.xterm) {
    term.ws.send(JSON.stringify({ type: "resize", cols: term.xterm.cols, rows: term.xterm.rows }));
  }
}

function fitTerminal() {
  clearTimeout(term.fitTimer);
  term.fitTimer = setTimeout(() => {
    if (!term.xterm || $("#terminal-panel").hidden) return;
    try {
      term.fit.fit();
    } catch { /* not laid out yet */ }
    sendResize();
  }, 50);
}

async function createTerminal() {
  const [{ Terminal }, { FitAddon }] = await Promise.all([
    import("./vendor/xterm/xterm.js"),
    import("./vendor/xterm/addon-fit.js"),
  ]);
  const x = new Terminal({
    cursorBlink: true,
    fontFamily: '"DejaVu Sans Mono", "Noto Sans Mono", ui-monospace, monospace',
    fontSize: 13,
    scrollback: 5000,
    allowProposedApi: false,
    theme: { background: "#0b0e14", foreground: "#dfe4ee", cursor: "#7aa7ff", selectionBackground: "#2f4a80" },
  });
  const fit = new FitAddon();
  x.loadAddon(fit);
  x.open($("#terminal"));
  term.xterm = x;
  term.fit = fit;
  x.onData((d) => {
    if (term.ws && term.ws.readyState === WebSocket.OPEN) term.ws.send(encoder.encode(d));
  });
  // Bytes that are not UTF-8 text (some mouse reports): one char = one byte.
  x.onBinary((d) => {
    if (term.ws && term.ws.readyState === WebSocket.OPEN) {
      term.ws.send(Uint8Array.from(d, (c) => c.charCodeAt(0) & 255));
    }
  });
  x.onResize(() => sendResize());
  new ResizeObserver(fitTerminal).observe($("#terminal"));
  fitTerminal();
}

function connectPty() {
  if (term.ws) return;
  termState("connecting");
  $("#term-reconnect").hidden = true;
  let ws;
  try {
    ws = new WebSocket(wsUrl("pty"));
  } catch (e) {
    termState("error: " + e.message);
    return;
  }
  ws.binaryType = "arraybuffer";
  term.ws = ws;
  let opened = false;
  ws.onopen = () => {
    opened = true;
    term.everOpened = true;
    termState("connected");
    try { term.fit.fit(); } catch { /* not laid out */ }
    sendResize();
    term.xterm.focus();
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data === "string") return;   // control messages: none defined yet
    term.xterm.write(new Uint8Array(ev.data));
  };
  ws.onclose = async () => {
    if (term.ws !== ws) return;
    term.ws = null;
    if (opened) {
      termState("session ended");
      term.xterm.write("\r\n\x1b[2m[session ended]\x1b[0m\r\n");
      $("#term-reconnect").hidden = false;
      return;
    }
    // Refused at the handshake.
    if (auth.mode === "viewer") {
      termUnavailable("The terminal is not available with this link.");
      return;
    }
    let why = "could not connect";
    try {
      const sb = await fetchSandbox();
      if (sb === null) why = "the sandbox is gone";
      else if (sb && sb.state !== "running") why = "the sandbox is " + sb.state;
    } catch (e) {
      why = describeError(e);
    }
    termState(why);
    $("#term-reconnect").hidden = false;
  };
}

function termUnavailable(msg) {
  $("#terminal-panel").hidden = true;
  $("#toggle-terminal").hidden = true;
  $("#toggle-terminal").setAttribute("aria-pressed", "false");
  if (term.everOpened || msg) toast(msg || "The terminal is not available.", { error: true });
}

async function showTerminal(show) {
  $("#terminal-panel").hidden = !show;
  $("#toggle-terminal").setAttribute("aria-pressed", String(show));
  try {
    localStorage.setItem("deskbox.viewer.terminal", show ? "1" : "0");
  } catch { /* fine */ }
  if (!show) {
    if (vnc.rfb) vnc.rfb.focus();
    return;
  }
  if (!term.xterm) {
    try {
      await createTerminal();
    } catch (e) {
      termUnavailable("Cannot load the terminal: " + e.message);
      return;
    }
  }
  fitTerminal();
  if (!term.ws) connectPty();
  else term.xterm.focus();
}

function setupTerminal() {
  if (auth.viewOnly) {
    // deskboxd gives a view-only token no shell.
    $("#toggle-terminal").hidden = true;
    return;
  }
  $("#toggle-terminal").addEventListener("click", () => showTerminal($("#terminal-panel").hidden));
  $("#term-hide").addEventListener("click", () => showTerminal(false));
  $("#term-reconnect").addEventListener("click", () => {
    if (term.xterm) term.xterm.write("\r\n\x1b[2m[new session]\x1b[0m\r\n");
    connectPty();
  });
  let want = false;
  try {
    want = localStorage.getItem("deskbox.viewer.terminal") === "1";
  } catch { /* fine */ }
  if (want) showTerminal(true);
}

// ---------------------------------------------------------------- start

function setupChrome() {
  $("#sbid").textContent = shortId(sid);
  $("#sbid").title = sid;
  document.title = `${shortId(sid)} · deskbox`;
  $("#retry").addEventListener("click", () => {
    vnc.attempt = 0;
    vnc.stopped = false;
    connectVnc();
  });
  $("#shot").addEventListener("click", screenshot);
  // noVNC rescales the canvas on its own resize observer, in a later frame.
  new ResizeObserver(() => setTimeout(placePointer, 50)).observe($("#screen"));
  $("#screen").addEventListener("scroll", placePointer, true);
  $("#toggle-side").addEventListener("click", () => {
    const side = $("#side");
    side.hidden = !side.hidden;
    $("#toggle-side").setAttribute("aria-pressed", String(!side.hidden));
  });
  if (auth.mode === "viewer") {
    $("#home").removeAttribute("href");   // the dashboard needs the API token
    document.body.dataset.mode = "viewer";
  } else {
    document.body.dataset.mode = "api";
  }
}

async function main() {
  const taken = takeUrlParams("token", "view_only");
  if (!sid || !/^[0-9a-f]{8,64}$/i.test(sid)) {
    if (!sid) {
      sandboxGone("No sandbox given", "Open a viewer from the dashboard, or add ?id=SANDBOX_ID to the address.");
    } else {
      sandboxGone("No such sandbox", `“${sid.length > 80 ? sid.slice(0, 80) + "…" : sid}” is not a sandbox id ` +
        "(ids are hexadecimal, as the dashboard lists them).");
    }
    setConn("error", "no sandbox");
    document.querySelector(".brand").focus();
    return;
  }
  await resolveAuth(taken);
  setupChrome();
  setupViewOnly();
  setupClipboard();
  setupShare();
  setupRecordings();
  if (auth.mode === "api") {
    try {
      const sb = await fetchSandbox();
      if (sb === null) {
        sandboxGone("No such sandbox", `There is no sandbox ${shortId(sid)}…: it was destroyed, ` +
          "it expired, or the id is wrong.");
        return;
      }
      if (sb && sb.state === "running" && sb.desktop === false) {
        stopVnc("This sandbox has no desktop", "It was created without one; the terminal still works.");
        setupTerminal();
        return;
      }
    } catch (e) {
      toast(describeError(e, "Cannot read the sandbox"), { error: true });
    }
  }
  setupTerminal();   // after the check: no shell is asked of a sandbox that is not there
  connectVnc();
}

// For tests and the devtools console.
window.deskbox = { auth, vnc, term, pointer, get sandbox() { return sandbox; } };

main();
