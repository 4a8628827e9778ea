// Quality scoring (supervisors): score forms (weighted criteria), scoring a call beside the player
// of its recording (opened from the Recordings table), and the QA report per agent.
"use strict";

const Quality = (() => {
  const $ = (id) => document.getElementById(id);
  let sheet = null; // the call being scored: GET /v1/qa/calls/{attempt_id}
  let formsById = new Map();

  // ------------------------------------------------------------------ forms

  function criterionRow(c = {}) {
    return el("tr", {},
      el("td", {}, el("input", { name: "key", size: "10", placeholder: "greeting", pattern: "[a-z0-9][a-z0-9_\\-]{0,39}", required: "", value: c.key || "" })),
      el("td", {}, el("input", { name: "label", size: "24", placeholder: "开场白 Greeting", required: "", value: c.label || "" })),
      el("td", {}, el("input", { name: "weight", type: "number", min: "0.1", step: "0.1", size: "4", value: c.weight ?? 1 })),
      el("td", {}, el("input", { name: "max_score", type: "number", min: "1", max: "100", size: "4", value: c.max_score ?? 5 })),
      el("td", {}, el("button", { type: "button", class: "qa-remove-criterion", onclick: (e) => {
        const body = $("qa-criteria").querySelector("tbody");
        if (body.rows.length > 1) e.target.closest("tr").remove();
      } }, "✕")));
  }

  function resetFormEditor() {
    const form = $("qa-form-new");
    form.reset();
    $("qa-criteria").querySelector("tbody").replaceChildren(criterionRow(), criterionRow());
  }

  async function loadForms() {
    await busy($("qa-forms-reload"), "qa-forms-msg", async () => {
      const forms = await Api.call("GET", "/v1/qa/forms");
      formsById = new Map(forms.map((f) => [f.id, f]));
      $("qa-forms").querySelector("tbody").replaceChildren(...forms.map((f) => el("tr", { "data-form": f.id },
        el("td", {}, f.id), el("td", {}, f.name, el("div", { class: "muted" }, f.description || "")),
        el("td", {}, f.campaign_id == null ? "所有 all" : campaignName(f.campaign_id)),
        el("td", {}, f.criteria.map((c) => `${c.label} ×${c.weight} /${c.max_score}`).join("; ")),
        el("td", {}, f.pass_score ?? "–"), el("td", {}, f.active ? "✔" : "✖"),
        el("td", {},
          el("button", { type: "button", class: "qa-toggle", onclick: (e) => toggleForm(f, e.target) }, f.active ? "停用 Deactivate" : "启用 Activate"),
          el("button", { type: "button", class: "qa-delete", onclick: (e) => deleteForm(f, e.target) }, "删除 Delete")))));
      if (!forms.length) {
        $("qa-forms").querySelector("tbody").append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "暂无评分表 no score forms yet")));
      }
      $("qa-forms-msg").textContent = `${forms.length} 个评分表 forms`;
    }, "加载中 loading…");
  }

  function campaignName(id) {
    const c = typeof state !== "undefined" && state.campaigns.get(id);
    return c ? `${id} · ${c.name}` : String(id);
  }

  async function createForm(e) {
    e.preventDefault();
    const form = e.target;
    const criteria = [...$("qa-criteria").querySelectorAll("tbody tr")].map((tr) => ({
      key: tr.querySelector("[name=key]").value.trim(),
      label: tr.querySelector("[name=label]").value.trim(),
      weight: Number(tr.querySelector("[name=weight]").value || 1),
      max_score: Number(tr.querySelector("[name=max_score]").value || 5),
    }));
    const body = { name: form.name.value.trim(), criteria };
    if (form.campaign_id.value) body.campaign_id = Number(form.campaign_id.value);
    if (form.pass_score.value !== "") body.pass_score = Number(form.pass_score.value);
    if (form.description.value.trim()) body.description = form.description.value.trim();
    await busy($("qa-form-save"), "qa-form-msg", async () => {
      const created = await Api.call("POST", "/v1/qa/forms", body);
      resetFormEditor();
      await loadForms();
      $("qa-form-msg").textContent = `已创建 created form #${created.id} ${created.name}`;
      if (sheet) await loadSheet(sheet.attempt_id);
    }, "保存中 saving…");
  }

  async function toggleForm(f, button) {
    await busy(button, "qa-forms-msg", async () => {
      await Api.call("PATCH", `/v1/qa/forms/${f.id}`, { active: !f.active });
      await loadForms();
    });
  }

  async function deleteForm(f, button) {
    if (!confirm(`删除评分表 #${f.id} ${f.name}？(已用于评分的表不能删除，请停用)\nDelete score form #${f.id}? (A form already used cannot be deleted: deactivate it.)`)) return;
    await busy(button, "qa-forms-msg", async () => {
      await Api.call("DELETE", `/v1/qa/forms/${f.id}`);
      await loadForms();
      $("qa-forms-msg").textContent = `已删除 deleted #${f.id}`;
    });
  }

  // ------------------------------------------------------------------ scoring a call

  async function openScoring(recording) {
    $("scoring").hidden = false;
    $("scoring-msg").textContent = "";
    await play(recording); // dashboard.js: the recording into the <audio> player beside the panel
    await loadSheet(recording.attempt_id);
    $("scoring").scrollIntoView({ block: "nearest" });
  }

  async function loadSheet(attemptId) {
    await busy(null, "scoring-msg", async () => {
      const data = await Api.call("GET", `/v1/qa/calls/${encodeURIComponent(attemptId)}`);
      sheet = data;
      $("scoring").dataset.attempt = data.attempt_id;
      const talk = data.connect_at && data.hangup_at ? talkTime((new Date(data.hangup_at) - new Date(data.connect_at)) / 1000) : "–";
      $("scoring-call").textContent = `${data.attempt_id} · 坐席 agent ${data.agent_extension || "–"} ${data.agent_name || ""} · ` +
        `${data.number_dialed} · ${when(data.originate_at)} · 通话 talk ${talk} · 结果 ${data.disposition || "–"}` +
        (data.recording_url ? "" : " · 无录音 no recording");
      const select = $("scoring-form");
      const previous = select.value;
      select.replaceChildren(...data.forms.map((f) => el("option", { value: f.id }, `${f.name}${f.pass_score != null ? ` (≥${f.pass_score}%)` : ""}`)));
      if (data.forms.some((f) => String(f.id) === previous)) select.value = previous;
      renderCriteria();
      renderScores();
      if (!data.forms.length) $("scoring-msg").textContent = "没有适用的评分表，请先新建 no form applies: create one below";
    }, "加载中 loading…");
  }

  function currentForm() {
    return sheet && sheet.forms.find((f) => String(f.id) === $("scoring-form").value);
  }

  function renderCriteria() {
    const form = currentForm();
    const body = $("scoring-criteria").querySelector("tbody");
    $("scoring-save").disabled = !form;
    if (!form) { body.replaceChildren(); return; }
    body.replaceChildren(...form.criteria.map((c) => {
      const input = el("input", { type: "number", min: "0", max: String(c.max_score), step: "1", name: `score-${c.key}`, "data-key": c.key, size: "4" });
      const na = el("input", { type: "checkbox", name: `na-${c.key}`, onchange: () => { input.disabled = na.checked; } });
      return el("tr", { "data-key": c.key },
        el("td", {}, c.label, c.description ? el("div", { class: "muted" }, c.description) : ""),
        el("td", {}, c.weight), el("td", {}, input, ` / ${c.max_score}`), el("td", {}, na));
    }));
  }

  function renderScores() {
    const body = $("scoring-existing").querySelector("tbody");
    body.replaceChildren(...(sheet ? sheet.scores : []).map((s) => el("tr", { "data-score": s.id },
      el("td", {}, when(s.created_at)), el("td", {}, s.scorer),
      el("td", {}, formsById.get(s.form_id) ? formsById.get(s.form_id).name : `#${s.form_id}`),
      el("td", {}, `${fixed(s.total)}%`), el("td", {}, s.passed == null ? "–" : s.passed ? "✔ 合格 pass" : "✖ 不合格 fail"),
      el("td", {}, s.notes),
      el("td", {}, el("button", { type: "button", class: "qa-score-delete", onclick: (e) => deleteScore(s, e.target) }, "删除 Delete")))));
    if (sheet && !sheet.scores.length) body.append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "尚未评分 not scored yet")));
  }

  async function saveScore(e) {
    e.preventDefault();
    const form = currentForm();
    if (!sheet || !form) return;
    const scores = {};
    for (const c of form.criteria) {
      const input = e.target.querySelector(`input[name="score-${c.key}"]`);
      const na = e.target.querySelector(`input[name="na-${c.key}"]`);
      if (na.checked) { scores[c.key] = null; continue; }
      if (input.value === "") {
        $("scoring-msg").textContent = `请为「${c.label}」打分或勾选不适用 score "${c.label}" or tick N/A`;
        $("scoring-msg").className = "error";
        input.focus();
        return;
      }
      scores[c.key] = Number(input.value);
    }
    const body = { attempt_id: sheet.attempt_id, form_id: form.id, scores, notes: e.target.notes.value };
    await busy($("scoring-save"), "scoring-msg", async () => {
      const saved = await Api.call("POST", "/v1/qa/scores", body);
      e.target.reset();
      await loadSheet(sheet.attempt_id);
      const verdict = saved.passed == null ? "" : saved.passed ? " 合格 pass" : " 不合格 fail";
      $("scoring-msg").textContent = `已保存 saved: ${fixed(saved.total)}%${verdict}`;
      loadReport();
    }, "保存中 saving…");
  }

  async function deleteScore(s, button) {
    if (!confirm(`删除这条评分 (${fixed(s.total)}%)？\nDelete this score (${fixed(s.total)}%)?`)) return;
    await busy(button, "scoring-msg", async () => {
      await Api.call("DELETE", `/v1/qa/scores/${s.id}`);
      await loadSheet(sheet.attempt_id);
      $("scoring-msg").textContent = "已删除 deleted";
      loadReport();
    });
  }

  // ------------------------------------------------------------------ report

  function dayStart(value) { return value ? new Date(value + "T00:00:00").toISOString() : null; }

  async function loadReport() {
    const f = $("qa-report-filter");
    const params = new URLSearchParams();
    if (f.campaign_id.value) params.set("campaign_id", f.campaign_id.value);
    if (f.since.value) params.set("since", dayStart(f.since.value));
    if (f.until.value) {
      const end = new Date(f.until.value + "T00:00:00");
      end.setDate(end.getDate() + 1);
      params.set("until", end.toISOString());
    }
    await busy(f.querySelector("button"), "qa-report-msg", async () => {
      const rows = await Api.call("GET", `/v1/qa/report?${params}`);
      const body = $("qa-report").querySelector("tbody");
      body.replaceChildren(...rows.map((r) => el("tr", { "data-agent": r.agent_id ?? "" },
        el("td", {}, r.extension), el("td", {}, r.name), el("td", {}, r.scored_calls),
        el("td", { class: "qa-average" }, `${fixed(r.average)}%`), el("td", {}, `${fixed(r.lowest)}%`), el("td", {}, `${fixed(r.highest)}%`),
        el("td", {}, r.passed), el("td", {}, r.failed),
        el("td", {}, Object.entries(r.criteria).map(([k, v]) => `${k} ${fixed(v)}%`).join(" · ")))));
      if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 9, class: "muted" }, "没有评分 no scores in this period")));
    }, "加载中 loading…");
  }

  function init() {
    resetFormEditor();
    $("qa-add-criterion").addEventListener("click", () => $("qa-criteria").querySelector("tbody").append(criterionRow()));
    $("qa-form-new").addEventListener("submit", createForm);
    $("qa-forms-reload").addEventListener("click", () => loadForms());
    $("qa-report-filter").addEventListener("submit", (e) => { e.preventDefault(); loadReport(); });
    $("scoring-form").addEventListener("change", renderCriteria);
    $("scoring-sheet").addEventListener("submit", saveScore);
    $("scoring-close").addEventListener("click", () => { $("scoring").hidden = true; sheet = null; });
    loadForms();
    loadReport();
  }

  return { init, openScoring, loadForms, loadReport };
})();
