// Supervisor dashboard: campaigns with live numbers, a trend chart, pacing controls, agent board,
// recordings; result webhooks (webhooks.js), caller-ID health (callerids.js) and quality scoring
// (quality.js) are sections of their own. An agent sees only its own recordings here.
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

// A blended campaign's callers: answered / offered, waiting now, service level in target.
function inboundText(inbound) {
  if (!inbound) return "–";
  const level = inbound.service_level == null ? "–" : pct(inbound.service_level);
  return `${inbound.answered}/${inbound.offered} · 等待 waiting ${inbound.waiting} · ` +
    `SL ${level} ≤${inbound.service_level_target_s}s`;
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
      el("td", { class: "inbound" }, inboundText(s.inbound)),
      el("td", {}, action("start", "开始 Start"), action("pause", "暂停 Pause"), action("stop", "停止 Stop"),
        el("button", { onclick: (e) => { e.stopPropagation(); dailyPdf(c.id); } }, "日报 PDF")));
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
      el("td", {}, a.daily_cap ?? "–"), el("td", {}, a.server || ""), el("td", {}, ...monitorButtons(a))));
  }
}

// Live monitoring: the dialer rings the supervisor's phone into a listen / whisper / barge of
// the agent's call (supervisors and admins only; every use is audited).
const MONITOR_MODES = [["listen", "监听 Listen"], ["whisper", "耳语 Whisper"], ["barge", "强插 Barge"]];

function monitorButtons(a) {
  const onCall = a.state === "talking" && a.agent_id != null;
  return MONITOR_MODES.map(([mode, label]) => {
    const attrs = { class: "monitor-" + mode, onclick: () => monitor(a, mode) };
    if (!onCall) attrs.disabled = "";
    return el("button", attrs, label);
  });
}

async function monitor(agent, mode) {
  const input = document.getElementById("spy-ext"), msg = document.getElementById("monitor-msg");
  const ext = input.value.trim();
  if (!ext) { msg.textContent = "先填写您的分机 enter your phone extension first"; input.focus(); return; }
  localStorage.setItem("dialer.spy-ext", ext);
  try {
    const s = await Api.call("POST", `/v1/agents/${agent.agent_id}/monitor`, { mode, supervisor_extension: ext });
    msg.textContent = `☎ ${ext}: ${s.mode} ${agent.extension}`;
  } catch (err) { msg.textContent = err.message; }
}

// Files behind the API need the bearer token: fetched as blobs, shown from object URLs.
async function fetchBlob(path) {
  const r = await fetch(path, { headers: { Authorization: "Bearer " + Api.token() } });
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).detail || r.statusText);
  return URL.createObjectURL(await r.blob());
}

async function dailyPdf(campaignId) {
  try { window.open(await fetchBlob(`/v1/reports/campaigns/${campaignId}/daily.pdf`), "_blank"); }
  catch (err) { alert(err.message); }
}

function talkTime(s) { return s == null ? "–" : `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}`; }

async function searchRecordings(form) {
  const msg = document.getElementById("rec-msg"), body = document.querySelector("#recordings tbody");
  const params = new URLSearchParams();
  for (const name of ["campaign_id", "agent_id", "lead_id", "day", "disposition"]) {
    const value = form[name].value.trim();
    if (value) params.set(name, value);
  }
  try {
    const page = await Api.call("GET", `/v1/recordings?${params}`);
    msg.textContent = `${page.total} 条 found`;
    body.replaceChildren(...page.items.map((r) => el("tr", { "data-attempt": r.attempt_id },
      el("td", {}, new Date(r.started_at).toLocaleString()), el("td", {}, r.campaign),
      el("td", {}, r.agent_extension || "–"), el("td", {}, r.lead_id ?? "–"), el("td", {}, r.number),
      el("td", {}, talkTime(r.talk_seconds)), el("td", {}, r.disposition || "–"),
      el("td", {}, el("button", { class: "play", onclick: () => play(r) }, "▶"),
        ...(isSupervisor() ? [el("button", { class: "score", onclick: () => Quality.openScoring(r) }, "评分 Score")] : [])))));
  } catch (err) { msg.textContent = errorText(err); }
}

async function play(recording) {
  const player = document.getElementById("player"), msg = document.getElementById("rec-msg");
  try {
    if (player.src) URL.revokeObjectURL(player.src);
    player.src = await fetchBlob(recording.audio_url);
    player.dataset.attempt = recording.attempt_id;
    player.dataset.url = recording.audio_url;
    document.getElementById("player-info").textContent =
      `▶ ${recording.attempt_id} · ${recording.agent_extension || "–"} · ${recording.number}`;
    await player.play().catch(() => {});  // autoplay may be refused: the controls are there
  } catch (err) { msg.textContent = errorText(err); }
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
  renderCampaigns(); drawChart(); fillCampaignPickers();
}

// Every campaign <select class="campaign-pick"> of the new sections; `data-any` adds an "all" choice.
function fillCampaignPickers() {
  const campaigns = [...state.campaigns.values()].sort((a, b) => a.id - b.id);
  const key = campaigns.map((c) => `${c.id}:${c.name}`).join("|");
  for (const select of document.querySelectorAll("select.campaign-pick")) {
    if (select.dataset.key === key) continue;
    const value = select.value;
    const any = select.dataset.any ? [el("option", { value: "" }, select.dataset.any)] : [];
    select.replaceChildren(...any, ...campaigns.map((c) => el("option", { value: c.id }, `${c.id} · ${c.name}`)));
    if ([...select.options].some((o) => o.value === value)) select.value = value;
    select.dataset.key = key;
    if (!any.length && select.value !== value) select.dispatchEvent(new Event("change"));
  }
}

// Agents may open this page: they get their own recordings only, never the supervisor sections.
function startAsAgent(me) {
  document.body.classList.add("role-agent");
  const box = document.getElementById("role-msg");
  box.hidden = false;
  box.replaceChildren(`${me.username}: 坐席账号只能查看自己的录音；主管功能已隐藏 — agent accounts see only their own
    recordings here; the supervisor sections are hidden. `, el("a", { href: "agent.html" }, "坐席工作台 Agent console"));
}

async function start() {
  const me = Api.me();
  if (!isSupervisor()) { startAsAgent(me || { username: "" }); return; }
  Webhooks.init(); CallerIds.init(); Quality.init();  // before the campaigns fill their pickers
  try { await refresh(); }
  catch (err) {
    const box = document.getElementById("role-msg");
    box.hidden = false; box.textContent = errorText(err);
  }
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
document.getElementById("rec-search").addEventListener("submit", (e) => { e.preventDefault(); searchRecordings(e.target); });
document.getElementById("spy-ext").value = localStorage.getItem("dialer.spy-ext") || "";
document.getElementById("logout").addEventListener("click", () => { Api.logout(); location.reload(); });
setupLogin(start);
