// recording.js - plays one recording beside its action log.
//
//   recording.html?id=SANDBOX&rec=RID[&token=TOKEN]
//
// The token is the API token (this tab's sessionStorage), a ?token= (taken
// out of the address bar), or the viewer token the desktop viewer of the
// same sandbox keeps in sessionStorage. The MP4 is fetched with that token
// in a header and played from a blob: URL, so the video seeks anywhere at
// once (no range requests needed) and no token is put in a URL.
//
// Each action of the log is a row in the list and a mark on the timeline
// under the video; clicking either seeks the video to the action's offset
// (the screen as the call found it). The row of the action last passed is
// highlighted as the video plays.

import { ApiError, api, authed, describeError, getToken, setToken, shortId, takeUrlParams, h } from "./api.js";

const $ = (sel) => document.querySelector(sel);
const params = new URL(location.href).searchParams;
const sid = params.get("id") || "";
const rid = params.get("rec") || "";
const base = "/v1/sandboxes/" + encodeURIComponent(sid);
let token = "";      // a viewer token, or "" for the API token (asked for when missing)
let actions = [];

function call(method, path, opts = {}) {
  return token ? api(method, path, { ...opts, token }) : authed(method, path, opts);
}

function viewerToken() {
  try {
    const v = JSON.parse(sessionStorage.getItem("deskbox.viewer." + sid) || "null");
    return v && typeof v.token === "string" ? v.token : "";
  } catch {
    return "";
  }
}

function fail(text) {
  const el = $("#rec-error");
  el.textContent = text;
  el.hidden = false;
  $("#recinfo").textContent = "";
}

// 83.456 -> "1:23.4"
function clock(ms) {
  const s = Math.max(0, ms) / 1000;
  const m = Math.floor(s / 60);
  return m + ":" + (s - 60 * m).toFixed(1).padStart(4, "0");
}

// A short line for an action's params: what a person scanning the log needs.
function summary(a) {
  const p = a.params || {};
  if (Array.isArray(p.actions)) {
    return p.actions.map((x) => {
      if (!x || typeof x !== "object") return "?";
      const kind = x.action || x.type || "?";
      const what = x.text !== undefined ? JSON.stringify(x.text) :
        x.coordinate ? "(" + x.coordinate.join(", ") + ")" :
        x.x !== undefined ? "(" + x.x + ", " + x.y + ")" : "";
      return what ? kind + " " + what : kind;
    }).join(", ");
  }
  const keys = Object.keys(p);
  return keys.map((k) => k + "=" + (typeof p[k] === "string" ? p[k] : JSON.stringify(p[k]))).join(" ");
}

function seek(i) {
  const v = $("#video");
  v.currentTime = Math.max(0, actions[i].offset_ms / 1000);
  mark(i);
}

function mark(current) {
  document.querySelectorAll("#actions li").forEach((li, i) => li.classList.toggle("current", i === current));
  document.querySelectorAll("#timeline button").forEach((b, i) => b.classList.toggle("current", i === current));
}

// The last action at or before the video's time.
function follow() {
  const t = $("#video").currentTime * 1000;
  let cur = -1;
  for (let i = 0; i < actions.length && actions[i].offset_ms <= t + 1; i++) cur = i;
  mark(cur);
}

function render(rec) {
  const list = $("#actions");
  const line = $("#timeline");
  const total = Math.max(1, rec.duration_ms);
  list.replaceChildren();
  line.replaceChildren();
  actions.forEach((a, i) => {
    const bad = a.status && a.status !== "ok";
    list.append(h("li", { class: bad ? "failed" : null },
      h("button", { type: "button", class: "rec-action", "data-index": String(i), onclick: () => seek(i) },
        h("span", { class: "at" }, clock(a.offset_ms)),
        h("span", { class: "op" }, a.op),
        h("span", { class: "what" }, summary(a)),
        bad ? h("span", { class: "status" }, a.status) : null)));
    line.append(h("button", {
      type: "button", class: "tick", title: clock(a.offset_ms) + " " + a.op,
      style: "left:" + Math.min(100, (100 * a.offset_ms) / total).toFixed(3) + "%",
      onclick: () => seek(i),
    }));
  });
  if (!actions.length) $("#actions-note").textContent = "Nothing was called on the sandbox while it recorded.";
}

async function main() {
  const taken = takeUrlParams("token");
  if (taken.token) setToken(taken.token);
  token = getToken() ? "" : viewerToken();
  $("#back").textContent = shortId(sid);
  $("#back").href = "viewer.html?id=" + encodeURIComponent(sid);
  $("#recid").textContent = rid;
  document.title = rid + " · deskbox";
  if (!/^[0-9a-f]{8,64}$/.test(sid) || !/^rec_[0-9a-f]{16}$/.test(rid)) {
    fail("Give ?id=SANDBOX&rec=RECORDING (as the viewer's Recordings list links them).");
    return;
  }
  try {
    const [list, log] = await Promise.all([
      call("GET", base + "/recordings"),
      call("GET", base + "/recordings/" + rid + "/actions"),
    ]);
    const rec = (list.recordings || []).find((r) => r.id === rid);
    if (!rec) throw new ApiError(404, "not_found", "no such recording", "GET", base);
    actions = log.actions || [];
    render(rec);
    $("#recinfo").textContent = `${rec.width}×${rec.height}, ${rec.fps} fps, ${clock(rec.duration_ms)}, ` +
      `${(rec.bytes / 1024).toFixed(0)} KiB, ${actions.length} actions` +
      (log.dropped ? ` (${log.dropped} not logged)` : "");
    if (rec.state !== "stopped") {
      fail(`This recording is ${rec.state}${rec.error ? ": " + rec.error : ""}. ` +
        (rec.state === "recording" ? "Stop it to watch it." : ""));
      return;
    }
    const blob = await call("GET", base + "/recordings/" + rid, { as: "blob" });
    const url = URL.createObjectURL(blob);
    const v = $("#video");
    v.src = url;
    v.addEventListener("timeupdate", follow);
    v.addEventListener("seeked", follow);
    $("#save").href = url;
    $("#save").download = rid + ".mp4";
    $("#save").hidden = false;
  } catch (e) {
    fail(describeError(e, "Cannot load the recording"));
  }
}

// For tests and the devtools console.
window.deskbox = { get actions() { return actions; }, video: () => $("#video") };

main();
