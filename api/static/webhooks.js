// Result webhooks (supervisors): a campaign's webhooks (create, edit, delete, rotate the secret,
// send a test event), one webhook's recent deliveries, and the campaign's dead letters.
// The secret is in the API's answer only when a webhook is created or its secret rotated.
"use strict";

const Webhooks = (() => {
  const EVENTS = ["attempt.ended", "attempt.dispositioned", "callback.due"];
  const $ = (id) => document.getElementById(id);
  let campaignId = null;
  let editing = null; // the webhook being edited, or null: the form creates
  let watching = null; // the webhook whose deliveries are shown
  const hooks = new Map();
  const shown = new Map(); // what each table was last rendered from: re-render only on change

  function changed(table, data) {
    const key = JSON.stringify(data);
    if (shown.get(table) === key) return false;
    shown.set(table, key);
    return true;
  }

  const base = () => `/v1/campaigns/${campaignId}/webhooks`;

  function showSecret(hook) {
    $("wh-secret-value").textContent = hook.secret;
    $("wh-secret").dataset.webhook = hook.id;
    $("wh-secret").hidden = false;
  }

  function hideSecret() {
    $("wh-secret-value").textContent = "";
    $("wh-secret").hidden = true;
  }

  function counts(d) {
    return `${d.pending || 0} 待发 pending · ${d.delivered || 0} 已送达 delivered · ${d.dead || 0} 死信 dead`;
  }

  function render() {
    if (!changed("webhooks", [...hooks.values()])) return;
    $("webhooks").querySelector("tbody").replaceChildren(...[...hooks.values()].map((h) => {
      const act = (label, cls, fn) => el("button", { type: "button", class: cls, onclick: (e) => fn(e.target) }, label);
      return el("tr", { "data-webhook": h.id },
        el("td", {}, h.id),
        el("td", {}, el("div", {}, h.url), el("div", { class: "muted" }, h.description || "")),
        el("td", {}, h.events.join(", ")),
        el("td", {}, h.active ? "✔ 启用 on" : "✖ 停用 off"),
        el("td", {}, `${h.max_attempts} × ${h.timeout_s}s`),
        el("td", { class: "wh-counts" }, counts(h.deliveries || {})),
        el("td", {},
          act("测试 Send test", "wh-test", (b) => sendTest(h, b)),
          act("投递 Deliveries", "wh-deliveries", () => watch(h)),
          act("编辑 Edit", "wh-edit", () => edit(h)),
          act("换密钥 Rotate secret", "wh-rotate", (b) => rotate(h, b)),
          act("删除 Delete", "wh-delete", (b) => remove(h, b))));
    }));
    if (!hooks.size) {
      $("webhooks").querySelector("tbody").append(
        el("tr", {}, el("td", { colspan: 7, class: "muted" }, "暂无回调 no webhooks for this campaign")));
    }
  }

  async function load() {
    if (campaignId == null) return;
    shown.delete("webhooks");
    const cid = campaignId;
    await busy($("wh-reload"), "wh-msg", async () => {
      const list = await Api.call("GET", base());
      if (cid !== campaignId) return;
      hooks.clear();
      for (const h of list) hooks.set(h.id, h);
      render();
    }, "加载中 loading…");
    await loadDeadLetters();
  }

  function formBody(form) {
    const events = [...form.querySelectorAll("input[name=ev]:checked")].map((i) => i.value);
    const body = { url: form.url.value.trim(), description: form.description.value.trim(), events, active: form.active.checked };
    if (form.max_attempts.value !== "") body.max_attempts = Number(form.max_attempts.value);
    if (form.timeout_s.value !== "") body.timeout_s = Number(form.timeout_s.value);
    return body;
  }

  function resetForm() {
    const form = $("wh-form");
    editing = null;
    form.reset();
    $("wh-form-title").textContent = "新建回调 New webhook";
    $("wh-save").textContent = "创建 Create";
    $("wh-cancel").hidden = true;
  }

  function edit(h) {
    const form = $("wh-form");
    editing = h;
    form.url.value = h.url;
    form.description.value = h.description || "";
    for (const box of form.querySelectorAll("input[name=ev]")) box.checked = h.events.includes(box.value);
    form.max_attempts.value = h.max_attempts;
    form.timeout_s.value = h.timeout_s;
    form.active.checked = h.active;
    $("wh-form-title").textContent = `编辑回调 Edit webhook #${h.id}`;
    $("wh-save").textContent = "保存 Save";
    $("wh-cancel").hidden = false;
    $("wh-form-msg").textContent = "";
    form.url.focus();
  }

  async function save(e) {
    e.preventDefault();
    const form = e.target;
    if (campaignId == null) { $("wh-form-msg").textContent = "先选择活动 pick a campaign first"; return; }
    const body = formBody(form);
    if (!body.events.length) { $("wh-form-msg").textContent = "至少选择一个事件 pick at least one event"; return; }
    await busy($("wh-save"), "wh-form-msg", async () => {
      if (editing) {
        const updated = await Api.call("PATCH", `${base()}/${editing.id}`, body);
        hooks.set(updated.id, updated);
        $("wh-form-msg").textContent = `已保存 saved #${updated.id}`;
      } else {
        const created = await Api.call("POST", base(), body);
        hooks.set(created.id, created);
        showSecret(created);
        $("wh-form-msg").textContent = `已创建 created #${created.id}`;
      }
      resetForm();
      render();
    }, "保存中 saving…");
  }

  async function sendTest(h, button) {
    await busy(button, "wh-msg", async () => {
      const delivery = await Api.call("POST", `${base()}/${h.id}/test`);
      $("wh-msg").textContent = `测试事件已排队 test event queued: delivery #${delivery.id}`;
      await watch(h);
      schedule(300); // follow it while it is on its way
    }, "发送中 sending…");
  }

  async function rotate(h, button) {
    if (!confirm(`为回调 #${h.id} 生成新密钥？旧密钥立即失效。\nRotate the secret of webhook #${h.id}? The old one stops working at once.`)) return;
    await busy(button, "wh-msg", async () => {
      showSecret(await Api.call("POST", `${base()}/${h.id}/rotate-secret`));
      $("wh-msg").textContent = `已更换密钥 secret rotated for #${h.id}`;
    });
  }

  async function remove(h, button) {
    if (!confirm(`删除回调 #${h.id} (${h.url})？排队和死信的投递也会删除。\nDelete webhook #${h.id}? Its queued and dead deliveries go with it.`)) return;
    await busy(button, "wh-msg", async () => {
      await Api.call("DELETE", `${base()}/${h.id}`);
      hooks.delete(h.id);
      if (watching && watching.id === h.id) { watching = null; $("wh-deliveries-box").hidden = true; }
      if (editing && editing.id === h.id) resetForm();
      render();
      $("wh-msg").textContent = `已删除 deleted #${h.id}`;
      await loadDeadLetters();
    });
  }

  async function watch(h) {
    watching = h;
    $("wh-deliveries-box").hidden = false;
    $("wh-deliveries-title").textContent = `#${h.id} ${h.url}`;
    await loadDeliveries();
  }

  async function loadDeliveries(quiet = false) {
    if (!watching) return;
    const h = watching;
    const work = async () => {
      const page = await Api.call("GET", `${base()}/${h.id}/deliveries?limit=20`);
      if (watching !== h || !changed("deliveries", [h.id, page])) return;
      $("wh-deliveries").querySelector("tbody").replaceChildren(...page.items.map((d) => el("tr", { "data-delivery": d.id, class: "status-" + d.status },
        el("td", {}, d.id), el("td", {}, d.event_type), el("td", { class: "wh-status" }, d.status),
        el("td", {}, d.attempts), el("td", {}, when(d.last_attempt_at)), el("td", {}, d.last_status ?? "–"),
        el("td", { class: "wh-error" }, d.last_error || ""), el("td", {}, when(d.delivered_at)))));
      $("wh-deliveries-msg").textContent = `${page.total} 条 deliveries kept`;
    };
    if (quiet) await work().catch(() => {});
    else { shown.delete("deliveries"); await busy(null, "wh-deliveries-msg", work, "加载中 loading…"); }
  }

  async function loadDeadLetters(quiet = false) {
    if (campaignId == null) return;
    const cid = campaignId;
    const work = async () => {
      const page = await Api.call("GET", `/v1/webhooks/dead-letters?campaign_id=${cid}&limit=100`);
      if (cid !== campaignId || !changed("dead", [cid, page])) return;
      const body = $("dead-letters").querySelector("tbody");
      body.replaceChildren(...page.items.map((d) => el("tr", { "data-delivery": d.id },
        el("td", {}, d.id), el("td", {}, `#${d.webhook_id}`), el("td", {}, d.event_type), el("td", {}, d.attempts),
        el("td", {}, when(d.last_attempt_at)), el("td", { class: "wh-error" }, d.last_error || ""),
        el("td", {},
          el("button", { type: "button", class: "dl-retry", onclick: (e) => retryOne(d, e.target) }, "重试 Retry"),
          el("button", { type: "button", class: "dl-delete", onclick: (e) => deleteOne(d, e.target) }, "删除 Delete")))));
      if (!page.items.length) body.append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "没有死信 no dead letters")));
      $("dl-count").textContent = `${page.total} 条死信 dead letters`;
    };
    if (quiet) await work().catch(() => {});
    else { shown.delete("dead"); await busy($("dl-reload"), "dl-msg", work, "加载中 loading…"); }
  }

  async function afterChange(text) {
    await loadDeadLetters(true);
    $("dl-msg").textContent = text;
    await refreshCounts();
    await loadDeliveries(true);
    schedule(300);
  }

  async function retryOne(d, button) {
    await busy(button, "dl-msg", async () => {
      await Api.call("POST", `/v1/webhooks/dead-letters/${d.id}/retry`);
      await afterChange(`已重新排队 requeued #${d.id}`);
    });
  }

  async function deleteOne(d, button) {
    if (!confirm(`删除死信 #${d.id}？它不会再被发送。\nDelete dead letter #${d.id}? It will not be sent again.`)) return;
    await busy(button, "dl-msg", async () => {
      await Api.call("DELETE", `/v1/webhooks/dead-letters/${d.id}`);
      await afterChange(`已删除 deleted #${d.id}`);
    });
  }

  async function retryAll(button) {
    if (campaignId == null) return;
    if (!confirm("重新发送本活动的全部死信？\nRetry every dead letter of this campaign?")) return;
    await busy(button, "dl-msg", async () => {
      const r = await Api.call("POST", `/v1/webhooks/dead-letters/retry?campaign_id=${campaignId}`);
      await afterChange(`已重新排队 requeued ${r.requeued}`);
    });
  }

  // The delivery counts of the listed webhooks, without touching the form.
  async function refreshCounts() {
    if (campaignId == null) return;
    const cid = campaignId;
    const list = await Api.call("GET", base()).catch(() => null);
    if (!list || cid !== campaignId) return;
    hooks.clear();
    for (const h of list) hooks.set(h.id, h);
    render();
  }

  // Keep the counts, the shown deliveries and the dead letters fresh: often while a delivery is
  // on its way (pending), every few seconds otherwise.
  const pending = () => [...hooks.values()].some((h) => (h.deliveries || {}).pending > 0);

  let timer = null;

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  async function poll() {
    timer = null;
    try {
      if (!document.hidden && campaignId != null) {
        await Promise.all([refreshCounts(), loadDeliveries(true), loadDeadLetters(true)]);
      }
    } finally {
      if (timer === null) schedule(pending() ? 500 : 3000);
    }
  }

  function init() {
    $("wh-campaign").addEventListener("change", (e) => {
      campaignId = e.target.value ? Number(e.target.value) : null;
      watching = null; $("wh-deliveries-box").hidden = true;
      hideSecret(); resetForm(); $("wh-form-msg").textContent = "";
      load();
    });
    $("wh-reload").addEventListener("click", () => load());
    $("wh-form").addEventListener("submit", save);
    $("wh-cancel").addEventListener("click", () => { resetForm(); $("wh-form-msg").textContent = ""; });
    $("wh-deliveries-reload").addEventListener("click", () => loadDeliveries());
    $("dl-reload").addEventListener("click", () => loadDeadLetters());
    $("dl-retry-all").addEventListener("click", (e) => retryAll(e.target));
    $("wh-secret-done").addEventListener("click", hideSecret);
    $("wh-secret-copy").addEventListener("click", () => {
      navigator.clipboard && navigator.clipboard.writeText($("wh-secret-value").textContent).catch(() => {});
    });
    schedule(3000);
  }

  return { init, load, EVENTS };
})();
