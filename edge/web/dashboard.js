// The operator dashboard: lanes, devices, sales and the audit trail, live from /api/events.
"use strict";

(() => {
  const { el, fen, words } = Omo;
  const role = document.body.dataset.role;
  const isManager = role === "manager";
  const lanes = new Map();
  const devices = new Map();

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

  // ---- actions --------------------------------------------------------------------------------
  const COMMAND_ROLE = {
    clear_intervention: "attendant",
    void_item: "attendant",
    own_bag: "attendant",
    override_price: "manager",
    open_gate: "manager",
    out_of_service: "manager",
    return_to_service: "manager",
  };

  async function act(laneId, command, reason, fields) {
    if (!reason || !reason.trim()) {
      toast("Say why first: type a reason.", true);
      return false;
    }
    const result = await Omo.postJson(`/api/lanes/${encodeURIComponent(laneId)}/actions`, {
      reason: reason.trim(),
      command,
      ...(fields || {}),
    });
    if (result.ok) {
      showLane(result.body);
      toast(`Lane ${laneId}: ${words(command)} done.`);
      scheduleRefresh();
      return true;
    }
    const why = (result.body && result.body.error) || `HTTP ${result.status}`;
    if (result.status === 401) {
      toast("Your session has ended: log in again.", true);
      setTimeout(() => window.location.assign("/"), 1500);
    } else {
      toast(`Lane ${laneId}: ${why}`, true);
    }
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
    const reason = el("input", {
      class: "lane-reason", placeholder: "Reason (for void, gate, service)", "aria-label": `Reason for lane ${id}`,
    });
    const gate = manageable(el("button", {
      class: "warn open-gate", type: "button",
      onclick: () => act(id, "open_gate", reason.value).then((ok) => ok && (reason.value = "")),
    }, "Open gate"), "open_gate");
    const service = manageable(el("button", {
      class: "secondary service", type: "button",
      onclick: () => {
        const command = card.dataset.state === "out_of_service" ? "return_to_service" : "out_of_service";
        act(id, command, reason.value).then((ok) => ok && (reason.value = ""));
      },
    }, "Out of service"), "out_of_service");
    card = el("article", { class: "lane", dataset: { lane: id } },
      el("div", { class: "lane-head" },
        el("h3", { text: `Lane ${id}` }),
        el("span", { class: "badge state" }),
        el("a", { class: "screen-link", href: `/lanes/${encodeURIComponent(id)}/screen`, target: "_blank", rel: "noopener" }, "lane screen ↗")),
      el("div", { class: "prompt" }),
      el("div", { class: "interventions" }),
      el("table", { class: "basket" }, el("tbody")),
      el("div", { class: "total" }, el("span", { class: "count" }), el("span", { class: "amount" })),
      el("div", { class: "lane-actions" },
        el("div", { class: "row" }, reason),
        el("div", { class: "row" }, gate, service)));
    // Keep lanes in id order (numeric where they are numbers).
    const after = [...container.querySelectorAll(".lane")].find((other) =>
      other.dataset.lane.localeCompare(id, undefined, { numeric: true }) > 0);
    container.insertBefore(card, after || null);
    return card;
  }

  function basketRows(card, view) {
    const id = view.lane_id;
    const tbody = card.querySelector(".basket tbody");
    const items = (view.session && view.session.basket && view.session.basket.items) || [];
    const voidable = view.state === "shopping" || view.state === "needs_attendant";
    tbody.replaceChildren(...items.map((item) => {
      const amount = item.weight_g ? `${item.weight_g} g` : `× ${item.quantity}`;
      const discounts = item.discounts || [];
      return el("tr", { dataset: { line: item.line, gtin: item.gtin } },
        el("td", { class: "muted", text: item.line }),
        el("td", {}, item.name, ...discounts.map((d) =>
          el("div", { class: "muted" }, `${d.text || d.name || "discount"} ${fen(-(Math.abs(d.amount_fen || 0)))}`))),
        el("td", { text: amount }),
        el("td", { class: "num", text: fen(item.price_fen) }),
        el("td", { class: "num" }, el("button", {
          class: "secondary void", type: "button", disabled: !voidable,
          onclick: () => {
            const reason = card.querySelector(".lane-reason");
            act(id, "void_item", reason.value, { line: item.line }).then((ok) => ok && (reason.value = ""));
          },
        }, "Void")));
    }));
    if (!items.length) {
      tbody.append(el("tr", {}, el("td", { class: "muted", colspan: 5, text: "Basket empty" })));
    }
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
      const reason = el("input", {
        class: "reason", placeholder: "Reason (required)", "aria-label": `Reason for ${words(intervention.kind)}`,
      });
      const clear = (approve) => act(id, "clear_intervention", reason.value, { id: intervention.id, approve });
      box.append(el("div", {
        class: `intervention${gate ? " gate" : ""}`,
        dataset: { id: intervention.id, kind: intervention.kind },
      },
        el("div", { class: "what" }, words(intervention.kind),
          intervention.line ? el("span", { class: "muted" }, ` · line ${intervention.line}`) : null),
        el("div", { text: intervention.detail || "" }),
        el("div", { class: "muted", text: `raised ${Omo.clock(intervention.raised_at)}` }),
        el("div", { class: "row" }, reason,
          el("button", { class: "good approve", type: "button", onclick: () => clear(true) }, "Approve"),
          el("button", { class: "bad reject", type: "button", onclick: () => clear(false) }, "Reject"))));
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
    badge.textContent = words(view.state);
    badge.className = `badge state ${STATE_BADGE[view.state] || ""}`;
    card.querySelector(".prompt").textContent = (view.prompt && view.prompt.text) || "";
    basketRows(card, view);
    interventionBoxes(card, view);
    card.querySelector(".count").textContent =
      `${view.item_count || 0} item${view.item_count === 1 ? "" : "s"}`;
    card.querySelector(".amount").textContent = fen(view.total_fen);
    const service = card.querySelector("button.service");
    service.textContent = view.state === "out_of_service" ? "Return to service" : "Out of service";
    if (view.completed !== completedBefore) scheduleRefresh();
  }

  // ---- devices --------------------------------------------------------------------------------
  const STATUS_BADGE = { online: "ok", offline: "bad", fault: "warn" };

  function showDevice(health) {
    if (!health || !health.device) return;
    devices.set(health.device, health);
    const tbody = document.querySelector("#devices tbody");
    let row = tbody.querySelector(`tr[data-device="${CSS.escape(health.device)}"]`);
    if (!row) {
      row = el("tr", { dataset: { device: health.device } },
        el("td", {}, el("div", { class: "name" }), el("div", { class: "muted kind" })),
        el("td", {}, el("span", { class: "badge status" }), el("div", { class: "muted reason" })),
        el("td", { class: "seen" }),
        el("td", { class: "num errors" }),
        el("td", { class: "num reconnects" }));
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

  // ---- sales, audit trail, deliveries ---------------------------------------------------------
  async function refreshSales() {
    const data = await Omo.getJson("/api/sales?limit=15");
    if (!data) return;
    const tbody = document.querySelector("#sales tbody");
    tbody.replaceChildren(...(data.sales || []).map((sale) => el("tr", { dataset: { order: sale.order_id } },
      el("td", { text: Omo.clock(sale.paid_at) }),
      el("td", { text: sale.lane_id }),
      el("td", { text: (sale.basket && sale.basket.items || []).reduce((n, i) => n + (i.quantity || 1), 0) }),
      el("td", { class: "num", text: fen(sale.total_fen) }),
      el("td", { class: "muted", text: sale.order_id, title: sale.order_id }))));
    if (!tbody.rows.length) tbody.append(el("tr", {}, el("td", { colspan: 5, class: "muted", text: "No sales yet" })));
  }

  async function refreshAudit() {
    const response = await fetch("/api/actions?limit=30", { credentials: "same-origin", cache: "no-store" })
      .catch(() => null);
    if (!response) return;
    if (response.status === 401) {
      toast("Your session has ended: log in again.", true);
      setTimeout(() => window.location.assign("/"), 1500);
      return;
    }
    if (!response.ok) return;
    const data = await response.json();
    const tbody = document.querySelector("#audit tbody");
    tbody.replaceChildren(...(data.actions || []).map((a) => {
      const command = a.command || {};
      const detail = Object.entries(command).filter(([k]) => k !== "command")
        .map(([k, v]) => `${k} ${v}`).join(", ");
      return el("tr", { dataset: { id: a.id, command: command.command || "" } },
        el("td", { text: Omo.clock(a.at) }),
        el("td", { text: a.lane_id }),
        el("td", {}, a.operator, el("div", { class: "muted", text: a.role })),
        el("td", {}, words(command.command), detail ? el("div", { class: "muted", text: detail }) : null),
        el("td", { text: a.reason }),
        el("td", { class: a.outcome === "ok" ? "" : "error", text: a.outcome }));
    }));
    if (!tbody.rows.length) tbody.append(el("tr", {}, el("td", { colspan: 6, class: "muted", text: "No actions yet" })));
  }

  /** Delivery orders from the delivery board: late ones first, each with its rider and the time
   *  left on its 30-minute promise. */
  function showDeliveryOrders(orders) {
    const list = document.getElementById("delivery-orders");
    list.replaceChildren(...orders.map((o) => {
      const left = Math.round((o.seconds_left || 0) / 60);
      const when = o.late ? "late" : `${left} min left`;
      const rider = o.rider_id ? `rider ${o.rider_id}` : "no rider yet";
      const cls = o.late ? "error" : (o.at_risk ? "warn" : "");
      return el("li", { dataset: { order: o.order_id }, class: cls },
        el("strong", { text: when }), ` · ${o.status || ""} · ${rider} · ${Math.round(o.distance_m || 0)} m · `,
        el("span", { class: "muted", text: o.address || "" }));
    }));
    document.getElementById("delivery-empty").classList.toggle("hidden", orders.length > 0);
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

  async function refreshDelivery() {
    const board = await Omo.getJson("/api/delivery/board");
    if (board && Array.isArray(board.orders)) showDeliveryOrders(board.orders);
  }

  let refreshTimer = null;
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => { refreshSales(); refreshAudit(); }, 300);
  }

  // ---- start ----------------------------------------------------------------------------------
  async function snapshot() {
    const [laneData, deviceData] = await Promise.all([Omo.getJson("/api/lanes"), Omo.getJson("/api/devices")]);
    for (const view of (laneData && laneData.lanes) || []) showLane(view);
    for (const health of (deviceData && deviceData.devices) || []) showDevice(health);
    if (!lanes.size) document.getElementById("lanes").replaceChildren(el("p", { class: "muted", text: "No lanes yet." }));
    scheduleRefresh();
  }

  showDeliveryOrders([]);
  refreshDelivery();
  setInterval(refreshDelivery, 1000);
  setUpTrace();
  Omo.live({ lane: showLane, device: showDevice }, setLive, snapshot);
  setInterval(tickDevices, 1000);
  // Sales and the audit trail are not on the live stream: refresh them now and then too.
  setInterval(scheduleRefresh, 10000);
})();
