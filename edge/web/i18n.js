// The dashboard's words in English and Chinese: OmoText.t(key), state/cause/delivery names, and
// OmoText.apply() for elements marked data-t / data-t-placeholder. The language is the
// operator's choice (kept in localStorage), else the browser's.
"use strict";

const OmoText = (() => {
  const WORDS = {
    alerts: ["Alerts", "警报"], sound_on: ["Sound on", "声音开"], sound_off: ["Sound off", "声音关"],
    logout: ["Log out", "退出"], lanes: ["Lanes", "收银通道"], alert_queue: ["Alert queue", "警报队列"],
    oldest_first: ["(oldest first)", "(最早的在前)"], note_optional: ["Note (optional)", "备注(可选)"],
    no_alerts: ["No open alerts.", "没有待处理的警报。"], clear_selected: ["Clear selected", "清除所选"],
    clear_all: ["Clear all", "全部清除"], approve: ["Approve", "通过"], reject: ["Reject", "拒绝"],
    sales: ["Sales and order look-up", "销售与订单查询"], order_id: ["Order id", "订单号"],
    wallet: ["Wallet (all 8 digits)", "钱包(8位)"], search: ["Look up", "查询"], recent: ["Recent", "最近"],
    reason_required: ["Reason (required)", "原因(必填)"], refund: ["Refund", "退款"], cancel: ["Cancel", "取消"],
    time: ["Time", "时间"], lane: ["Lane", "通道"], order: ["Order", "订单"], items: ["Items", "件数"],
    payment: ["Payment", "支付"], discounts: ["Discounts", "优惠"], member: ["Member", "会员"],
    deliveries: ["Deliveries", "配送"], state: ["State", "状态"], rider: ["Rider", "骑手"],
    promised: ["Promised by", "承诺送达"], address: ["Address", "地址"], no_rider: ["no rider yet", "尚无骑手"],
    no_deliveries: ["No open delivery orders.", "没有进行中的配送订单。"], delivered_history: ["Delivered", "已送达"],
    delivered_at: ["Delivered", "送达时间"], devices: ["Devices", "设备"], device: ["Device", "设备"],
    status: ["Status", "状态"], last_seen: ["Last seen", "最近在线"], errors: ["Errors", "错误"],
    reconnects: ["Reconnects", "重连"], audit: ["Operator actions", "操作记录"], who: ["Who", "操作员"],
    what: ["What", "操作"], why: ["Why", "原因"], outcome: ["Outcome", "结果"], trace: ["Trace a product", "商品溯源"],
    trace_hint: ["Where it came from, step by step, from the cloud's resolver.", "从云端解析器逐步查看商品来源。"],
    details: ["Details", "详情"], basket_empty: ["Basket empty", "购物篮为空"], late: ["late", "已超时"],
    min_left: ["min left", "分钟剩余"], no_sales: ["No sales yet", "暂无销售"], none: ["none", "无"],
    refund_unavailable: ["refund: not available", "退款:不可用"], lane_reason: ["Reason (for void, gate, service)", "原因(作废、开闸、停用)"],
    open_gate: ["Open gate", "开闸"], out_of_service: ["Out of service", "停用"], return_to_service: ["Return to service", "恢复使用"],
    cancel_basket: ["Cancel basket", "取消购物篮"], reset_lane: ["Reset lane", "重置通道"], void: ["Void", "作废"],
    lane_screen: ["lane screen ↗", "通道屏幕 ↗"], item: ["item", "件"], items_n: ["items", "件"],
    alerts_n: ["alerts", "警报"], in_use: ["in use", "使用中"], anonymous: ["—", "—"], member_price: ["member price", "会员价"],
  };
  const STATES = {
    idle: ["idle", "空闲"], shopping: ["shopping", "购物中"], needs_attendant: ["needs attendant", "需要协助"],
    paying: ["paying", "付款中"], paid: ["paid", "已付款"], exiting: ["exiting", "正在离开"],
    closed: ["closed", "已关闭"], out_of_service: ["out of service", "停用"],
  };
  const CAUSES = {
    age_restricted: ["age check", "年龄核验"], unexpected_item: ["unexpected item", "意外物品"],
    item_not_bagged: ["item not bagged", "物品未装袋"], weight_mismatch: ["weight mismatch", "重量不符"],
    item_removed: ["item removed", "物品被取走"], tailgating: ["tailgating", "尾随通过"],
    forced_passage: ["forced passage", "强行通过"], gate_fault: ["gate fault", "闸门故障"],
    price_not_believed: ["price not believed", "价格存疑"],
    bagging_area_not_empty: ["bagging area not empty", "装袋区有遗留物品"],
  };
  const DELIVERY = {
    waiting: ["waiting for a rider", "等待骑手"], offered: ["offered to a rider", "已派给骑手"],
    accepted: ["rider on the way to the store", "骑手已接单"], picked_up: ["on the way to the shopper", "配送中"],
    delivered: ["delivered", "已送达"], cancelled: ["cancelled", "已取消"],
  };
  const PAYMENT = {
    paid: ["paid", "已支付"], partly_refunded: ["partly refunded", "部分退款"], refunded: ["refunded", "已退款"],
  };
  /** The reasons an attendant picks from when clearing alerts. */
  const REASONS = [
    ["Checked: all fine", "已核对,无问题"],
    ["Shopper's own item", "顾客自带物品"],
    ["Item bagged again", "已重新装袋"],
    ["Scale knocked", "秤被碰到"],
    ["Age checked (ID seen)", "已核验年龄(看过证件)"],
    ["Item taken back", "商品已收回"],
  ];

  let lang = localStorage.getItem("omo-lang")
    || ((navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en");
  const pick = (pair, code) => (pair ? pair[lang === "zh" ? 1 : 0] : String(code || "").replace(/_/g, " "));

  return {
    get lang() { return lang; },
    setLang(next) { lang = next === "zh" ? "zh" : "en"; localStorage.setItem("omo-lang", lang); },
    t: (key) => pick(WORDS[key], key),
    state: (code) => pick(STATES[code], code),
    cause: (code) => pick(CAUSES[code], code),
    delivery: (code) => pick(DELIVERY[code], code),
    payment: (code) => pick(PAYMENT[code], code),
    reasons: () => REASONS.map((pair) => pick(pair)),
    /** Fills every [data-t] element's text and [data-t-placeholder]'s placeholder. */
    apply(root) {
      document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
      for (const node of (root || document).querySelectorAll("[data-t]")) node.textContent = pick(WORDS[node.dataset.t], node.dataset.t);
      for (const node of (root || document).querySelectorAll("[data-t-placeholder]")) node.placeholder = pick(WORDS[node.dataset.tPlaceholder]);
    },
  };
})();
