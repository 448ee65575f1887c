// The shopper's app. Sign-up asks the cloud for a wallet, then keeps its secret only as a
// non-extractable WebCrypto key in IndexedDB (the raw secret is dropped at once). The payment
// code (`28` + wallet + TOTP, RFC 6238 with HMAC-SHA1, 30 s steps, 8 digits) is computed here
// every second, so it shows with no network at all. The app token (HMAC-SHA256 of
// "omo-app-token-v1" under the secret, as the cloud derives it) authenticates every API call.
// Balance, receipts (newest first) and payments to confirm come from /app/api/ and are kept for
// offline use.
"use strict";

const API = "api/";
const STEP_SECS = 30;
const DB_NAME = "omo-app";
const REFRESH_MS = 3000;

// ---- the device's store (IndexedDB) --------------------------------------------------------

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore("wallet");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function dbDo(mode, action) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const store = db.transaction("wallet", mode).objectStore("wallet");
    const request = action(store);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

const loadWallet = () => dbDo("readonly", (s) => s.get("current"));
const saveWallet = (wallet) => dbDo("readwrite", (s) => s.put(wallet, "current"));

// ---- codes ---------------------------------------------------------------------------------

function base32Decode(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const clean = text.toUpperCase().replace(/[\s=]/g, "");
  const bytes = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const index = alphabet.indexOf(ch);
    if (index < 0) throw new Error("not base32");
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return new Uint8Array(bytes);
}

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

async function hotp(key, counter) {
  const message = new ArrayBuffer(8);
  const view = new DataView(message);
  view.setUint32(0, Math.floor(counter / 2 ** 32));
  view.setUint32(4, counter >>> 0);
  const digest = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
  const offset = digest[digest.length - 1] & 0x0f;
  const binary = ((digest[offset] & 0x7f) << 24) | (digest[offset + 1] << 16)
    | (digest[offset + 2] << 8) | digest[offset + 3];
  return String(binary % 100000000).padStart(8, "0");
}

async function paymentCode(wallet, unixSecs) {
  return "28" + wallet.wallet_id + await hotp(wallet.totp_key, Math.floor(unixSecs / STEP_SECS));
}

// ---- the API -------------------------------------------------------------------------------

async function call(method, body, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = "Bearer " + token;
  const response = await fetch(API + method, { method: "POST", headers, body: JSON.stringify(body) });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(json.message || response.statusText);
  return json;
}

// ---- the page ------------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

function yuan(fen) {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

function qrSvg(text) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  return qr.createSvgTag({ cellSize: 6, margin: 4, scalable: true });
}

function setNet(online) {
  $("net").textContent = online ? "在线 Online" : "离线 Offline";
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const STATUS = {
  SUCCEEDED: "已付款 Paid", PENDING: "待确认 To confirm", DECLINED: "已拒绝 Declined",
  CANCELED: "已取消 Canceled", REFUNDED: "已退款 Refunded", PARTIALLY_REFUNDED: "部分退款 Partly refunded",
};

function showReceipts(wallet, receipts) {
  const list = $("receipts");
  list.replaceChildren();
  if (receipts.length === 0) list.append(el("li", "muted", "暂无 None yet"));
  for (const r of receipts) {
    const item = el("li");
    item.dataset.paymentId = r.payment_id;
    const top = el("div", "row");
    top.append(el("strong", "", r.description || r.order_id), el("span", "", yuan(r.amount_fen)));
    const bottom = el("div", "row muted");
    bottom.append(el("span", "", `${r.store_id} · ${r.created_at.slice(0, 16).replace("T", " ")}`),
      el("span", `status-${r.status}`, STATUS[r.status] || r.status));
    item.append(top, bottom);
    if (r.refunded_fen > 0) item.append(el("div", "muted", `退款 Refunded ${yuan(r.refunded_fen)}`));
    if (r.status === "SUCCEEDED" && r.order_id && !deliveryOf(r.order_id)) {
      const home = el("button", "plain deliver", "送货到家 Deliver home");
      home.onclick = () => deliverHome(wallet, r, home);
      item.append(home);
    }
    list.append(item);
  }
  const pending = receipts.filter((r) => r.status === "PENDING");
  $("pending-card").hidden = pending.length === 0;
  const pendingList = $("pending");
  pendingList.replaceChildren();
  for (const p of pending) {
    const item = el("li");
    item.append(el("div", "row", `${p.store_id}: ${yuan(p.amount_fen)}`));
    const actions = el("div", "actions");
    const yes = el("button", "approve", "确认 Approve");
    const no = el("button", "secondary reject", "拒绝 Reject");
    yes.onclick = () => confirmPayment(wallet, p.payment_id, true);
    no.onclick = () => confirmPayment(wallet, p.payment_id, false);
    actions.append(yes, no);
    item.append(actions);
    pendingList.append(item);
  }
  const recent = receipts.find((r) => r.exit_pass && r.status === "SUCCEEDED"
    && Date.now() - Date.parse(r.created_at) < 30 * 60 * 1000);
  $("exit-card").hidden = !recent;
  if (recent) {
    $("exit-qr").innerHTML = qrSvg(recent.exit_pass);
    $("exit-what").textContent = `${recent.store_id} · ${recent.order_id}`;
  }
}

function offerText(c) {
  const off = c.amount_off_fen > 0 ? `减 ${yuan(c.amount_off_fen)} off` : `${c.percent_off}% 折扣 off`;
  const min = c.min_spend_fen > 0 ? ` · 满 ${yuan(c.min_spend_fen)} min.` : "";
  return off + min;
}

const COUPON_STATUS = { CLAIMED: "已领取 Claimed", REDEEMED: "已使用 Redeemed", EXPIRED: "已过期 Expired" };

function showCoupons(wallet, campaigns, coupons) {
  const list = $("campaigns");
  list.replaceChildren();
  const held = new Map(coupons.map((c) => [c.campaign_id, c]));
  // Live campaigns, then coupons of campaigns that ended (redeemed or expired).
  const ids = [...campaigns.map((c) => c.campaign_id), ...coupons.map((c) => c.campaign_id)];
  if (ids.length === 0) list.append(el("li", "muted", "暂无 None now"));
  for (const id of [...new Set(ids)]) {
    const campaign = campaigns.find((c) => c.campaign_id === id);
    const coupon = held.get(id);
    const item = el("li");
    item.dataset.campaignId = id;
    const top = el("div", "row");
    top.append(el("strong", "", campaign ? campaign.name : id));
    if (coupon) top.append(el("span", `coupon-${coupon.status}`, COUPON_STATUS[coupon.status] || coupon.status));
    item.append(top);
    if (campaign) item.append(el("div", "muted", offerText(campaign)));
    if (campaign && !coupon) {
      const claim = el("button", "claim", "领取 Claim");
      claim.onclick = () => claimCoupon(wallet, id, claim);
      item.append(claim);
    }
    list.append(item);
  }
}

async function claimCoupon(wallet, campaignId, button) {
  button.disabled = true;
  try {
    // One claim per wallet and campaign: a retried tap is the same claim.
    await call("claim_coupon", {
      wallet_id: wallet.wallet_id, campaign_id: campaignId, claim_id: `${wallet.wallet_id}:${campaignId}`,
    }, wallet.app_token);
    await refresh(wallet);
  } catch (error) {
    button.disabled = false;
    $("net").textContent = error.message;
  }
}

// ---- home delivery -------------------------------------------------------------------------

const STEPS = [
  ["PLACED", "已下单 Placed"], ["ACCEPTED", "门店已接单 Store accepted"],
  ["RIDER", "骑手已接单 Rider assigned"], ["PICKED_UP", "已取货 Picked up"], ["DELIVERED", "已送达 Delivered"],
];

// Orders placed from this phone: order id → the order as last seen.
function deliveries() {
  return JSON.parse(localStorage.getItem("omo-deliveries") || "{}");
}

function deliveryOf(purchaseOrderId) {
  return Object.values(deliveries()).find((d) => d.purchase_order_id === purchaseOrderId);
}

function keepDelivery(order) {
  const all = deliveries();
  all[order.order_id] = order;
  localStorage.setItem("omo-deliveries", JSON.stringify(all));
}

function reached(order) {
  const s = order.status;
  const done = new Set(["PLACED"]);
  if (["ACCEPTED", "PICKED_UP", "DELIVERED"].includes(s)) done.add("ACCEPTED");
  if (order.rider_id) done.add("RIDER");
  if (["PICKED_UP", "DELIVERED"].includes(s)) done.add("PICKED_UP");
  if (s === "DELIVERED") done.add("DELIVERED");
  return done;
}

function showDeliveries() {
  const orders = Object.values(deliveries()).sort((a, b) => (b.placed_at || "").localeCompare(a.placed_at || ""));
  $("deliveries-card").hidden = orders.length === 0;
  const list = $("deliveries");
  list.replaceChildren();
  for (const o of orders) {
    const item = el("li");
    item.dataset.orderId = o.order_id;
    item.dataset.status = o.status;
    const top = el("div", "row");
    top.append(el("strong", "", o.dropoff ? o.dropoff.address : o.order_id),
      el("span", "muted", `${(o.distance_m / 1000).toFixed(1)} km`));
    item.append(top);
    if (o.status === "OUT_OF_RANGE") {
      item.append(el("div", "error", `超出配送范围: ${o.distance_m} m，门店只送 ${o.radius_m} m 内 · `
        + `Beyond the store's ${o.radius_m} m delivery radius (${o.distance_m} m)`));
    } else if (o.status === "REFUSED") {
      item.append(el("div", "error", `门店无法配送 The store could not take it: ${o.refusal}`));
    } else {
      const done = reached(o);
      const steps = el("ol", "steps");
      for (const [key, label] of STEPS) {
        const step = el("li", done.has(key) ? "done" : "", label);
        step.dataset.step = key;
        steps.append(step);
      }
      item.append(steps);
      if (o.promised_by) item.append(el("div", "muted", `承诺送达 Promised by ${o.promised_by.slice(11, 16)} UTC`));
      if (o.rider_id) item.append(el("div", "muted", `骑手 Rider ${o.rider_id}`));
    }
    list.append(item);
  }
}

async function refreshDeliveries(wallet) {
  for (const o of Object.values(deliveries())) {
    if (["DELIVERED", "REFUSED", "OUT_OF_RANGE"].includes(o.status)) continue;
    try {
      keepDelivery(await call("get_delivery_order", { wallet_id: wallet.wallet_id, order_id: o.order_id }, wallet.app_token));
    } catch (_) { /* offline: keep what we had */ }
  }
  showDeliveries();
}

async function deliverHome(wallet, receipt, button) {
  button.disabled = true;
  try {
    // The lane's basket, to the address kept in the wallet; idempotent by the order id.
    const order = await call("place_delivery_order", {
      wallet_id: wallet.wallet_id, store_id: receipt.store_id,
      order_id: `home-${receipt.order_id}`, purchase_order_id: receipt.order_id,
    }, wallet.app_token);
    keepDelivery(order);
    showDeliveries();
    button.remove();
  } catch (error) {
    button.disabled = false;
    $("address-error").textContent = `${error.message}`;
  }
}

// ---- ordering from the catalog -------------------------------------------------------------

const cart = JSON.parse(localStorage.getItem("omo-cart") || "{}");
let products = [];

function cartTotal() {
  return products.reduce((sum, p) => sum + (cart[p.gtin] || 0) * p.price_fen, 0);
}

function showProducts(wallet) {
  const list = $("products");
  list.replaceChildren();
  if (products.length === 0) list.append(el("li", "muted", "暂无商品 Nothing to order"));
  for (const p of products) {
    const item = el("li");
    item.dataset.gtin = p.gtin;
    const top = el("div", "row");
    top.append(el("strong", "", p.name), el("span", "", yuan(p.price_fen)));
    const controls = el("div", "row qty");
    const less = el("button", "plain less", "−");
    const count = el("span", "count", String(cart[p.gtin] || 0));
    const more = el("button", "plain more", "+");
    less.setAttribute("aria-label", `less ${p.name}`);
    more.setAttribute("aria-label", `more ${p.name}`);
    less.onclick = () => setQuantity(wallet, p.gtin, (cart[p.gtin] || 0) - 1);
    more.onclick = () => setQuantity(wallet, p.gtin, (cart[p.gtin] || 0) + 1);
    controls.append(less, count, more);
    item.append(top);
    if (p.origin) item.append(el("div", "muted", `产地 Origin: ${p.origin}`));
    item.append(controls);
    list.append(item);
  }
  $("order-total").textContent = yuan(cartTotal());
  $("order-button").disabled = cartTotal() === 0 || !orderStore;
}

function setQuantity(wallet, gtin, quantity) {
  if (quantity <= 0) delete cart[gtin];
  else cart[gtin] = Math.min(quantity, 99);
  localStorage.setItem("omo-cart", JSON.stringify(cart));
  showProducts(wallet);
}

async function orderDelivery(wallet) {
  $("order-error").textContent = "";
  const lines = Object.entries(cart).map(([gtin, quantity]) => ({ gtin, quantity }));
  if (lines.length === 0) return;
  // One id per cart: a retry (a lost answer, a second tap) is the same order, paid once.
  let orderId = localStorage.getItem("omo-cart-id");
  if (!orderId) {
    orderId = `app-${crypto.randomUUID()}`;
    localStorage.setItem("omo-cart-id", orderId);
  }
  $("order-button").disabled = true;
  try {
    const order = await call("place_delivery_order", {
      wallet_id: wallet.wallet_id, store_id: orderStore, order_id: orderId, lines,
    }, wallet.app_token);
    keepDelivery(order);
    showDeliveries();
    if (order.status !== "OUT_OF_RANGE") {
      for (const gtin of Object.keys(cart)) delete cart[gtin];
      localStorage.setItem("omo-cart", "{}");
    }
    // Beyond the radius nothing was stored: the next try may use the same id.
    if (order.status !== "OUT_OF_RANGE") localStorage.removeItem("omo-cart-id");
    await refresh(wallet);
  } catch (error) {
    $("order-error").textContent = error.message;
  } finally {
    showProducts(wallet);
  }
}

// The store the app orders from: the nearest to the kept address that delivers there, else the
// nearest (whose refusal then names the distance).
let orderStore = null;

async function findStore(address) {
  if (!address) {
    orderStore = null;
    $("order-store").textContent = "先设置送货地址 Set a delivery address first";
    return;
  }
  try {
    const near = await call("nearby_stores", { lat: address.lat, lon: address.lon, limit: 5 });
    const stores = near.stores || [];
    const pick = stores.find((s) => s.delivers) || stores[0];
    orderStore = pick ? pick.store.store_id : null;
    $("order-store").textContent = !pick ? "附近没有门店 No store nearby"
      : pick.delivers ? `由 ${pick.store.name} 配送 (${pick.distance_m} m) · Delivered by ${pick.store.name}`
        : `最近的门店 ${pick.store.name} 不送到这里 (${pick.distance_m} m) · The nearest store does not deliver here`;
  } catch (_) { /* offline: keep the last choice */ }
  $("order-button").disabled = cartTotal() === 0 || !orderStore;
}

function saveAddressHere(wallet) {
  $("address-error").textContent = "";
  const text = $("address").value.trim();
  if (!text) {
    $("address-error").textContent = "请填写地址 Please enter the address";
    return;
  }
  if (!navigator.geolocation) {
    $("address-error").textContent = "此浏览器无法定位 This browser cannot locate you";
    return;
  }
  // Asked only when the shopper taps the button; the position is sent once, with the address.
  navigator.geolocation.getCurrentPosition(async (position) => {
    try {
      const w = await call("set_delivery_address", {
        wallet_id: wallet.wallet_id,
        address: { lat: position.coords.latitude, lon: position.coords.longitude, address: text },
      }, wallet.app_token);
      showWallet(w);
    } catch (error) {
      $("address-error").textContent = error.message;
    }
  }, (error) => {
    $("address-error").textContent = `无法定位 No position: ${error.message}`;
  }, { enableHighAccuracy: true, timeout: 15000 });
}

// ---- a product's origin (GS1 Digital Link) ------------------------------------------------

// The resolver path (`/01/{gtin}/…`) of a scanned or typed code, on this cloud, or null. Only
// the GS1 part of a link is kept, so a code can never send the app elsewhere.
function resolverPath(text) {
  const t = text.trim();
  if (/^\d{8,14}$/.test(t)) return `/01/${t.padStart(14, "0")}`;
  let path;
  try {
    path = new URL(t, location.origin).pathname;
  } catch (_) {
    return null;
  }
  const at = path.indexOf("/01/");
  if (at < 0) return null;
  path = path.slice(at);
  return /^\/01\/\d{14}(\/[A-Za-z0-9%\-._~!*'()+,;:=]+)*$/.test(path) ? path : null;
}

function showOrigin(text) {
  const path = resolverPath(text);
  if (!path) {
    $("trace-error").textContent = "不是商品条码或 GS1 链接 Not a product code or GS1 link";
    return false;
  }
  location.assign(path);
  return true;
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
}

async function scanOrigin() {
  $("trace-error").textContent = "";
  const video = $("camera");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch (error) {
    $("trace-error").textContent = `无法使用相机 No camera: ${error.message}`;
    return;
  }
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  // The browser's own decoder where it has one (Chrome on Android), else jsQR.
  const native = "BarcodeDetector" in window ? new BarcodeDetector({ formats: ["qr_code"] }) : null;
  if (!native && typeof jsQR === "undefined") await loadScript("jsqr.js");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const stop = () => {
    stream.getTracks().forEach((t) => t.stop());
    video.hidden = true;
  };
  const started = Date.now();
  const look = async () => {
    if (Date.now() - started > 60000) {
      stop();
      return;
    }
    let text = null;
    if (video.videoWidth > 0) {
      if (native) {
        const found = await native.detect(video).catch(() => []);
        text = found.length ? found[0].rawValue : null;
      } else {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0);
        const image = context.getImageData(0, 0, canvas.width, canvas.height);
        const found = jsQR(image.data, image.width, image.height);
        text = found ? found.data : null;
      }
    }
    if (text && resolverPath(text)) {
      stop();
      showOrigin(text);
    } else {
      setTimeout(look, 200);
    }
  };
  look();
}

async function confirmPayment(wallet, paymentId, approve) {
  try {
    await call("confirm_payment", { wallet_id: wallet.wallet_id, payment_id: paymentId, approve }, wallet.app_token);
    await refresh(wallet);
  } catch (error) {
    $("net").textContent = error.message;
  }
}

let shownAddress = null;

function showWallet(w) {
  $("balance").textContent = yuan(w.balance_fen);
  const address = w.delivery_address || null;
  if (JSON.stringify(address) !== shownAddress) {
    shownAddress = JSON.stringify(address);
    findStore(address);
  }
  if (w.delivery_address) {
    $("address-kept").textContent = `${w.delivery_address.address} (${w.delivery_address.lat.toFixed(4)}, ${w.delivery_address.lon.toFixed(4)})`;
  }
  $("who").textContent = `${w.display_name} · ${w.wallet_id}${w.frozen ? " · 已冻结 frozen" : ""}`;
}

async function refresh(wallet) {
  try {
    const id = { wallet_id: wallet.wallet_id };
    const [w, receipts, campaigns, coupons, shop] = await Promise.all([
      call("get_wallet", id, wallet.app_token),
      call("list_receipts", id, wallet.app_token),
      call("list_campaigns", id, wallet.app_token),
      call("list_coupons", id, wallet.app_token),
      products.length ? Promise.resolve({ products }) : call("list_products", id, wallet.app_token),
    ]);
    if (!products.length) {
      products = shop.products || [];
      showProducts(wallet);
    }
    const last = {
      wallet: w, receipts: receipts.receipts || [],
      campaigns: campaigns.campaigns || [], coupons: coupons.coupons || [],
    };
    localStorage.setItem("omo-last", JSON.stringify(last));
    showWallet(w);
    showReceipts(wallet, last.receipts);
    showCoupons(wallet, last.campaigns, last.coupons);
    await refreshDeliveries(wallet);
    setNet(true);
  } catch (_) {
    setNet(false);
  }
}

let shownStep = -1;

async function tick(wallet) {
  const now = Date.now() / 1000;
  const step = Math.floor(now / STEP_SECS);
  if (step !== shownStep) {
    const code = await paymentCode(wallet, now);
    shownStep = step;
    $("qr").innerHTML = qrSvg(code);
    $("digits").textContent = code;
    $("digits").dataset.code = code;
  }
  const left = STEP_SECS - Math.floor(now % STEP_SECS);
  $("countdown").textContent = `${left} 秒后刷新 · refreshes in ${left} s`;
}

function startWallet(wallet) {
  $("signup").hidden = true;
  $("wallet").hidden = false;
  const last = JSON.parse(localStorage.getItem("omo-last") || "null");
  if (last && last.wallet.wallet_id === wallet.wallet_id) {
    showWallet(last.wallet);
    showReceipts(wallet, last.receipts);
    showCoupons(wallet, last.campaigns || [], last.coupons || []);
  } else {
    $("who").textContent = `${wallet.display_name} · ${wallet.wallet_id}`;
  }
  showDeliveries();
  $("locate").onclick = () => saveAddressHere(wallet);
  $("order-button").onclick = () => orderDelivery(wallet);
  $("trace-go").onclick = () => showOrigin($("trace-code").value);
  $("scan").hidden = !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  $("scan").onclick = scanOrigin;
  tick(wallet);
  setInterval(() => tick(wallet), 1000);
  refresh(wallet);
  setInterval(() => refresh(wallet), REFRESH_MS);
}

async function signUp() {
  const name = $("name").value.trim();
  $("signup-error").textContent = "";
  if (!name) {
    $("signup-error").textContent = "请输入昵称 Please enter a name";
    return;
  }
  $("signup-button").disabled = true;
  try {
    const enrolled = await call("enroll", { display_name: name, initial_balance_fen: 0 });
    const raw = base32Decode(enrolled.secret_base32);
    const totpKey = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
    const tokenKey = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    raw.fill(0);
    const appToken = hex(await crypto.subtle.sign("HMAC", tokenKey, new TextEncoder().encode("omo-app-token-v1")));
    const wallet = {
      wallet_id: enrolled.wallet.wallet_id,
      display_name: enrolled.wallet.display_name,
      totp_key: totpKey,
      app_token: appToken,
    };
    await saveWallet(wallet);
    startWallet(wallet);
  } catch (error) {
    $("signup-error").textContent = `注册失败 Sign-up failed: ${error.message}`;
  } finally {
    $("signup-button").disabled = false;
  }
}

async function main() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js").catch(() => {});
  }
  setNet(navigator.onLine);
  const wallet = await loadWallet().catch(() => undefined);
  if (wallet) {
    startWallet(wallet);
  } else {
    $("signup").hidden = false;
    $("signup-button").onclick = signUp;
  }
}

main();
