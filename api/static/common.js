// Shared by the dashboard and the agent console: the token lives in sessionStorage only.
"use strict";

const Api = {
  token() { return sessionStorage.getItem("dialer.token"); },
  me() { return JSON.parse(sessionStorage.getItem("dialer.me") || "null"); },

  async login(username, password) {
    const r = await fetch("/v1/auth/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
    if (!r.ok) throw new Error((await r.json()).detail || r.statusText);
    const body = await r.json();
    sessionStorage.setItem("dialer.token", body.access_token);
    sessionStorage.setItem("dialer.me", JSON.stringify({ username, role: body.role, agent_id: body.agent_id }));
    return body;
  },

  logout() { sessionStorage.removeItem("dialer.token"); sessionStorage.removeItem("dialer.me"); },

  async call(method, path, body) {
    const headers = { Authorization: "Bearer " + this.token() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (r.status === 401) { this.logout(); location.reload(); }
    if (r.status === 204) return null;
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw apiError(r, data);
    return data;
  },

  live(onEvent, onState) {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    let socket;
    const connect = () => {
      socket = new WebSocket(`${proto}://${location.host}/v1/live?token=${encodeURIComponent(this.token())}`);
      socket.onopen = () => onState && onState(true);
      socket.onmessage = (m) => onEvent(JSON.parse(m.data));
      socket.onclose = () => { onState && onState(false); setTimeout(connect, 3000); };
    };
    connect();
  },
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function pct(x) { return x == null ? "–" : (100 * x).toFixed(1) + "%"; }

function since(iso) {
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function setupLogin(onReady) {
  const form = document.getElementById("login");
  const main = document.getElementById("main");
  const show = () => { form.hidden = !!Api.token(); main.hidden = !Api.token(); if (Api.token()) onReady(); };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const msg = form.querySelector(".error");
    try {
      await Api.login(form.username.value, form.password.value);
      msg.textContent = "";
      show();
    } catch (err) { msg.textContent = err.message; }
  });
  show();
}

// An error from the API's body: `detail` (a sentence, or a list of field errors) and the status.
function apiError(response, data) {
  let detail = data && data.detail;
  if (Array.isArray(detail)) detail = detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ");
  else if (detail && typeof detail !== "string") detail = JSON.stringify(detail);
  const err = new Error(detail || response.statusText || `HTTP ${response.status}`);
  err.status = response.status;
  return err;
}

// What to show for a failed call: a refusal says so in both languages.
function errorText(err) {
  if (err && err.status === 403) return `无权限 Forbidden (403): ${err.message}`;
  return err && err.message ? err.message : String(err);
}

function isSupervisor() {
  const me = Api.me();
  return !!me && (me.role === "supervisor" || me.role === "admin");
}

// Run `work` with `button` disabled and a loading mark; messages go to `msgNode` (an element or id).
async function busy(button, msgNode, work, loadingText = "处理中 working…") {
  const box = typeof msgNode === "string" ? document.getElementById(msgNode) : msgNode;
  if (button) { button.disabled = true; button.classList.add("loading"); }
  if (box) { box.textContent = loadingText; box.classList.remove("error"); box.classList.add("muted"); }
  try {
    const result = await work();
    if (box && box.textContent === loadingText) box.textContent = "";
    return result;
  } catch (err) {
    if (box) { box.textContent = errorText(err); box.classList.add("error"); box.classList.remove("muted"); }
    return undefined;
  } finally {
    if (button) { button.disabled = false; button.classList.remove("loading"); }
  }
}

function when(iso) { return iso ? new Date(iso).toLocaleString() : "–"; }

function fixed(x, digits = 1) { return x == null ? "–" : Number(x).toFixed(digits); }
