// The rider's app. Signs in at this edge with the rider's broker credentials, then long-polls
// /rider/api/messages for dispatch offers (asking for those after the last one it holds is what
// acknowledges them, so an offer is never lost on a flaky connection), and sends each step
// (accepted, picked up, delivered) and the rider's position as events that are retried, with the
// same id, until the edge answers that the broker has them. Tasks and unsent events are kept in
// localStorage, so a reload or a lost connection loses nothing.
"use strict";

const API = "api/";
const LOCATION_EVERY_MS = 15000;
const $ = (id) => document.getElementById(id);

const state = {
  token: localStorage.getItem("omo-rider-token"),
  riderId: localStorage.getItem("omo-rider-id"),
  after: Number(localStorage.getItem("omo-rider-after") || 0),
  tasks: JSON.parse(localStorage.getItem("omo-rider-tasks") || "{}"),
  outbox: JSON.parse(localStorage.getItem("omo-rider-outbox") || "[]"),
  position: null,
};

function save() {
  localStorage.setItem("omo-rider-after", String(state.after));
  localStorage.setItem("omo-rider-tasks", JSON.stringify(state.tasks));
  localStorage.setItem("omo-rider-outbox", JSON.stringify(state.outbox));
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(path, options = {}) {
  const headers = { "content-type": "application/json" };
  if (state.token) headers.authorization = "Bearer " + state.token;
  const response = await fetch(API + path, { ...options, headers });
  if (response.status === 401) {
    signedOut("请重新登录 Please sign in again");
    throw new Error("signed out");
  }
  const json = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(json.error || response.statusText);
    error.status = response.status;
    throw error;
  }
  return json;
}

function setNet(text) {
  $("net").textContent = text;
}

// ---- signing in ----------------------------------------------------------------------------

async function signIn() {
  $("signin-error").textContent = "";
  const riderId = $("rider-id").value.trim();
  const password = $("password").value;
  $("signin-button").disabled = true;
  try {
    state.token = null;
    const answer = await api("login", { method: "POST", body: JSON.stringify({ rider_id: riderId, password }) });
    state.token = answer.token;
    state.riderId = answer.rider_id;
    state.after = 0; // a new session numbers its messages from 1
    localStorage.setItem("omo-rider-token", state.token);
    localStorage.setItem("omo-rider-id", state.riderId);
    save();
    $("password").value = "";
    startWork();
  } catch (error) {
    $("signin-error").textContent = error.status === 401 ? "骑手编号或密码错误 Wrong rider id or password"
      : error.status === 429 ? "尝试次数过多，请稍候 Too many tries; wait a minute"
        : `无法登录 Cannot sign in: ${error.message}`;
  } finally {
    $("signin-button").disabled = false;
  }
}

function signedOut(message) {
  state.token = null;
  localStorage.removeItem("omo-rider-token");
  $("work").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
  if (state.riderId) $("rider-id").value = state.riderId;
}

// ---- tasks ---------------------------------------------------------------------------------

const STATUS = {
  offered: "新派单 New offer", accepted: "已接单 Accepted", picked_up: "已取货 Picked up",
  delivered: "已送达 Delivered", cancelled: "已取消 Cancelled",
};

const NEXT = {
  offered: ["accepted", "接单 Accept"],
  accepted: ["picked_up", "已取货 Picked up"],
  picked_up: ["delivered", "已送达 Delivered"],
};

function take(message) {
  if (!message || !message.order_id) return;
  const task = state.tasks[message.order_id];
  if (message.type === "cancelled") {
    if (task) {
      task.status = "cancelled";
      task.reason = message.reason || "";
    }
    return;
  }
  if (!task) state.tasks[message.order_id] = { offer: message, status: "offered", received: Date.now() };
}

function step(orderId, event) {
  const task = state.tasks[orderId];
  if (!task) return;
  task.status = event;
  // The same id for the same step: a retry, or a second tap, is one event.
  state.outbox.push({ id: `${state.riderId}-${orderId}-${event}`, event, order_id: orderId });
  save();
  render();
  flush();
}

function metres(m) {
  return m >= 1000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`;
}

function render() {
  $("who").textContent = `骑手 Rider ${state.riderId}`;
  const list = $("tasks");
  list.replaceChildren();
  const tasks = Object.entries(state.tasks).sort((a, b) => b[1].received - a[1].received);
  if (tasks.length === 0) list.append(el("li", "muted", "等待派单 Waiting for offers"));
  for (const [orderId, task] of tasks) {
    const o = task.offer;
    const item = el("li", `task-${task.status}`);
    item.dataset.orderId = orderId;
    item.dataset.status = task.status;
    const top = el("div", "row");
    top.append(el("strong", "", `${orderId}`), el("span", "", STATUS[task.status] || task.status));
    item.append(top);
    item.append(el("div", "", `取货 Pickup: ${o.pickup && o.pickup.store_id ? o.pickup.store_id : ""}`));
    item.append(el("div", "", `送至 Drop-off: ${o.dropoff && o.dropoff.address ? o.dropoff.address : ""}`));
    item.append(el("div", "muted", `${metres(o.distance_m || 0)} · 承诺 promised by ${(o.promised_by || "").slice(11, 16)} UTC`));
    if (task.status === "cancelled") item.append(el("div", "error", `门店已取消 Withdrawn by the store ${task.reason}`));
    const next = NEXT[task.status];
    if (next) {
      const button = el("button", `step ${next[0]}`, next[1]);
      button.onclick = () => step(orderId, next[0]);
      item.append(button);
    }
    list.append(item);
  }
}

// ---- the link to the edge ------------------------------------------------------------------

let flushing = false;

async function flush() {
  if (flushing || !state.token) return;
  flushing = true;
  try {
    while (state.outbox.length > 0) {
      const event = state.outbox[0];
      try {
        await api("events", { method: "POST", body: JSON.stringify(event) });
        state.outbox.shift();
        save();
      } catch (error) {
        if (error.status === 400) {
          state.outbox.shift(); // it can never be taken: say so and go on
          save();
          $("work-error").textContent = error.message;
          continue;
        }
        setNet("离线，稍后重试 Offline, retrying");
        setTimeout(flush, 2000);
        return;
      }
    }
  } finally {
    flushing = false;
  }
}

async function poll() {
  while (state.token) {
    try {
      const answer = await api(`messages?after=${state.after}`);
      for (const { seq, message } of answer.messages) {
        take(message);
        state.after = Math.max(state.after, seq);
      }
      save();
      render();
      setNet(answer.connected ? "在线 Online" : "调度连接中 Dispatch reconnecting");
    } catch (error) {
      if (!state.token) return;
      setNet("离线 Offline");
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

function reportLocation() {
  if (!state.position || !state.token) return;
  state.outbox.push({
    id: crypto.randomUUID(), event: "location", lat: state.position.lat, lon: state.position.lon,
  });
  // Only the latest position matters: drop older unsent ones.
  const latest = state.outbox.filter((e) => e.event === "location").pop();
  state.outbox = state.outbox.filter((e) => e.event !== "location" || e === latest);
  save();
  flush();
}

function watchPosition() {
  if (!navigator.geolocation) {
    $("where").textContent = "此浏览器无法定位 This browser cannot share your position";
    return;
  }
  navigator.geolocation.watchPosition((p) => {
    const first = !state.position;
    state.position = { lat: p.coords.latitude, lon: p.coords.longitude };
    $("where").textContent = `位置 Position ${state.position.lat.toFixed(5)}, ${state.position.lon.toFixed(5)}`;
    if (first) reportLocation();
  }, (error) => {
    $("where").textContent = `无法定位 No position: ${error.message}`;
  }, { enableHighAccuracy: true });
}

let working = false;

function startWork() {
  $("signin").hidden = true;
  $("work").hidden = false;
  render();
  if (working) {
    poll();
    return;
  }
  working = true;
  watchPosition();
  setInterval(reportLocation, LOCATION_EVERY_MS);
  poll();
  flush();
}

async function signOut() {
  try {
    await api("logout", { method: "POST", body: "{}" });
  } catch (_) { /* signed out either way */ }
  signedOut();
}

function main() {
  $("signin-button").onclick = signIn;
  $("password").onkeydown = (e) => { if (e.key === "Enter") signIn(); };
  $("signout").onclick = signOut;
  if (state.token) startWork();
  else signedOut();
}

main();
