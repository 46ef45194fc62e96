// app.js - the dashboard: list, create and destroy sandboxes, open viewers.
//
// GET /v1/sandboxes every few seconds (and at once after a change); rows are
// kept by sandbox id and updated in place, so a refresh never steals focus
// or a half-done "confirm destroy".

import {
  ApiError, authed, describeError, duration, getToken, h, promptToken,
  setToken, shortId, since, takeUrlParams, until,
} from "./api.js";

const REFRESH_MS = 3000;

const $ = (sel) => document.querySelector(sel);
const tbody = $("#sandboxes tbody");
const rows = new Map();          // id -> {tr, cells, sb}
let lastList = null;
let refreshTimer = 0;
let refreshing = null;

// ---------------------------------------------------------------- banner

// kind says which part of the page the message is about, so that part can
// clear its own message (a list error goes once the list loads again).
function showBanner(cls, text, kind) {
  const b = $("#banner");
  b.querySelector(".banner-text").textContent = text;
  b.className = "banner " + cls;
  b.dataset.kind = kind || "";
  b.hidden = false;
}

const showError = (text, kind) => showBanner("error", text, kind);
const showInfo = (text, kind) => showBanner("info", text, kind);

function clearBanner() {
  $("#banner").hidden = true;
}

// ---------------------------------------------------------------- list

function stateBadge(sb) {
  let state = sb.state || "unknown";
  let title = sb.error || "";
  // A running sandbox whose desktop is not (yet) up says so.
  if (state === "running" && sb.desktop && sb.desktop.state && sb.desktop.state !== "running") {
    state = "desktop " + sb.desktop.state;
    title = sb.desktop.error || title;
  }
  const cls = state === "running" ? "ok" : /fail/.test(state) ? "bad" : "warn";
  return h("span", { class: "badge " + cls, title: title || undefined }, state);
}

function desktopText(sb) {
  if (sb.desktop === false) return "none";
  const d = sb.display || (sb.desktop && sb.desktop.display);
  return d ? `${d.width} × ${d.height}` : "…";
}

function limitsText(sb) {
  const l = sb.limits || {};
  const parts = [];
  if (l.memory_mb) parts.push(l.memory_mb >= 1024 && l.memory_mb % 1024 === 0 ? l.memory_mb / 1024 + " GiB" : l.memory_mb + " MiB");
  if (l.cpu) parts.push(l.cpu + " CPU");
  if (l.pids) parts.push(l.pids + " pids");
  return parts.join(" · ");
}

function viewerHref(id) {
  return "viewer.html?id=" + encodeURIComponent(id);
}

function makeRow(sb) {
  const id = sb.id;
  const cells = {
    id: h("td", { class: "id" }),
    state: h("td"),
    desktop: h("td", { class: "num" }),
    age: h("td", { class: "num" }),
    expires: h("td", { class: "num" }),
    limits: h("td", { class: "muted small col-limits" }),
    actions: h("td", { class: "right" }),
  };
  cells.id.append(
    h("code", { title: id }, shortId(id)),
    h("button", { type: "button", class: "ghost tiny copy", title: "Copy the full id",
      onclick: () => copyText(id, "Sandbox id copied.") }, "copy"));
  // rel=opener: the viewer tab gets a copy of this tab's sessionStorage,
  // and with it the token (noopener would start it with an empty one).
  const open = h("a", { class: "button", href: viewerHref(id), target: "_blank", rel: "opener",
    dataset: { action: "open" } }, "Open viewer");
  const destroy = h("button", { type: "button", class: "danger", dataset: { action: "destroy" } }, "Destroy");
  destroy.addEventListener("click", () => onDestroy(id, destroy));
  cells.actions.append(h("div", { class: "row-actions" }, open, destroy));
  const tr = h("tr", { dataset: { id } }, Object.values(cells));
  return { tr, cells, open, destroy, sb };
}

function updateRow(row, sb, now) {
  row.sb = sb;
  row.tr.dataset.state = sb.state;
  row.cells.state.replaceChildren(stateBadge(sb));
  row.cells.desktop.textContent = desktopText(sb);
  row.cells.age.textContent = since(sb.created_at, now);
  row.cells.age.title = sb.created_at || "";
  row.cells.expires.textContent = sb.expires_at ? until(sb.expires_at, now) : "never";
  row.cells.expires.title = sb.expires_at || "no expiry";
  row.cells.limits.textContent = limitsText(sb);
  const viewable = sb.state === "running" && sb.desktop !== false;
  row.open.classList.toggle("disabled", !viewable);
  row.open.setAttribute("aria-disabled", viewable ? "false" : "true");
  row.open.title = viewable ? "Open the desktop in a new tab" : sb.desktop === false
    ? "This sandbox has no desktop" : "The sandbox is " + sb.state;
}

function render(list) {
  lastList = list;
  const now = Date.now();
  const seen = new Set();
  // Newest first.
  const sorted = [...list].sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  let prev = null;
  for (const sb of sorted) {
    seen.add(sb.id);
    let row = rows.get(sb.id);
    if (!row) {
      row = makeRow(sb);
      rows.set(sb.id, row);
    }
    updateRow(row, sb, now);
    const want = prev ? prev.nextSibling : tbody.firstChild;
    if (want !== row.tr) tbody.insertBefore(row.tr, want);
    prev = row.tr;
  }
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.tr.remove();
      rows.delete(id);
    }
  }
  $("#count").textContent = list.length ? String(list.length) : "";
  $("#empty").textContent = "No sandboxes yet. Create one above.";
  $("#empty").hidden = list.length > 0;
  $("#sandboxes").hidden = list.length === 0;
}

// Ages and expiries move every second without asking the server.
function tick() {
  if (!lastList) return;
  const now = Date.now();
  for (const row of rows.values()) {
    row.cells.age.textContent = since(row.sb.created_at, now);
    row.cells.expires.textContent = row.sb.expires_at ? until(row.sb.expires_at, now) : "never";
  }
  const r = $("#refreshed");
  if (r.dataset.at) r.textContent = "updated " + duration((now - Number(r.dataset.at)) / 1000) + " ago";
}

async function refresh() {
  if (refreshing) return refreshing;
  clearTimeout(refreshTimer);
  refreshing = (async () => {
    try {
      const body = await authed("GET", "/v1/sandboxes");
      render(body.sandboxes || []);
      const r = $("#refreshed");
      r.dataset.at = String(Date.now());
      r.textContent = "updated just now";
      $("#server-status").textContent = "";
      if ($("#banner").dataset.kind === "list") clearBanner();
    } catch (e) {
      $("#server-status").textContent = "offline";
      showError(describeError(e, "Cannot list sandboxes"), "list");
    } finally {
      refreshing = null;
      refreshTimer = setTimeout(refresh, REFRESH_MS);
    }
  })();
  return refreshing;
}

// ---------------------------------------------------------------- create

function createBody(form) {
  const f = new FormData(form);
  const body = {};
  const size = f.get("size");
  if (size === "none") {
    body.desktop = false;
  } else {
    const [w, hgt] = size.split("x").map(Number);
    body.desktop = { width: w, height: hgt };
    const apps = String(f.get("apps") || "").split(",").map((s) => s.trim()).filter(Boolean);
    if (apps.length) body.apps = apps;
  }
  const t = f.get("timeout_s");
  if (t !== "") body.timeout_s = Number(t);
  const limits = {};
  for (const k of ["memory_mb", "pids", "disk_mb"]) {
    const v = String(f.get(k) || "").trim();
    if (v) limits[k] = parseInt(v, 10);
  }
  const cpu = String(f.get("cpu") || "").trim();
  if (cpu) limits.cpu = Number(cpu);
  if (Object.keys(limits).length) body.limits = limits;
  return body;
}

async function onCreate(ev) {
  ev.preventDefault();
  const form = ev.target;
  const btn = $("#create-btn");
  if (btn.disabled) return;
  btn.disabled = true;
  btn.textContent = "Creating…";
  btn.classList.add("busy");
  clearBanner();
  try {
    const sb = await authed("POST", "/v1/sandboxes", { body: createBody(form) });
    showInfo(`Sandbox ${shortId(sb.id)} is ${sb.state}.`, "created");
    await refresh();
    const row = rows.get(sb.id);
    if (row) {
      row.tr.classList.add("fresh");
      setTimeout(() => row.tr.classList.remove("fresh"), 2500);
    }
  } catch (e) {
    showError(describeError(e, "Could not create the sandbox"), "create");
  } finally {
    btn.disabled = false;
    btn.textContent = "Create sandbox";
    btn.classList.remove("busy");
  }
}

// ---------------------------------------------------------------- destroy

// Two clicks: "Destroy", then "Confirm" within 4 s. No window.confirm(),
// which blocks the page and the refresh loop.
async function onDestroy(id, btn) {
  if (btn.dataset.armed !== "1") {
    btn.dataset.armed = "1";
    btn.textContent = "Confirm destroy";
    btn.classList.add("armed");
    btn._disarm = setTimeout(() => {
      btn.dataset.armed = "";
      btn.textContent = "Destroy";
      btn.classList.remove("armed");
    }, 4000);
    return;
  }
  clearTimeout(btn._disarm);
  btn.disabled = true;
  btn.textContent = "Destroying…";
  try {
    await authed("DELETE", "/v1/sandboxes/" + encodeURIComponent(id));
    showInfo(`Sandbox ${shortId(id)} destroyed.`, "destroyed");
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) {
      showError(describeError(e, `Could not destroy ${shortId(id)}`), "destroy");
    }
  } finally {
    btn.disabled = false;
    btn.dataset.armed = "";
    btn.textContent = "Destroy";
    btn.classList.remove("armed");
    refresh();
  }
}

// ---------------------------------------------------------------- misc

async function copyText(text, done) {
  try {
    await navigator.clipboard.writeText(text);
    showInfo(done);
  } catch {
    window.prompt("Copy:", text);
  }
}

function init() {
  const { token } = takeUrlParams("token");
  if (token) setToken(token);
  $("#create-form").addEventListener("submit", onCreate);
  $("#refresh").addEventListener("click", () => refresh());
  $("#change-token").addEventListener("click", async () => {
    if (await promptToken("", { cancellable: !!getToken() })) refresh();
  });
  $("#banner .close").addEventListener("click", clearBanner);
  // Links styled as buttons can be "disabled" only by refusing the click.
  tbody.addEventListener("click", (ev) => {
    const a = ev.target.closest("a.disabled");
    if (a) ev.preventDefault();
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
  setInterval(tick, 1000);
  refresh();
}

init();
