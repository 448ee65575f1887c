// The operator dashboard: a compact grid of lane cards (state, items, total, alerts, device
// dots; details and actions unfold per card), devices, the audit trail and the trace look-up,
// live from /api/events. The alert queue is alerts.js, sales and deliveries orders.js; they
// hook in through the `Board` object.
"use strict";

const Board = (() => {
  const { el, fen } = Omo;
  const T = OmoText;
  const role = document.body.dataset.role;
  const isManager = role === "manager";
  const lanes = new Map();
  const devices = new Map();
  const laneListeners = [];
  const refreshers = [];

  // ---- feedback -------------------------------------------------------------------------------
  let toastTimer = null;
  function toast(message, bad) {
    const box = document.getElementById("toast");
    box.textContent = message;
    box.classList.toggle("bad", Boolean(bad));
    box.classList.remove("hidden");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => box.classList.add("hidden"), bad ? 6000 : 3000);
  }

  function setLive(connected) {
    const badge = document.getElementById("live");
    badge.textContent = connected ? "live" : "reconnecting…";
    badge.className = `badge ${connected ? "ok" : "warn"}`;
    document.body.dataset.live = connected ? "yes" : "no";
  }

  function sessionEnded() {
    toast("Your session has ended: log in again.", true);
    setTimeout(() => window.location.assign("/"), 1500);
  }

  // ---- actions --------------------------------------------------------------------------------
  const COMMAND_ROLE = {
    clear_intervention: "attendant", void_item: "attendant", own_bag: "attendant",
    cancel_basket: "attendant", override_price: "manager", open_gate: "manager",
    out_of_service: "manager", return_to_service: "manager", reset_lane: "manager",
  };

  async function act(laneId, command, reason, fields) {
    if (!reason || !reason.trim()) {
      toast("Say why first: type a reason.", true);
      return false;
    }
    const result = await Omo.postJson(`/api/lanes/${encodeURIComponent(laneId)}/actions`, {
      reason: reason.trim(), command, ...(fields || {}),
    });
    if (result.ok) {
      showLane(result.body);
      toast(`Lane ${laneId}: ${Omo.words(command)} done.`);
      scheduleRefresh();
      return true;
    }
    const why = (result.body && result.body.error) || `HTTP ${result.status}`;
    if (result.status === 401) sessionEnded();
    else toast(`Lane ${laneId}: ${why}`, true);
    scheduleRefresh();
    return false;
  }

  function manageable(button, command) {
    if (COMMAND_ROLE[command] === "manager") {
      button.classList.add("needs-manager");
      if (!isManager) {
        button.disabled = true;
        button.title = "Needs a manager";
      }
    }
    return button;
  }

  // ---- lanes ----------------------------------------------------------------------------------
  const STATE_BADGE = {
    idle: "", shopping: "info", needs_attendant: "warn", paying: "info", paid: "ok",
    exiting: "ok", closed: "", out_of_service: "bad",
  };

  function laneCard(id) {
    const container = document.getElementById("lanes");
    let card = container.querySelector(`.lane[data-lane="${CSS.escape(id)}"]`);
    if (card) return card;
    container.querySelector("p.muted")?.remove();
    const reason = el("input", { class: "lane-reason", placeholder: T.t("lane_reason"), "aria-label": `Reason for lane ${id}` });
    const command = (name, cls, label) => manageable(el("button", {
      class: `${cls} small`, type: "button",
      onclick: () => act(id, typeof name === "function" ? name() : name, reason.value)
        .then((ok) => ok && (reason.value = "")),
    }, label), typeof name === "function" ? "out_of_service" : name);
    const service = command(() => (card.dataset.state === "out_of_service" ? "return_to_service" : "out_of_service"),
      "secondary service", T.t("out_of_service"));
    card = el("article", { class: "lane", dataset: { lane: id } },
      el("div", { class: "lane-head" },
        el("h3", { title: `Lane ${id}` }, el("span", { class: "muted" }, "#"), id),
        el("span", { class: "badge state" })),
      el("div", { class: "total" }, el("span", { class: "count" }), el("span", { class: "amount" })),
      el("div", { class: "lane-foot" }, el("div", { class: "dots", "aria-label": "devices" }),
        el("span", { class: "badge alert-n hidden", title: T.t("alerts") })),
      el("details", { class: "more" },
        el("summary", { text: T.t("details") }),
        el("div", { class: "prompt" }),
        el("div", { class: "interventions" }),
        el("table", { class: "basket" }, el("tbody")),
        el("div", { class: "lane-actions" },
          el("div", { class: "row" }, reason),
          el("div", { class: "row" },
            command("open_gate", "warn open-gate", T.t("open_gate")), service,
            command("cancel_basket", "secondary cancel-basket", T.t("cancel_basket")),
            command("reset_lane", "secondary reset-lane", T.t("reset_lane"))),
          el("a", { class: "screen-link", href: `/lanes/${encodeURIComponent(id)}/screen`, target: "_blank", rel: "noopener" }, T.t("lane_screen")))));
    // Keep lanes in id order (numeric where they are numbers).
    const after = [...container.querySelectorAll(".lane")].find((other) =>
      other.dataset.lane.localeCompare(id, undefined, { numeric: true }) > 0);
    container.insertBefore(card, after || null);
    showDots(id);
    return card;
  }

  function basketRows(card, view) {
    const id = view.lane_id;
    const tbody = card.querySelector(".basket tbody");
    const items = (view.session && view.session.basket && view.session.basket.items) || [];
    const voidable = view.state === "shopping" || view.state === "needs_attendant";
    tbody.replaceChildren(...items.map((item) => el("tr", { dataset: { line: item.line, gtin: item.gtin } },
      el("td", { class: "muted", text: item.line }),
      el("td", { text: item.name }),
      el("td", { text: item.weight_g ? `${item.weight_g} g` : `× ${item.quantity}` }),
      el("td", { class: "num", text: fen(item.price_fen) }),
      el("td", { class: "num" }, el("button", {
        class: "secondary void small", type: "button", disabled: !voidable,
        onclick: () => {
          const reason = card.querySelector(".lane-reason");
          act(id, "void_item", reason.value, { line: item.line }).then((ok) => ok && (reason.value = ""));
        },
      }, T.t("void"))))));
    if (!items.length) tbody.append(el("tr", {}, el("td", { class: "muted", colspan: 5, text: T.t("basket_empty") })));
  }

  function interventionBoxes(card, view) {
    const id = view.lane_id;
    const box = card.querySelector(".interventions");
    const open = view.interventions || [];
    const ids = new Set(open.map((i) => String(i.id)));
    for (const old of box.querySelectorAll(".intervention")) {
      if (!ids.has(old.dataset.id)) old.remove();
    }
    for (const intervention of open) {
      if (box.querySelector(`.intervention[data-id="${intervention.id}"]`)) continue;
      const gate = ["tailgating", "forced_passage", "gate_fault"].includes(intervention.kind);
      const reason = el("input", { class: "reason", placeholder: T.t("reason_required"), "aria-label": `Reason for ${T.cause(intervention.kind)}` });
      const clear = (approve) => act(id, "clear_intervention", reason.value, { id: intervention.id, approve });
      box.append(el("div", { class: `intervention${gate ? " gate" : ""}`, dataset: { id: intervention.id, kind: intervention.kind } },
        el("div", { class: "what" }, T.cause(intervention.kind),
          intervention.line ? el("span", { class: "muted" }, ` · line ${intervention.line}`) : null),
        el("div", { text: intervention.detail || "" }),
        el("div", { class: "row" }, reason,
          el("button", { class: "good approve small", type: "button", onclick: () => clear(true) }, T.t("approve")),
          el("button", { class: "bad reject small", type: "button", onclick: () => clear(false) }, T.t("reject")))));
    }
  }

  function showLane(view) {
    if (!view || !view.lane_id) return;
    const known = lanes.get(view.lane_id);
    if (known && known.seq > view.seq) return; // a stale update
    const completedBefore = known ? known.completed : view.completed;
    lanes.set(view.lane_id, view);
    const card = laneCard(view.lane_id);
    card.className = `lane ${view.state}`;
    card.dataset.state = view.state;
    card.dataset.seq = view.seq;
    const badge = card.querySelector(".badge.state");
    badge.textContent = T.state(view.state);
    badge.className = `badge state ${STATE_BADGE[view.state] || ""}`;
    const alerts = (view.interventions || []).length;
    const alertBadge = card.querySelector(".alert-n");
    alertBadge.textContent = `⚠ ${alerts}`;
    alertBadge.classList.toggle("hidden", alerts === 0);
    alertBadge.classList.toggle("bad", alerts > 0);
    card.dataset.alerts = alerts;
    card.querySelector(".prompt").textContent = (view.prompt && view.prompt.text) || "";
    basketRows(card, view);
    interventionBoxes(card, view);
    const n = view.item_count || 0;
    card.querySelector(".count").textContent = `${n} ${T.t(n === 1 ? "item" : "items_n")}`;
    card.querySelector(".amount").textContent = fen(view.total_fen);
    card.querySelector("button.service").textContent =
      T.t(view.state === "out_of_service" ? "return_to_service" : "out_of_service");
    if (view.completed !== completedBefore) scheduleRefresh();
    summary();
    for (const listener of laneListeners) listener(view);
  }

  function summary() {
    const all = [...lanes.values()];
    const busy = all.filter((v) => v.state !== "idle").length;
    const stopped = all.filter((v) => v.state === "needs_attendant").length;
    document.getElementById("lane-summary").textContent =
      `${all.length} · ${busy} ${T.t("in_use")}${stopped ? ` · ${stopped} ${T.state("needs_attendant")}` : ""}`;
  }

  // ---- devices --------------------------------------------------------------------------------
  const STATUS_BADGE = { online: "ok", offline: "bad", fault: "warn" };

  const DEVICE_SHORT = { scanner: "scan", scale: "scale", gate: "gate", camera: "cam", screen: "screen" };

  /** The health dots of lane `id`'s card: one per device named `lane-{id}-...`. */
  function showDots(id) {
    const card = document.querySelector(`.lane[data-lane="${CSS.escape(id)}"]`);
    if (!card) return;
    const prefix = `lane-${id}-`;
    const own = [...devices.values()].filter((d) => d.device.startsWith(prefix))
      .sort((a, b) => a.device.localeCompare(b.device));
    card.querySelector(".dots").replaceChildren(...own.map((d) => el("span", {
      class: `dot ${STATUS_BADGE[d.status] || ""}`, dataset: { device: d.device, status: d.status },
      title: `${d.device.slice(prefix.length)}: ${d.status}`,
    }, DEVICE_SHORT[d.kind] || d.device.slice(prefix.length, prefix.length + 5))));
  }

  function showDevice(health) {
    if (!health || !health.device) return;
    devices.set(health.device, health);
    const tbody = document.querySelector("#devices tbody");
    let row = tbody.querySelector(`tr[data-device="${CSS.escape(health.device)}"]`);
    if (!row) {
      row = el("tr", { dataset: { device: health.device } },
        el("td", {}, el("div", { class: "name" }), el("div", { class: "muted kind" })),
        el("td", {}, el("span", { class: "badge status" }), el("div", { class: "muted reason" })),
        el("td", { class: "seen" }), el("td", { class: "num errors" }), el("td", { class: "num reconnects" }));
      const after = [...tbody.rows].find((other) =>
        other.dataset.device.localeCompare(health.device, undefined, { numeric: true }) > 0);
      tbody.insertBefore(row, after || null);
    }
    row.dataset.status = health.status;
    row.querySelector(".name").textContent = health.device;
    row.querySelector(".kind").textContent = health.kind || "";
    const badge = row.querySelector(".badge.status");
    badge.textContent = health.status;
    badge.className = `badge status ${STATUS_BADGE[health.status] || ""}`;
    row.querySelector(".reason").textContent = health.reason || "";
    row.querySelector(".errors").textContent =
      `${health.errors || 0}${health.consecutive_failures ? ` (${health.consecutive_failures} in a row)` : ""}`;
    row.querySelector(".reconnects").textContent = String(health.disconnects || 0);
    row.querySelector(".seen").textContent = seen(health);
    const lane = /^lane-(.+)-[^-]+$/.exec(health.device);
    if (lane) showDots(lane[1]);
  }

  function seen(health) {
    if (health.last_seen) return Omo.ago(health.last_seen);
    return health.status === "online" ? `online ${Omo.ago(health.since)}` : "never";
  }

  function tickDevices() {
    for (const row of document.querySelectorAll("#devices tbody tr")) {
      const health = devices.get(row.dataset.device);
      if (health) row.querySelector(".seen").textContent = seen(health);
    }
  }

  // ---- audit trail, trace ---------------------------------------------------------------------
  async function refreshAudit() {
    const response = await fetch("/api/actions?limit=30", { credentials: "same-origin", cache: "no-store" })
      .catch(() => null);
    if (!response) return;
    if (response.status === 401) return sessionEnded();
    if (!response.ok) return;
    const data = await response.json();
    const tbody = document.querySelector("#audit tbody");
    tbody.replaceChildren(...(data.actions || []).map((a) => {
      const command = a.command || {};
      const detail = Object.entries(command).filter(([k]) => k !== "command").map(([k, v]) => `${k} ${v}`).join(", ");
      return el("tr", { dataset: { id: a.id, command: command.command || "" } },
        el("td", { text: Omo.clock(a.at) }),
        el("td", { text: a.lane_id }),
        el("td", {}, a.operator, el("div", { class: "muted", text: a.role })),
        el("td", {}, Omo.words(command.command), detail ? el("div", { class: "muted", text: detail }) : null),
        el("td", { text: a.reason }),
        el("td", { class: a.outcome === "ok" ? "" : "error", text: a.outcome }));
    }));
    if (!tbody.rows.length) tbody.append(el("tr", {}, el("td", { colspan: 6, class: "muted", text: "—" })));
  }

  /** The trace look-up: a GS1 Digital Link on the cloud's resolver, opened in a new tab. */
  async function setUpTrace() {
    const store = await Omo.getJson("/api/store");
    const resolver = (store && store.resolver_url) || "";
    document.getElementById("trace-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const gtin = document.getElementById("trace-gtin").value.trim().replace(/\D/g, "").padStart(14, "0");
      const lot = document.getElementById("trace-lot").value.trim();
      const path = `/01/${gtin}` + (lot ? `/10/${encodeURIComponent(lot)}` : "");
      const link = el("a", { href: resolver + path, target: "_blank", rel: "noopener", text: resolver + path });
      document.getElementById("trace-result").replaceChildren("Journey: ", link);
      window.open(resolver + path, "_blank", "noopener");
    });
  }

  let refreshTimer = null;
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => { refreshAudit(); for (const r of refreshers) r(); }, 300);
  }

  // ---- start ----------------------------------------------------------------------------------
  async function snapshot() {
    const [laneData, deviceData] = await Promise.all([Omo.getJson("/api/lanes"), Omo.getJson("/api/devices")]);
    for (const health of (deviceData && deviceData.devices) || []) showDevice(health);
    for (const view of (laneData && laneData.lanes) || []) showLane(view);
    if (!lanes.size) document.getElementById("lanes").replaceChildren(el("p", { class: "muted", text: "No lanes yet." }));
    scheduleRefresh();
  }

  /** Builds every card again in the other language. */
  function relabel() {
    T.apply();
    document.getElementById("lang").textContent = T.lang === "zh" ? "English" : "中文";
    const views = [...lanes.values()];
    lanes.clear();
    document.getElementById("lanes").replaceChildren();
    for (const view of views) showLane(view);
  }

  document.addEventListener("DOMContentLoaded", () => {
    T.apply();
    document.getElementById("lang").textContent = T.lang === "zh" ? "English" : "中文";
    document.getElementById("lang").addEventListener("click", () => {
      T.setLang(T.lang === "zh" ? "en" : "zh");
      relabel();
      scheduleRefresh();
    });
    setUpTrace();
    Omo.live({ lane: showLane, device: showDevice }, setLive, snapshot);
    setInterval(tickDevices, 1000);
    // The audit trail, sales and deliveries are not on the live stream: refresh them now and then.
    setInterval(scheduleRefresh, 10000);
  });

  return {
    lanes, devices, isManager, toast, sessionEnded, scheduleRefresh, showLane,
    onLane: (listener) => laneListeners.push(listener),
    onRefresh: (refresh) => refreshers.push(refresh),
  };
})();
