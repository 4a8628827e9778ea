// Caller-ID health (supervisors): each number of a campaign's pool with its rolling live-answer
// rate against the campaign's other numbers, flag, rest and today's dials against the daily cap;
// evaluate now, the campaign's policy, and per number: rest, end the rest, set or clear a cap.
"use strict";

const CallerIds = (() => {
  const $ = (id) => document.getElementById(id);
  const POLICY = ["window_hours", "min_attempts", "max_ratio", "min_z", "rest_hours", "daily_cap"];
  let campaignId = null;

  const base = () => `/v1/campaigns/${campaignId}/caller-ids`;

  function row(n, campaignRate) {
    const restHours = el("input", { type: "number", min: "1", max: "2160", step: "1", size: "4", class: "cid-rest-hours", value: "24", title: "小时 hours" });
    const cap = el("input", { type: "number", min: "0", size: "5", class: "cid-cap-value", placeholder: "上限 cap", value: n.daily_cap || "" });
    const act = (label, cls, body) => el("button", { type: "button", class: cls, onclick: (e) => change(n.caller_id, body(), e.target) }, label);
    const capText = n.daily_cap ? `${n.dials_today} / ${n.daily_cap}` : `${n.dials_today} / ∞`;
    return el("tr", { "data-number": n.caller_id, class: n.flagged ? "flagged" : "" },
      el("td", {}, n.caller_id, n.in_pool ? "" : el("span", { class: "muted" }, " (不在号码池 not in pool)")),
      el("td", { title: `${n.live} / ${n.attempts}` }, `${pct(n.rate)} (${n.live}/${n.attempts})`),
      el("td", { title: "其他号码 the other numbers" }, `${pct(n.baseline)} · ${pct(campaignRate)}`),
      el("td", {}, fixed(n.ratio, 2)), el("td", {}, fixed(n.z, 1)),
      el("td", { class: "cid-flag" }, n.flagged ? `⚑ ${n.reason || "flagged"}` : (n.suspect ? `? ${n.assessment}` : "–")),
      el("td", { class: "cid-rest" }, n.resting ? when(n.rested_until) : "–"),
      el("td", { class: "cid-today" }, capText),
      el("td", { class: "cid-available" }, n.available ? "✔" : "✖"),
      el("td", {},
        restHours, act("休息 Rest", "cid-rest-btn", () => ({ rest_hours: Number(restHours.value) })),
        act("恢复 Unrest", "cid-unrest", () => ({ end_rest: true, clear_flag: true })),
        cap, act("设上限 Set cap", "cid-cap", () => (cap.value === "" ? { clear_daily_cap: true } : { daily_cap: Number(cap.value) })),
        act("清除上限 Clear cap", "cid-clear-cap", () => ({ clear_daily_cap: true }))));
  }

  function render(report) {
    const r = report.campaign;
    $("cid-summary").textContent = `活动接听率 campaign live rate ${pct(r.rate)} (${r.live}/${r.attempts}) · ` +
      `窗口 window from ${when(report.window_start)} · 可用号码 in rotation ${report.available}/${report.numbers.length} · ` +
      `评估于 evaluated ${when(report.evaluated_at)}` +
      (report.newly_flagged.length ? ` · 新标记 newly flagged: ${report.newly_flagged.join(", ")}` : "");
    const body = $("caller-ids").querySelector("tbody");
    body.replaceChildren(...report.numbers.map((n) => row(n, r.rate)));
    if (!report.numbers.length) body.append(el("tr", {}, el("td", { colspan: 10, class: "muted" }, "号码池为空 the campaign has no caller-ID pool")));
    const form = $("cid-policy");
    form.auto_rest.checked = report.policy.auto_rest;
    // hard_caps: shown where the server has the setting
    $("cid-hard-caps").hidden = !("hard_caps" in report.policy);
    form.hard_caps.checked = !!report.policy.hard_caps;
    for (const k of POLICY) form[k].value = report.policy[k];
  }

  let loading = null; // {cid, promise}: the report being read, so a second ask joins it
  let asked = 0; // only the newest answer is rendered

  async function load(path = "health", method = "GET", button = $("cid-reload"), fresh = false) {
    if (campaignId == null) return undefined;
    const cid = campaignId;
    if (method === "GET" && !fresh && loading && loading.cid === cid) return loading.promise;
    const mine = ++asked;
    const promise = busy(button, "cid-msg", async () => {
      const report = await Api.call(method, `${base()}/${path}`);
      if (mine !== asked || cid !== campaignId) return;
      render(report);
      if (method === "POST") $("cid-msg").textContent = `已评估 evaluated: ${report.newly_flagged.length} 个新标记 newly flagged`;
    }, "加载中 loading…");
    loading = method === "GET" ? { cid, promise } : null;
    try { return await promise; } finally { if (loading && loading.promise === promise) loading = null; }
  }

  async function change(number, body, button) {
    await busy(button, "cid-msg", async () => {
      await Api.call("PATCH", `${base()}/${encodeURIComponent(number)}`, body);
      await load("health", "GET", null, true); // after the change, not a read begun before it
      $("cid-msg").textContent = `已更新 updated ${number}`;
    }, "保存中 saving…");
  }

  async function savePolicy(e) {
    e.preventDefault();
    if (campaignId == null) return;
    const form = e.target;
    const body = { auto_rest: form.auto_rest.checked };
    if (!$("cid-hard-caps").hidden) body.hard_caps = form.hard_caps.checked;
    for (const k of POLICY) if (form[k].value !== "") body[k] = Number(form[k].value);
    await busy(form.querySelector("button"), "cid-policy-msg", async () => {
      await Api.call("PATCH", `${base()}/policy`, body);
      await load("health", "GET", null, true); // after the change, not a read begun before it
      $("cid-policy-msg").textContent = "已保存 saved";
    }, "保存中 saving…");
  }

  function init() {
    $("cid-campaign").addEventListener("change", (e) => {
      campaignId = e.target.value ? Number(e.target.value) : null;
      $("cid-policy-msg").textContent = "";
      load();
    });
    $("cid-reload").addEventListener("click", () => load());
    $("cid-evaluate").addEventListener("click", (e) => load("evaluate", "POST", e.target));
    $("cid-policy").addEventListener("submit", savePolicy);
  }

  return { init, load };
})();
