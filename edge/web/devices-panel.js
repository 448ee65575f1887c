// The lane screen's "devices" panel, served only in demo mode (`omo up --manual-lanes N`): the
// person at a manual lane scans a product from the list, puts a weight on the bagging scale,
// bags what was scanned, scans a demo shopper's payment code and walks through the gate. Each
// button posts one action to /lanes/{id}/devices (the screen's cookie goes with it), the same
// backend as `omo lane scan|weigh|bag|pass`.
"use strict";

(() => {
  const laneId = document.body.dataset.lane;
  const url = `/lanes/${encodeURIComponent(laneId)}/devices`;
  const yuan = (fen) => `¥${(fen / 100).toFixed(2)}`;

  function node(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v;
      else if (k === "on") e.addEventListener("click", v);
      else e.setAttribute(k, v);
    }
    e.append(...children);
    return e;
  }

  const status = node("div", { id: "devices-status", class: "devices-status", role: "status", "aria-live": "polite" });

  function showReply(reply) {
    const devices = reply.devices || reply;
    status.textContent = `${reply.message || ""} · scale ${devices.scale_g} g · not bagged ${devices.unbagged_g} g · gate ${devices.gate}`;
    status.dataset.ok = reply.ok === false ? "false" : "true";
  }

  async function act(action) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(action),
      });
      showReply(await response.json());
    } catch (error) {
      status.textContent = `the devices did not answer: ${error}`;
    }
  }

  async function start() {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return; // not in demo mode: no panel
    const info = await response.json();
    const products = node("select", { id: "devices-product", "aria-label": "Product to scan" },
      ...info.products.map((p) => node("option", { value: p.code, text: `${p.name} ${yuan(p.price_fen)} (${p.grams} g)` })));
    const grams = node("input", { id: "devices-grams", type: "number", min: "0", max: "60000", value: "0", "aria-label": "Grams on the scale" });
    const wallets = node("select", { id: "devices-wallet", "aria-label": "Demo shopper's wallet" },
      ...info.wallets.map((w) => node("option", { value: w, text: `wallet ${w}` })));
    const panel = node("section", { id: "devices-panel", class: "devices-panel", "aria-label": "Devices (demo)" },
      node("h2", { text: "Devices (demo)" }),
      node("div", { class: "row" }, products,
        node("button", { type: "button", id: "devices-scan", class: "secondary", text: "Scan", on: () => act({ op: "scan", code: products.value }) }),
        node("button", { type: "button", id: "devices-bag", class: "secondary", text: "Bag it", on: () => act({ op: "bag" }) })),
      node("div", { class: "row" }, grams,
        node("button", { type: "button", id: "devices-weigh", class: "secondary", text: "Put weight", on: () => act({ op: "weigh", grams: Number(grams.value) || 0 }) })),
      node("div", { class: "row" }, wallets,
        node("button", { type: "button", id: "devices-pay", class: "secondary", text: "Scan payment code", on: () => act({ op: "pay", wallet: wallets.value }) }),
        node("button", { type: "button", id: "devices-pass", class: "secondary", text: "Walk out", on: () => act({ op: "pass" }) })),
      status);
    panel.style.cssText = "border:2px dashed #888;padding:.5em;margin-top:1em;font-size:.8em";
    for (const row of panel.querySelectorAll(".row")) row.style.cssText = "display:flex;gap:.4em;margin:.3em 0;flex-wrap:wrap";
    (document.querySelector(".side") || document.body).append(panel);
    showReply(info.devices);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
