// The shopper's lane screen: the basket, the running total, the prompt and, once paid, the exit
// pass, live from /api/events. The screen was set up with its lane's link, so its cookie
// (HttpOnly, scoped to /lanes/{id}) goes with the exit pass and the buttons' requests; each
// button names the basket it is for (its session id), so a late press cannot reach the next one.
"use strict";

(() => {
  const { el, fen } = Omo;
  const laneId = document.body.dataset.lane;
  const laneUrl = `/api/lanes/${encodeURIComponent(laneId)}`;
  const screenUrl = `/lanes/${encodeURIComponent(laneId)}`;
  // The basket on screen now, and the one whose exit pass is shown (it may linger after it left).
  let currentSession = null;
  let paidSession = null;
  let ownBagUsedFor = null;
  let last = null;
  // The exit pass stays on screen for a while after the shopper has passed the gate.
  const EXIT_PASS_LINGER_MS = 15000;
  let shownPass = null;
  let hidePassTimer = null;

  function show(view) {
    if (!view || view.lane_id !== laneId) return;
    if (last && last.seq > view.seq) return; // a stale update
    const before = last;
    last = view;
    document.body.dataset.state = view.state;
    document.body.dataset.seq = view.seq;
    currentSession = (view.session && view.session.id) || null;

    const prompt = view.prompt || { code: "welcome", text: "" };
    const box = document.getElementById("prompt");
    box.className = `prompt prompt-${prompt.code}`;
    box.dataset.code = prompt.code;
    document.getElementById("prompt-text").textContent = prompt.text;

    const items = (view.session && view.session.basket && view.session.basket.items) || [];
    const seen = new Set(((before && before.session && before.session.basket && before.session.basket.items) || [])
      .map((i) => `${i.line}:${i.quantity}`));
    let saved = 0;
    document.getElementById("items").replaceChildren(...items.map((item) => {
      const qty = item.weight_g
        ? `${item.weight_g} g × ${fen(item.unit_price_fen)}/kg`
        : `${item.quantity} × ${fen(item.unit_price_fen)}`;
      const discounts = item.discounts || [];
      for (const d of discounts) saved += Math.abs(d.amount_fen || 0);
      return el("li", { class: seen.has(`${item.line}:${item.quantity}`) ? "" : "new", dataset: { line: item.line, gtin: item.gtin } },
        el("span", { class: "name", text: item.name }),
        el("span", { class: "price", text: fen(item.price_fen) }),
        el("span", { class: "qty", text: qty }),
        ...discounts.map((d) => el("span", { class: "discount" },
          el("span", { text: d.text || d.name || "Discount" }),
          el("span", { text: fen(-Math.abs(d.amount_fen || 0)) }))));
    }));
    for (const d of (view.session && view.session.basket && view.session.basket.discounts) || []) {
      saved += Math.abs(d.amount_fen || 0);
    }
    document.getElementById("empty").classList.toggle("hidden", items.length > 0);
    document.getElementById("total").textContent = fen(view.total_fen);
    const count = view.item_count || 0;
    document.getElementById("count").textContent = `${count} item${count === 1 ? "" : "s"}`;
    const savings = document.getElementById("savings");
    savings.textContent = `You save ${fen(saved)}`;
    savings.classList.toggle("hidden", saved <= 0);

    const shopping = ["shopping", "needs_attendant"].includes(view.state);
    const ownBag = document.getElementById("own-bag");
    ownBag.classList.toggle("hidden", !shopping);
    ownBag.disabled = currentSession !== null && currentSession === ownBagUsedFor;

    const payment = view.session && view.session.payment;
    if (["paid", "exiting"].includes(view.state) && payment && payment.status === "succeeded") {
      showExitPass(payment.order_id, view.session.id);
    } else if (view.session && shownPass) {
      hideExitPass(); // a new shopper started
    }
  }

  async function showExitPass(orderId, sessionId) {
    clearTimeout(hidePassTimer);
    hidePassTimer = setTimeout(hideExitPass, EXIT_PASS_LINGER_MS);
    if (shownPass === orderId) return;
    shownPass = orderId;
    paidSession = sessionId;
    try {
      const response = await fetch(`${screenUrl}/exit-pass.svg`, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok || shownPass !== orderId) return;
      const svg = new DOMParser().parseFromString(await response.text(), "image/svg+xml").documentElement;
      if (svg.nodeName !== "svg") return;
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", "Exit pass QR code");
      document.getElementById("exit-qr").replaceChildren(document.importNode(svg, true));
      document.getElementById("exit-order").textContent = `Order ${orderId}`;
      const area = document.getElementById("exit-pass");
      area.dataset.order = orderId;
      area.classList.remove("hidden");
      const result = document.getElementById("delivery-result");
      result.textContent = "";
      result.className = "delivery-result";
      document.getElementById("deliver-home").disabled = false;
    } catch (error) {
      console.error("cannot load the exit pass", error);
    }
  }

  function hideExitPass() {
    shownPass = null;
    const area = document.getElementById("exit-pass");
    area.classList.add("hidden");
    delete area.dataset.order;
    document.getElementById("exit-qr").replaceChildren();
  }

  // The shopper would rather not carry it: the basket goes to the address kept in their app.
  document.getElementById("deliver-home").addEventListener("click", async () => {
    const button = document.getElementById("deliver-home");
    const result = document.getElementById("delivery-result");
    button.disabled = true;
    result.className = "delivery-result";
    result.textContent = "Asking the store…";
    const answer = await Omo.postJson(`${screenUrl}/delivery`, { session_id: paidSession });
    const body = answer.body || {};
    if (answer.ok) {
      result.dataset.status = body.status;
      result.textContent = `We will bring it to ${body.address} (${body.distance_m} m) within 30 minutes. Leave your bags here.`;
    } else {
      result.dataset.status = body.status || "refused";
      result.className = "delivery-result bad";
      result.textContent = body.refusal || body.error || "Delivery is not possible now.";
      button.disabled = body.status === "OUT_OF_RANGE";
    }
  });

  document.getElementById("own-bag").addEventListener("click", async () => {
    const session = currentSession;
    const result = await Omo.postJson(`${screenUrl}/own-bag`, { session_id: session });
    if (result.ok || result.status === 409) ownBagUsedFor = session; // once per basket
    if (result.ok) show(result.body);
    else document.getElementById("own-bag").disabled = true;
  });

  Omo.live(
    { lane: show },
    (connected) => document.getElementById("offline").classList.toggle("hidden", connected),
    async () => show(await Omo.getJson(laneUrl)),
  );
})();
