// Shared helpers for the dashboard and the lane screens: plain standard JavaScript, no library.
"use strict";

const Omo = {
  /** An amount in fen as yuan: 1290 -> "¥12.90". */
  fen(amount) {
    const n = Number(amount) || 0;
    const sign = n < 0 ? "-" : "";
    const abs = Math.abs(n);
    return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
  },

  /** Builds an element. Text goes in as text, never as HTML. */
  el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  },

  /** "12 s ago", "3 min ago", ... from an RFC 3339 time. */
  ago(time) {
    if (!time) return "never";
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(time)) / 1000));
    if (seconds < 60) return `${seconds} s ago`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
    return new Date(time).toLocaleString();
  },

  /** A clock time from an RFC 3339 time. */
  clock(time) {
    return time ? new Date(time).toLocaleTimeString() : "";
  },

  /** snake_case to words: "unexpected_item" -> "unexpected item". */
  words(code) {
    return String(code || "").replace(/_/g, " ");
  },

  /**
   * Follows the edge's live events (server-sent events at /api/events). `handlers` maps event
   * names to functions of the parsed JSON; `onStatus(connected)` reports the connection, and
   * `onOpen()` is called on every (re)connection so the page can refetch what it missed.
   * EventSource reconnects by itself.
   */
  live(handlers, onStatus, onOpen) {
    const source = new EventSource("/api/events");
    source.addEventListener("open", () => {
      onStatus && onStatus(true);
      onOpen && onOpen();
    });
    source.addEventListener("error", () => onStatus && onStatus(false));
    for (const [name, handle] of Object.entries(handlers)) {
      source.addEventListener(name, (event) => {
        try {
          handle(JSON.parse(event.data));
        } catch (error) {
          console.error(`bad ${name} event`, error);
        }
      });
    }
    return source;
  },

  /** GETs JSON; null on any failure. */
  async getJson(url) {
    try {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      return response.ok ? await response.json() : null;
    } catch (_) {
      return null;
    }
  },

  /** POSTs JSON; resolves to { ok, status, body }. */
  async postJson(url, body) {
    try {
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body || {}),
      });
      let data = null;
      try { data = await response.json(); } catch (_) { /* empty body */ }
      return { ok: response.ok, status: response.status, body: data };
    } catch (error) {
      return { ok: false, status: 0, body: { error: String(error) } };
    }
  },
};
