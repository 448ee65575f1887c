// The store-wide alert queue: every open intervention of every lane, oldest first, with lane,
// cause, item and age; a beep (WebAudio, generated here) when a new one arrives; the open count
// in the tab title; clearing one, the selected ones, or all of one cause with a reason picked
// from a short list (a typed note is optional). Clears go to POST /api/alerts/clear.
"use strict";

(() => {
  const { el } = Omo;
  const T = OmoText;
  const baseTitle = document.title;
  const seen = new Set();
  let primed = false;
  let sound = localStorage.getItem("omo-sound") !== "off";
  let audio = null;
  window.__omoBeeps = 0;

  /** A short two-tone beep, made by an oscillator: no audio file. */
  function beep() {
    window.__omoBeeps += 1;
    if (!sound) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      const now = audio.currentTime;
      for (const [i, freq] of [880, 660].entries()) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.type = "sine";
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, now + i * 0.18);
        gain.gain.exponentialRampToValueAtTime(0.3, now + i * 0.18 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.18 + 0.16);
        osc.connect(gain).connect(audio.destination);
        osc.start(now + i * 0.18);
        osc.stop(now + i * 0.18 + 0.17);
      }
    } catch (_) { /* no audio here: the title and the badge still say it */ }
  }

  /** Every open alert from the lanes' views, oldest first. */
  function openAlerts() {
    const all = [];
    for (const view of Board.lanes.values()) {
      const items = (view.session && view.session.basket && view.session.basket.items) || [];
      for (const i of view.interventions || []) {
        const item = i.line ? items.find((it) => it.line === i.line) : null;
        all.push({ lane_id: view.lane_id, id: i.id, kind: i.kind, detail: i.detail || "", line: i.line,
          item: item ? item.name : "", raised_at: i.raised_at, key: `${view.lane_id}:${i.id}` });
      }
    }
    return all.sort((a, b) => Date.parse(a.raised_at) - Date.parse(b.raised_at)
      || a.lane_id.localeCompare(b.lane_id, undefined, { numeric: true }) || a.id - b.id);
  }

  function age(time) {
    const s = Math.max(0, Math.round((Date.now() - Date.parse(time)) / 1000));
    return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h`;
  }

  function reason() {
    const picked = document.getElementById("alert-reason").value;
    const note = document.getElementById("alert-note").value.trim();
    return note ? `${picked}: ${note}` : picked;
  }

  async function clear(alerts, approve) {
    if (!alerts.length) return;
    const result = await Omo.postJson("/api/alerts/clear", {
      alerts: alerts.map((a) => ({ lane_id: a.lane_id, id: a.id })), approve, reason: reason(),
    });
    if (result.status === 401) return Board.sessionEnded();
    const cleared = (result.body && result.body.cleared) || [];
    const failed = (result.body && result.body.failed) || [];
    if (failed.length || !result.ok) {
      Board.toast(`${cleared.length} cleared, ${failed.length || alerts.length} not: ${(failed[0] && failed[0].error) || (result.body && result.body.error) || result.status}`, true);
    } else {
      Board.toast(`${cleared.length} ${T.t("alerts_n")} ✓`);
      document.getElementById("alert-note").value = "";
    }
    // The lanes' new views arrive on the live stream; fetch them too in case it lags.
    const lanes = new Set(alerts.map((a) => a.lane_id));
    for (const id of lanes) {
      const view = await Omo.getJson(`/api/lanes/${encodeURIComponent(id)}`);
      if (view) Board.showLane(view);
    }
    render();
    Board.scheduleRefresh();
  }

  function selected(all) {
    const keys = new Set([...document.querySelectorAll("#alert-queue input.pick:checked")].map((c) => c.value));
    return all.filter((a) => keys.has(a.key));
  }

  function render() {
    const all = openAlerts();
    const fresh = all.filter((a) => !seen.has(a.key));
    for (const a of fresh) seen.add(a.key);
    if (primed && fresh.length) beep();
    const list = document.getElementById("alert-queue");
    const keep = new Set([...list.querySelectorAll("input.pick:checked")].map((c) => c.value));
    list.replaceChildren(...all.map((a) => el("li", {
      class: `alert${["tailgating", "forced_passage", "gate_fault"].includes(a.kind) ? " gate" : ""}`,
      dataset: { lane: a.lane_id, id: a.id, kind: a.kind, raised: a.raised_at },
    },
      el("label", { class: "pick-box" }, el("input", { type: "checkbox", class: "pick", value: a.key, checked: keep.has(a.key),
        "aria-label": `select ${a.key}`, onchange: updateButtons })),
      el("div", { class: "alert-main" },
        el("div", {}, el("strong", { class: "alert-lane", text: `${T.t("lane")} ${a.lane_id}` }), " · ",
          el("span", { class: "alert-cause", text: T.cause(a.kind) }),
          el("span", { class: "alert-age muted", text: ` · ${age(a.raised_at)}` })),
        el("div", { class: "muted alert-item", text: [a.item, a.detail].filter(Boolean).join(" — ") })),
      el("div", { class: "alert-buttons" },
        el("button", { class: "good small approve", type: "button", onclick: () => clear([a], true) }, T.t("approve")),
        el("button", { class: "bad small reject", type: "button", onclick: () => clear([a], false) }, T.t("reject"))))));
    document.getElementById("alert-empty").classList.toggle("hidden", all.length > 0);
    // One button per cause with more than one alert open: clear them all at once.
    const byCause = new Map();
    for (const a of all) byCause.set(a.kind, [...(byCause.get(a.kind) || []), a]);
    document.getElementById("alert-groups").replaceChildren(...[...byCause.entries()].filter(([, v]) => v.length > 1)
      .map(([kind, group]) => el("button", { class: "secondary small clear-kind", type: "button", dataset: { kind },
        onclick: () => clear(group, true) }, `${T.t("clear_all")} ${group.length} × ${T.cause(kind)}`)));
    document.getElementById("alert-count").textContent = String(all.length);
    document.getElementById("alert-badge").className = `badge ${all.length ? "bad" : ""}`;
    document.title = all.length ? `(${all.length}) ${baseTitle}` : baseTitle;
    updateButtons();
  }

  function updateButtons() {
    document.getElementById("clear-selected").disabled =
      !document.querySelector("#alert-queue input.pick:checked");
  }

  function tick() {
    for (const li of document.querySelectorAll("#alert-queue li")) {
      li.querySelector(".alert-age").textContent = ` · ${age(li.dataset.raised)}`;
    }
  }

  function fillReasons() {
    const select = document.getElementById("alert-reason");
    select.replaceChildren(...T.reasons().map((r) => el("option", { value: r, text: r })));
  }

  function showSound() {
    const button = document.getElementById("sound");
    button.textContent = T.t(sound ? "sound_on" : "sound_off");
    button.setAttribute("aria-pressed", String(sound));
  }

  // Browsers start audio only after the operator touches the page: unlock it on the first touch.
  function unlock() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
    } catch (_) { /* no audio */ }
  }
  for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, unlock, { once: true, capture: true });

  let pending = null;
  Board.onLane(() => {
    // Many lane updates arrive at once after a (re)connection: render once for them.
    if (pending) return;
    pending = setTimeout(() => { pending = null; render(); }, 50);
  });
  document.addEventListener("DOMContentLoaded", () => {
    fillReasons();
    showSound();
    document.getElementById("sound").addEventListener("click", () => {
      sound = !sound;
      localStorage.setItem("omo-sound", sound ? "on" : "off");
      showSound();
      if (sound) beep();
    });
    document.getElementById("lang").addEventListener("click", () => { fillReasons(); showSound(); render(); });
    document.getElementById("clear-selected").addEventListener("click", () => clear(selected(openAlerts()), true));
    // Alerts open when the page loads are not news: only later ones beep.
    setTimeout(() => { render(); primed = true; window.__omoAlertsPrimed = true; }, 1500);
    setInterval(tick, 1000);
  });
})();
