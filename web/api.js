// api.js - what the dashboard and the viewer share: the API token, calls to
// deskboxd's REST API, error messages, the token prompt, small formatters.
//
// The token lives in sessionStorage (this tab only, gone when it closes). A
// ?token= in the address is taken, stored and removed from the address bar
// (history.replaceState), so it does not linger in the history or in a
// copied URL.

const TOKEN_KEY = "deskbox.token";

export class ApiError extends Error {
  constructor(status, code, message, method, path) {
    super(message);
    this.status = status;      // HTTP status, 0 when the server was not reached
    this.code = code;          // the API's error code ("not_found", ...)
    this.method = method;
    this.path = path;
  }
}

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return "";
  }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the token lives as long as the page */
  }
}

// Remove names from the address bar's query string; returns their values.
export function takeUrlParams(...names) {
  const url = new URL(location.href);
  const out = {};
  let changed = false;
  for (const n of names) {
    if (url.searchParams.has(n)) {
      out[n] = url.searchParams.get(n);
      url.searchParams.delete(n);
      changed = true;
    }
  }
  if (changed) history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  return out;
}

// One REST call. body: an object (sent as JSON) or undefined. Answers the
// decoded JSON (null for 204), or a Blob when as === "blob". Throws ApiError.
export async function api(method, path, { body, token = getToken(), as = "json", signal } = {}) {
  const headers = {};
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      signal,
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "network", "cannot reach deskboxd (" + e.message + ")", method, path);
  }
  if (!resp.ok) {
    let code = "http_" + resp.status;
    let message = resp.statusText || "request failed";
    try {
      const j = await resp.json();
      if (j && j.error) {
        code = j.error.code || code;
        message = j.error.message || message;
      }
    } catch {
      /* not JSON: keep the status line */
    }
    throw new ApiError(resp.status, code, message, method, path);
  }
  if (resp.status === 204) return null;
  if (as === "blob") return resp.blob();
  const text = await resp.text();
  return text ? JSON.parse(text) : null;
}

// "Sandbox creation failed: no sandbox with id … (not_found, 404)"
export function describeError(e, what) {
  if (e instanceof ApiError) {
    const where = e.status ? `${e.code}, HTTP ${e.status}` : e.code;
    return `${what ? what + ": " : ""}${e.message} (${where})`;
  }
  return `${what ? what + ": " : ""}${e && e.message ? e.message : e}`;
}

// The token dialog, made once per page (every page that talks to the API
// shares it, so its markup lives here rather than in each page).
function tokenDialog() {
  let dlg = document.getElementById("token-dialog");
  if (dlg) return dlg;
  dlg = document.createElement("dialog");
  dlg.id = "token-dialog";
  dlg.className = "token-dialog";
  dlg.innerHTML = `<form method="dialog">
    <h2>API token</h2>
    <p class="reason" hidden></p>
    <p class="muted">deskboxd prints it at its first start and keeps it in <code>STATE_DIR/token</code>.
      It is kept in this browser tab only (sessionStorage).</p>
    <input name="token" type="password" autocomplete="off" spellcheck="false" placeholder="token" required>
    <div class="actions"><button type="button" class="cancel ghost" hidden>Cancel</button><button type="submit" class="primary">Save</button></div>
  </form>`;
  document.body.appendChild(dlg);
  return dlg;
}

// Ask for the token. Resolves with the entered token once saved (it is
// stored in sessionStorage), or null when cancellable and cancelled (Escape
// or Cancel).
let pendingPrompt = null;
export function promptToken(reason, { cancellable = false } = {}) {
  if (pendingPrompt) return pendingPrompt;
  const dlg = tokenDialog();
  const form = dlg.querySelector("form");
  const input = dlg.querySelector("input[name=token]");
  const why = dlg.querySelector(".reason");
  const cancel = dlg.querySelector("button.cancel");
  why.textContent = reason || "";
  why.hidden = !reason;
  input.value = "";
  if (cancel) cancel.hidden = !cancellable;
  pendingPrompt = new Promise((resolve) => {
    const done = (value) => {
      form.removeEventListener("submit", onSubmit);
      dlg.removeEventListener("cancel", onCancel);
      if (cancel) cancel.removeEventListener("click", onCancel);
      dlg.close();
      pendingPrompt = null;
      resolve(value);
    };
    const onSubmit = (ev) => {
      ev.preventDefault();
      const t = input.value.trim();
      if (!t) {
        input.focus();
        return;
      }
      setToken(t);
      done(t);
    };
    // Without a token the page can do nothing: Escape keeps the dialog open.
    const onCancel = (ev) => {
      ev.preventDefault();
      if (cancellable) done(null);
    };
    form.addEventListener("submit", onSubmit);
    dlg.addEventListener("cancel", onCancel);
    if (cancel) cancel.addEventListener("click", onCancel);
  });
  dlg.showModal();
  input.focus();
  return pendingPrompt;
}

// A call with the stored API token that asks for the token (again) on 401
// and retries with the new one.
export async function authed(method, path, opts = {}) {
  if (!getToken()) await promptToken("");
  for (;;) {
    try {
      return await api(method, path, opts);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      setToken("");
      await promptToken("That token was refused: " + e.message + ".");
    }
  }
}

// --- formatting

export function shortId(id) {
  return id ? id.slice(0, 8) : "";
}

// 75 -> "1m 15s"; coarse above an hour.
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return s + "s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + "m " + (s % 60) + "s";
  const h = Math.floor(m / 60);
  if (h < 48) return h + "h " + (m % 60) + "m";
  return Math.floor(h / 24) + "d " + (h % 24) + "h";
}

export function since(iso, now = Date.now()) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? "" : duration((now - t) / 1000);
}

export function until(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const left = (t - now) / 1000;
  return left <= 0 ? "expired" : "in " + duration(left);
}

// Build an element: h("td", {class: "x", onclick: fn}, "text", child...).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}
