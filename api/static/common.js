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
    if (!r.ok) throw new Error(data.detail || r.statusText);
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
