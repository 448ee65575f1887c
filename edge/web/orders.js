// Sales and order look-up (GET /api/orders by order id, wallet or time range: payment, member
// with a masked wallet, discounts), a manager's refund (POST /api/orders/{id}/refund), and
// deliveries: open orders with their state in words, rider, promise (late ones in colour), and
// the history of delivered orders.
"use strict";

(() => {
  const { el, fen } = Omo;
  const T = OmoText;
  let query = "";

  // ---- sales and look-up ----------------------------------------------------------------------
  function paymentCell(o) {
    const p = o.payment || {};
    const cls = p.status === "paid" ? "ok" : "warn";
    return el("td", {}, el("span", { class: `badge ${cls}`, text: T.payment(p.status) }), " ",
      el("strong", { text: fen(p.amount_fen) }),
      p.refunded_fen ? el("div", { class: "muted", text: `${T.t("refund")} ${fen(p.refunded_fen)}` }) : null);
  }

  function discountCell(o) {
    if (!(o.discounts || []).length) return el("td", { class: "muted", text: T.t("none") });
    return el("td", {}, ...o.discounts.map((d) => el("div", { class: "discount" },
      `${d.description || d.kind} `, el("span", { class: "muted", text: fen(-Math.abs(d.amount_fen || 0)) }))));
  }

  function orderRow(o) {
    const refundable = Board.isManager && o.payment && o.payment.status !== "refunded";
    return el("tr", { dataset: { order: o.order_id, status: o.payment && o.payment.status } },
      el("td", { text: new Date(o.paid_at).toLocaleString() }),
      el("td", { text: o.lane_id }),
      el("td", { class: "order-id", text: o.order_id, title: o.order_id }),
      el("td", { class: "num", text: o.item_count }),
      paymentCell(o),
      discountCell(o),
      el("td", { class: "wallet" }, o.member.wallet,
        o.member.member_price ? el("div", { class: "muted", text: T.t("member_price") }) : null),
      el("td", {}, refundable ? el("button", { class: "secondary small refund", type: "button",
        onclick: () => openRefund(o) }, T.t("refund")) : null));
  }

  async function refreshSales() {
    const data = await Omo.getJson(`/api/orders?${query || "limit=15"}`);
    if (!data) return;
    const tbody = document.querySelector("#sales tbody");
    tbody.replaceChildren(...(data.orders || []).map(orderRow));
    if (!tbody.rows.length) tbody.append(el("tr", {}, el("td", { colspan: 8, class: "muted", text: T.t("no_sales") })));
    document.getElementById("refund-note").textContent =
      Board.isManager ? "" : (data.refund === "available" ? "" : T.t("refund_unavailable"));
  }

  function iso(local) {
    if (!local) return "";
    const t = new Date(local);
    return Number.isNaN(t.getTime()) ? "" : t.toISOString();
  }

  function search(event) {
    event && event.preventDefault();
    const params = new URLSearchParams();
    const put = (key, value) => value && params.set(key, value);
    put("order_id", document.getElementById("order-id").value.trim());
    put("wallet", document.getElementById("order-wallet").value.trim());
    put("from", iso(document.getElementById("order-from").value));
    put("to", iso(document.getElementById("order-to").value));
    params.set("limit", "100");
    query = params.toString();
    refreshSales();
  }

  // ---- refund ---------------------------------------------------------------------------------
  let refunding = null;
  function openRefund(o) {
    refunding = { order_id: o.order_id, refund_id: `${o.order_id}-r-${Date.now()}` };
    const left = (o.total_fen || 0) - ((o.payment && o.payment.refunded_fen) || 0);
    document.getElementById("refund-order").textContent = o.order_id;
    document.getElementById("refund-amount").value = (left / 100).toFixed(2);
    document.getElementById("refund-reason").value = "";
    document.getElementById("refund-form").classList.remove("hidden");
    document.getElementById("refund-reason").focus();
  }

  async function confirmRefund(event) {
    event.preventDefault();
    if (!refunding) return;
    const reason = document.getElementById("refund-reason").value.trim();
    if (!reason) return Board.toast("Say why first: type a reason.", true);
    const yuan = document.getElementById("refund-amount").value.trim();
    if (!/^\d+(\.\d{1,2})?$/.test(yuan)) return Board.toast("Amount: yuan, e.g. 12.50", true);
    const [whole, part = ""] = yuan.split(".");
    const amount = Number(whole) * 100 + Number(part.padEnd(2, "0"));
    const result = await Omo.postJson(`/api/orders/${encodeURIComponent(refunding.order_id)}/refund`,
      { reason, amount_fen: amount, refund_id: refunding.refund_id });
    if (result.status === 401) return Board.sessionEnded();
    if (result.ok) {
      Board.toast(`${refunding.order_id}: ${T.t("refund")} ${fen(amount)} ✓`);
      refunding = null;
      document.getElementById("refund-form").classList.add("hidden");
    } else {
      Board.toast(`${T.t("refund")}: ${(result.body && result.body.error) || result.status}`, true);
    }
    refreshSales();
  }

  // ---- deliveries -----------------------------------------------------------------------------
  function showDeliveryOrders(orders) {
    const list = document.getElementById("delivery-orders");
    list.replaceChildren(...orders.map((o) => {
      const left = Math.round((o.seconds_left || 0) / 60);
      const when = o.late ? T.t("late") : `${left} ${T.t("min_left")}`;
      const rider = o.rider_id ? `${T.t("rider")} ${o.rider_id}` : T.t("no_rider");
      const cls = o.late ? "late" : (o.at_risk ? "at-risk" : "");
      return el("li", { dataset: { order: o.order_id, status: o.status }, class: `delivery ${cls}` },
        el("div", {}, el("strong", { class: "when", text: when }), " · ",
          el("span", { class: "order-id", text: o.order_id }), " · ",
          el("span", { class: "state", text: T.delivery(o.status) })),
        el("div", {}, `${rider} · ${T.t("promised")} ${Omo.clock(o.promised_by)} · ${Math.round(o.distance_m || 0)} m`),
        el("div", { class: "muted", text: o.address || "" }));
    }));
    document.getElementById("delivery-empty").classList.toggle("hidden", orders.length > 0);
  }

  async function refreshDelivery() {
    const board = await Omo.getJson("/api/delivery/board");
    if (board && Array.isArray(board.orders)) showDeliveryOrders(board.orders);
  }

  async function refreshHistory() {
    const data = await Omo.getJson("/api/delivery/history?limit=20");
    if (!data) return;
    const tbody = document.querySelector("#delivery-history tbody");
    tbody.replaceChildren(...(data.orders || []).map((o) => el("tr", { dataset: { order: o.order_id }, class: o.late ? "late" : "" },
      el("td", { text: o.order_id }),
      el("td", { text: Omo.clock(o.delivered_at) }),
      el("td", { text: o.rider_id || "" }),
      el("td", { text: Omo.clock(o.promised_by) }),
      el("td", { class: "muted", text: o.address || "" }))));
    if (!tbody.rows.length) tbody.append(el("tr", {}, el("td", { colspan: 5, class: "muted", text: "—" })));
  }

  showDeliveryOrders([]);
  Board.onRefresh(refreshSales);
  Board.onRefresh(refreshHistory);
  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("order-form").addEventListener("submit", search);
    document.getElementById("order-reset").addEventListener("click", () => {
      for (const id of ["order-id", "order-wallet", "order-from", "order-to"]) document.getElementById(id).value = "";
      query = "";
      refreshSales();
    });
    document.getElementById("refund-form").addEventListener("submit", confirmRefund);
    document.getElementById("refund-cancel").addEventListener("click", () => {
      refunding = null;
      document.getElementById("refund-form").classList.add("hidden");
    });
    refreshDelivery();
    setInterval(refreshDelivery, 1000);
    setInterval(refreshHistory, 10000);
  });
})();
