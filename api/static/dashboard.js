// Supervisor dashboard: campaigns with live numbers, a trend chart, pacing controls, agent board.
"use strict";

const state = { campaigns: new Map(), stats: new Map(), history: new Map(), agents: new Map(), selected: null };
const HISTORY_POINTS = 120;

function recordStats(id, stats) {
  state.stats.set(id, stats);
  const series = state.history.get(id) || [];
  series.push({ t: Date.now(), dials: stats.dials || 0, answered: stats.answered || 0,
    abandon: stats.abandon_rate || 0, occupancy: stats.occupancy || 0 });
  while (series.length > HISTORY_POINTS) series.shift();
  state.history.set(id, series);
}

function renderCampaigns() {
  const body = document.querySelector("#campaigns tbody");
  body.replaceChildren();
  for (const c of state.campaigns.values()) {
    const s = state.stats.get(c.id) || {};
    const action = (verb, label) => el("button", { onclick: async (e) => {
      e.stopPropagation();
      try { const updated = await Api.call("POST", `/v1/campaigns/${c.id}/${verb}`); state.campaigns.set(c.id, updated); renderCampaigns(); }
      catch (err) { alert(err.message); }
    } }, label);
    const row = el("tr", { onclick: () => select(c.id), style: state.selected === c.id ? "background:#eef4fb" : "" },
      el("td", {}, c.id), el("td", {}, c.name), el("td", {}, s.status || c.status),
      el("td", {}, s.dials ?? "–"), el("td", {}, s.answered ?? "–"), el("td", {}, pct(s.abandon_rate)),
      el("td", {}, pct(s.connect_rate)), el("td", {}, pct(s.occupancy)),
      el("td", {}, action("start", "开始 Start"), action("pause", "暂停 Pause"), action("stop", "停止 Stop")));
    body.append(row);
  }
}

function drawChart() {
  const canvas = document.getElementById("chart");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const series = state.history.get(state.selected) || [];
  if (series.length < 2) { ctx.fillStyle = "#777"; ctx.fillText("等待数据 waiting for data…", 10, 20); return; }
  const w = canvas.width, h = canvas.height, pad = 24;
  const maxCount = Math.max(1, ...series.map((p) => p.dials));
  const x = (i) => pad + (i * (w - 2 * pad)) / (series.length - 1);
  const line = (color, value, scale) => {
    ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.beginPath();
    series.forEach((p, i) => { const y = h - pad - (value(p) / scale) * (h - 2 * pad); i ? ctx.lineTo(x(i), y) : ctx.moveTo(x(i), y); });
    ctx.stroke();
  };
  ctx.strokeStyle = "#ccc"; ctx.strokeRect(pad, pad, w - 2 * pad, h - 2 * pad);
  ctx.fillStyle = "#555"; ctx.fillText(String(maxCount), 2, pad + 4); ctx.fillText("100%", w - pad + 2, pad + 4);
  line("#457b9d", (p) => p.dials, maxCount);
  line("#2a9d8f", (p) => p.answered, maxCount);
  line("#e63946", (p) => p.abandon, 1);
  line("#f4a261", (p) => p.occupancy, 1);
}

async function select(id) {
  state.selected = id;
  const c = state.campaigns.get(id);
  document.getElementById("chart-title").textContent = c.name;
  document.getElementById("pacing-campaign").textContent = c.name;
  const { settings, live } = await Api.call("GET", `/v1/campaigns/${id}/pacing`);
  if (live) recordStats(id, live);
  const form = document.getElementById("pacing");
  form.mode.value = settings.mode;
  form.target.value = settings.target_abandon_rate != null ? (settings.target_abandon_rate * 100).toFixed(1) : "";
  form.ratio.value = settings.ratio ?? "";
  form.lines.value = settings.max_lines_per_agent ?? "";
  renderCampaigns(); drawChart();
}

function renderAgents() {
  const body = document.querySelector("#agents tbody");
  body.replaceChildren();
  const sorted = [...state.agents.values()].sort((a, b) => String(a.extension).localeCompare(String(b.extension)));
  for (const a of sorted) {
    body.append(el("tr", {}, el("td", {}, a.extension), el("td", {}, a.name || ""),
      el("td", { class: "state-" + a.state }, a.state + (a.pause_reason ? ` (${a.pause_reason})` : "")),
      el("td", {}, a.since ? since(a.since) : "–"), el("td", {}, a.calls_today ?? 0),
      el("td", {}, a.daily_cap ?? "–"), el("td", {}, a.server || "")));
  }
}

function onEvent(event) {
  const [kind, key, what] = event.topic.split("/");
  if (kind === "campaign" && what === "stats") {
    recordStats(Number(key), event.payload);
    renderCampaigns(); if (Number(key) === state.selected) drawChart();
  } else if (kind === "agent") {
    const old = [...state.agents.values()].find((a) => String(a.extension) === key) || {};
    const changed = old.state !== event.payload.state;
    state.agents.set(key, { ...old, ...event.payload, since: changed ? new Date(event.at * 1000).toISOString() : old.since });
    renderAgents();
  }
}

async function refresh() {
  const page = await Api.call("GET", "/v1/campaigns?limit=200");
  for (const c of page.items) state.campaigns.set(c.id, c);
  for (const c of page.items) {
    if (c.status !== "active") continue;
    const { live } = await Api.call("GET", `/v1/campaigns/${c.id}/pacing`);
    if (live) recordStats(c.id, live);
  }
  renderCampaigns(); drawChart();
}

async function start() {
  await refresh();
  try {
    for (const a of await Api.call("GET", "/v1/agents/board")) state.agents.set(String(a.extension), a);
    renderAgents();
  } catch (err) { document.getElementById("agents-msg").textContent = err.message; }
  Api.live(onEvent, (on) => document.getElementById("live-dot").classList.toggle("on", on));
  setInterval(() => refresh().catch(() => {}), 5000);
  setInterval(renderAgents, 1000);
}

document.getElementById("pacing").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = e.target, msg = document.getElementById("pacing-msg");
  if (state.selected == null) { msg.textContent = "先选择活动 pick a campaign first"; return; }
  const body = { mode: f.mode.value };
  if (f.target.value !== "") body.target_abandon_rate = Number(f.target.value) / 100;
  if (f.ratio.value !== "") body.ratio = Number(f.ratio.value);
  if (f.lines.value !== "") body.max_lines_per_agent = Number(f.lines.value);
  try { await Api.call("PATCH", `/v1/campaigns/${state.selected}/pacing`, body); msg.textContent = "已保存 saved"; }
  catch (err) { msg.textContent = err.message; }
});
document.getElementById("logout").addEventListener("click", () => { Api.logout(); location.reload(); });
setupLogin(start);
