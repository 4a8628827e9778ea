// Agent console: session control, the current lead and script, disposition with notes/callback.
"use strict";

let agentId = null;
let sessionSince = null;
// The live stream is the newest word on the agent's state: an HTTP answer that crosses a live
// event (e.g. "connecting" from sign-in arriving after "ready") must not paint over it.
let liveEvents = 0;
let callRequests = 0;

const msg = (id, text) => { document.getElementById(id).textContent = text || ""; };

function showSession(view) {
  document.getElementById("state").textContent = view ? view.state + (view.pause_reason ? ` (${view.pause_reason})` : "") : "offline";
  document.getElementById("state").className = view ? "state-" + view.state : "";
  sessionSince = view && view.since ? view.since : null;
}

function showSessionUnlessStale(view, seen) {
  if (seen === liveEvents) showSession(view);
}

async function session(path, body) {
  const seen = liveEvents;
  try {
    const view = await Api.call("POST", `/v1/agents/${agentId}/session/${path}`, body);
    showSessionUnlessStale(view, seen); msg("session-msg"); await loadCall();
  } catch (err) { msg("session-msg", err.message); }
}

async function loadSession() {
  const seen = liveEvents;
  try { showSessionUnlessStale(await Api.call("GET", `/v1/agents/${agentId}/session`), seen); }
  catch (err) { showSessionUnlessStale(null, seen); }
}

async function loadCall() {
  const request = ++callRequests;
  let data;
  try { data = await Api.call("GET", `/v1/agents/${agentId}/session/call`); }
  catch (err) { msg("call-msg", err.message); return; }
  if (request !== callRequests) return; // a later request answers instead
  const has = data && data.call;
  document.getElementById("no-call").hidden = !!has;
  document.getElementById("call").hidden = !has;
  if (!has) return;
  const lead = data.lead || {};
  const inbound = data.call.direction === "inbound";
  document.getElementById("lead-name").textContent =
    (inbound ? `呼入 Inbound → ${data.call.did} · ` : "") + (lead.name || "—");
  document.getElementById("lead-phone").textContent = lead.phone || data.call.number || "";
  document.getElementById("call-state").textContent = data.call.state;
  document.getElementById("script").textContent = data.script || "";
  const fields = document.getElementById("lead-fields");
  fields.replaceChildren(...Object.entries(lead.custom_fields || {}).map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))));
  const box = document.getElementById("dispositions");
  box.replaceChildren(...data.dispositions.map((d) => el("button", { onclick: () => dispose(d) }, `${d.label} ${d.code}`)));
}

async function dispose(d) {
  const at = document.getElementById("callback-at").value;
  if (d.callback && !at) { msg("call-msg", "请选择回访时间 pick a callback time"); return; }
  const body = { code: d.code, notes: document.getElementById("notes").value,
    callback_agent_only: document.getElementById("callback-mine").checked };
  if (at) body.callback_at = new Date(at).toISOString();
  if (document.getElementById("pause-after").checked) body.pause_after = "after-call";
  try {
    await Api.call("POST", `/v1/agents/${agentId}/session/disposition`, body);
    document.getElementById("notes").value = ""; document.getElementById("callback-at").value = "";
    msg("call-msg", "已提交 submitted " + d.code);
    await loadCall(); await loadSession(); await loadCallbacks();
  } catch (err) { msg("call-msg", err.message); }
}

async function loadCallbacks() {
  const rows = await Api.call("GET", "/v1/callbacks?status=pending");
  document.querySelector("#callbacks tbody").replaceChildren(...rows.map((c) =>
    el("tr", {}, el("td", {}, new Date(c.due_at).toLocaleString()), el("td", {}, c.lead_id), el("td", {}, c.note))));
}

// The agent's own quality scores (the API gives an agent only its own) and its summary.
async function loadScores() {
  const box = document.getElementById("qa-msg");
  box.textContent = "加载中 loading…";
  try {
    const [page, report] = await Promise.all([Api.call("GET", "/v1/qa/scores?limit=50"), Api.call("GET", "/v1/qa/report")]);
    const mine = report[0];
    document.getElementById("qa-summary").textContent = mine
      ? `${mine.scored_calls} 次评分 scored calls · 平均 average ${fixed(mine.average)}% · 最低 lowest ${fixed(mine.lowest)}% · ` +
        `最高 highest ${fixed(mine.highest)}% · 合格 passed ${mine.passed} · 不合格 failed ${mine.failed}`
      : "尚无评分 no scores yet";
    const body = document.querySelector("#qa-scores tbody");
    body.replaceChildren(...page.items.map((s) => el("tr", { "data-score": s.id },
      el("td", {}, when(s.created_at)), el("td", {}, s.attempt_id),
      el("td", { class: "qa-total" }, `${fixed(s.total)}%`),
      el("td", {}, s.passed == null ? "–" : s.passed ? "✔ 合格 pass" : "✖ 不合格 fail"),
      el("td", {}, s.answers.map((a) => `${a.label}: ${a.score == null ? "N/A" : `${a.score}/${a.max_score}`}`).join(" · ")),
      el("td", { class: "qa-notes" }, s.notes), el("td", {}, s.scorer))));
    box.textContent = "";
  } catch (err) { box.textContent = errorText(err); }
}

async function start() {
  const me = Api.me();
  agentId = me && me.agent_id;
  document.getElementById("who").textContent = me ? me.username : "";
  if (agentId == null) { msg("session-msg", "此账号不是坐席 this user is not an agent"); return; }
  await loadSession(); await loadCall(); await loadCallbacks().catch(() => {}); loadScores();
  Api.live((event) => {
    if (event.topic.startsWith("agent/")) {
      liveEvents += 1;
      const changed = document.getElementById("state").className !== "state-" + event.payload.state;
      const at = changed || !sessionSince ? new Date(event.at * 1000).toISOString() : sessionSince;
      showSession({ ...event.payload, since: at });
      loadCall();
    }
  }, (on) => document.getElementById("live-dot").classList.toggle("on", on));
  setInterval(() => { document.getElementById("since").textContent = sessionSince ? since(sessionSince) : ""; }, 1000);
  setInterval(loadCall, 5000);
}

document.getElementById("session-login").addEventListener("click", () => session("login"));
document.getElementById("ready").addEventListener("click", () => session("ready"));
document.getElementById("pause").addEventListener("click", () => session("pause", { reason: document.getElementById("pause-reason").value }));
document.getElementById("session-logout").addEventListener("click", async () => {
  try { await Api.call("POST", `/v1/agents/${agentId}/session/logout`); showSession(null); } catch (err) { msg("session-msg", err.message); }
});
// Preview (see the lead, then dial or skip), manual dialing and on-demand recording.
function showPreview(data) {
  const lead = data && data.lead;
  document.getElementById("preview").hidden = !lead;
  if (!lead) return;
  document.getElementById("preview-name").textContent = lead.name || "—";
  document.getElementById("preview-phone").textContent = lead.phone || "";
  document.getElementById("preview-info").textContent =
    `${lead.attempt_count} 次 attempts` + (lead.last_disposition ? ` · ${lead.last_disposition}` : "");
  document.getElementById("script").textContent = data.script || "";
}

async function dialing(path, body, after) {
  try {
    const data = await Api.call("POST", `/v1/agents/${agentId}/session/${path}`, body);
    msg("dial-msg"); if (after) after(data); await loadSession(); await loadCall();
  } catch (err) { msg("dial-msg", err.message); }
}

document.getElementById("preview-next").addEventListener("click", () => dialing("preview", undefined, (data) => {
  showPreview(data); if (!data.lead) msg("dial-msg", "暂无可预览线索 no lead to preview");
}));
document.getElementById("preview-dial").addEventListener("click", () => dialing("preview/dial", undefined, () => showPreview(null)));
document.getElementById("preview-skip").addEventListener("click", () => dialing("preview/skip", undefined, () => showPreview(null)));
document.getElementById("manual-dial").addEventListener("click", () => {
  const number = document.getElementById("manual-number").value.trim();
  if (!number) { msg("dial-msg", "请输入号码 type a number"); return; }
  dialing("dial", { number });
});
document.getElementById("record").addEventListener("click", async () => {
  try {
    const data = await Api.call("POST", `/v1/agents/${agentId}/session/record`);
    msg("record-msg", "录音中 recording " + data.recording_path);
  } catch (err) { msg("record-msg", err.message); }
});
document.getElementById("qa-reload").addEventListener("click", loadScores);
document.getElementById("logout").addEventListener("click", () => { Api.logout(); location.reload(); });
setupLogin(start);
