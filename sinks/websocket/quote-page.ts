/**
 * The live quote and trading page served at `/`: one self-contained HTML
 * document with inline style and script, no build step and no external
 * resource.
 *
 * It connects to `ws://<its own host>/` (passing on its own `?token=…`, since
 * a browser cannot set an Authorization header on a WebSocket), asks
 * `list_instruments` (action protocol), subscribes to all of them with
 * `subscribe_quote` (DIFF) and runs the `peek_message` loop, applying each
 * rtn_data's merge patches to its copy of the data and re-rendering what
 * changed once per animation frame. It re-lists every 5 s so that new
 * instruments appear, and reconnects with backoff.
 *
 * Below the quotes, three trading panels follow the DIFF `trade` root of
 * every account: "Positions" (instruments with a long or short volume),
 * "Working orders" (orders not in a terminal state, newest first) and
 * "Denials" (the latest denials, newest first).
 *
 * Every cell carries `data-field` and the key of its row, so tests and
 * scripts can read the page: quotes `data-instrument`, feeds `data-feed`,
 * positions `data-position` (the instrument), orders `data-order` (the
 * client_order_id), denials `data-denial` (the event_id); trading rows and
 * cells also carry `data-account`. Colours follow the China market
 * convention: red is up (and buy, long), green is down (sell, short).
 */
export const quotePage = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>tickflow · live quotes &amp; trading</title>
<style>
  :root {
    --bg: #0f1419; --panel: #161d24; --line: #232d38; --text: #d8dee6; --muted: #7d8a99;
    --up: #f0524f; --down: #2fbf71; --flat: #d8dee6; --accent: #4aa3ff; --warn: #e8b339;
  }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang SC", sans-serif; }
  header { display: flex; align-items: center; gap: 16px; padding: 14px 24px; border-bottom: 1px solid var(--line); background: var(--panel); }
  header h1 { font-size: 16px; font-weight: 600; margin: 0; letter-spacing: .02em; }
  header h1 span { color: var(--muted); font-weight: 400; }
  .pill { display: inline-flex; align-items: center; gap: 6px; padding: 2px 10px; border-radius: 999px; font-size: 12px; border: 1px solid var(--line); color: var(--muted); }
  .pill::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--muted); }
  .pill.live { color: var(--down); border-color: rgba(47,191,113,.4); } .pill.live::before { background: var(--down); }
  .pill.connecting { color: var(--warn); } .pill.connecting::before { background: var(--warn); }
  .pill.disconnected { color: var(--up); border-color: rgba(240,82,79,.4); } .pill.disconnected::before { background: var(--up); }
  .summary { color: var(--muted); font-size: 12px; margin-left: auto; display: flex; gap: 16px; font-variant-numeric: tabular-nums; }
  .summary b { color: var(--text); font-weight: 500; }
  main { padding: 16px 24px 32px; }
  h2 { font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: .08em; color: var(--muted); margin: 8px 0 10px; }
  #feeds { display: flex; flex-wrap: wrap; gap: 10px; margin-bottom: 20px; }
  #feeds .empty { color: var(--muted); font-size: 13px; }
  .feed { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 220px; }
  .feed .name { display: flex; justify-content: space-between; align-items: center; gap: 12px; font-weight: 600; }
  .feed .stats { color: var(--muted); font-size: 12px; margin-top: 4px; font-variant-numeric: tabular-nums; }
  .feed .detail { color: var(--muted); font-size: 12px; margin-top: 2px; max-width: 320px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .state { font-size: 11px; font-weight: 700; padding: 1px 8px; border-radius: 4px; letter-spacing: .05em; }
  .state.UP { background: rgba(47,191,113,.15); color: var(--down); }
  .state.STALE { background: rgba(232,179,57,.15); color: var(--warn); }
  .state.DOWN { background: rgba(240,82,79,.15); color: var(--up); }
  .board-wrap { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; overflow: auto; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { padding: 7px 14px; text-align: right; white-space: nowrap; border-bottom: 1px solid var(--line); }
  th { position: sticky; top: 0; background: var(--panel); color: var(--muted); font-size: 12px; font-weight: 600; }
  th:first-child, td:first-child { text-align: left; }
  td[data-field="instrument_id"] { font-weight: 600; }
  td[data-field="datetime"] { color: var(--muted); }
  tbody tr:last-child td { border-bottom: none; }
  tbody tr:hover { background: rgba(74,163,255,.06); }
  .up { color: var(--up); } .down { color: var(--down); }
  td.vol { color: var(--muted); }
  @keyframes flash-up { from { background: rgba(240,82,79,.28); } to { background: transparent; } }
  @keyframes flash-down { from { background: rgba(47,191,113,.28); } to { background: transparent; } }
  td.flash-up { animation: flash-up .8s ease-out; }
  td.flash-down { animation: flash-down .8s ease-out; }
  #message { color: var(--warn); font-size: 12px; min-height: 1.4em; margin-top: 10px; }
  .legend { color: var(--muted); font-size: 12px; margin-top: 8px; }
  .legend .up, .legend .down { font-weight: 600; }
  /* Positions take the width they need; working orders, the widest table, the rest. */
  .trading { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: 16px; margin-top: 22px; align-items: start; }
  @media (max-width: 1200px) { .trading { grid-template-columns: minmax(0, 1fr); } }
  table.trade { font-size: 13px; }
  table.trade th, table.trade td { padding: 7px 12px; }
  .one-account .col-account { display: none; }
  .trading + h2 { margin-top: 22px; }
  h2 .count { display: inline-block; min-width: 20px; margin-left: 6px; padding: 0 6px; border-radius: 999px; background: var(--line); color: var(--text); font-size: 11px; text-align: center; letter-spacing: 0; }
  table.trade th.text, table.trade td.text { text-align: left; }
  table.trade td[data-field="client_order_id"], table.trade td[data-field="account"] { color: var(--muted); }
  table.trade td[data-field="instrument_id"] { font-weight: 600; }
  table.trade td[data-field="reason"] { white-space: normal; min-width: 220px; width: 100%; color: var(--muted); }
  table.trade td[data-field="datetime"], table.trade td[data-field="insert_datetime"] { color: var(--muted); }
  tr.empty td { color: var(--muted); text-align: left; font-size: 13px; }
  .badge { font-size: 11px; font-weight: 700; letter-spacing: .04em; }
  .status-SUBMITTED, .status-PENDING_CANCEL { color: var(--warn); }
  .status-ACCEPTED { color: var(--accent); }
  .status-PARTIALLY_FILLED { color: var(--up); }
  .reason-code { color: var(--warn); }
</style>
</head>
<body class="one-account">
<header>
  <h1>tickflow <span>· live quotes &amp; trading</span></h1>
  <span id="status" class="pill connecting">connecting</span>
  <div class="summary">
    <span>instruments <b id="instrument-count">0</b></span>
    <span>updates <b id="update-count">0</b></span>
    <span>last tick <b id="last-datetime">–</b></span>
  </div>
</header>
<main>
  <h2>Feeds</h2>
  <div id="feeds"><span class="empty">no feed status yet</span></div>
  <h2>Quotes</h2>
  <div class="board-wrap">
    <table id="board">
      <thead><tr>
        <th>Instrument</th><th>Last</th><th>Change</th><th>Change %</th>
        <th>Bid</th><th>Bid vol</th><th>Ask</th><th>Ask vol</th>
        <th>Volume</th><th>Open interest</th><th>Time</th>
      </tr></thead>
      <tbody id="quotes"></tbody>
    </table>
  </div>
  <div class="legend">Change is against the previous settlement; <span class="up">red</span> is up, <span class="down">green</span> is down.</div>
  <div class="trading">
    <section>
      <h2>Positions<span class="count" id="position-count">0</span></h2>
      <div class="board-wrap">
        <table class="trade" id="positions-table">
          <thead><tr>
            <th class="text col-account">Account</th><th class="text">Instrument</th><th>Net</th>
            <th>Long</th><th>Avg long</th><th>Short</th><th>Avg short</th>
          </tr></thead>
          <tbody id="positions"><tr class="empty"><td colspan="7">no open positions</td></tr></tbody>
        </table>
      </div>
    </section>
    <section>
      <h2>Working orders<span class="count" id="working-count">0</span></h2>
      <div class="board-wrap">
        <table class="trade" id="orders-table">
          <thead><tr>
            <th class="text">Time</th><th class="text col-account">Account</th><th class="text">Order</th><th class="text">Instrument</th>
            <th class="text">Side</th><th class="text">Offset</th><th>Price</th><th>Qty</th><th>Filled</th><th class="text">Status</th>
          </tr></thead>
          <tbody id="orders"><tr class="empty"><td colspan="10">no working orders</td></tr></tbody>
        </table>
      </div>
    </section>
  </div>
  <h2>Denials<span class="count" id="denial-count">0</span></h2>
  <div class="board-wrap">
    <table class="trade" id="denials-table">
      <thead><tr>
        <th class="text">Time</th><th class="text col-account">Account</th><th class="text">Order</th><th class="text">Instrument</th>
        <th class="text">Reason code</th><th class="text">Reason</th>
      </tr></thead>
      <tbody id="denials"><tr class="empty"><td colspan="6">no denials</td></tr></tbody>
    </table>
  </div>
  <div id="message"></div>
</main>
<script>
(function () {
  'use strict';
  var COLUMNS = [
    ['instrument_id', ''], ['last_price', 'price'], ['change', 'price'], ['change_percent', ''],
    ['bid_price1', 'price'], ['bid_volume1', 'vol'], ['ask_price1', 'price'], ['ask_volume1', 'vol'],
    ['volume', ''], ['open_interest', ''], ['datetime', '']
  ];
  var DASH = '\u2013';
  // Order states after which an order no longer works (domain/order-state-machine.ts).
  var TERMINAL = { DENIED: true, REJECTED: true, FILLED: true, CANCELED: true, EXPIRED: true };
  var data = { quotes: {}, feeds: {}, trade: {} };
  var rows = {};
  var listed = '';
  var socket = null;
  var retryMs = 500;
  var renderPending = false;
  var dirtyQuotes = {};
  var feedsDirty = false;
  var tradeDirty = false;
  var updates = 0;
  var tbody = document.getElementById('quotes');

  function byId(id) { return document.getElementById(id); }

  function mergePatch(target, patch) {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
    if (target === null || typeof target !== 'object' || Array.isArray(target)) target = {};
    for (var key in patch) {
      if (!Object.prototype.hasOwnProperty.call(patch, key)) continue;
      if (patch[key] === null) delete target[key];
      else target[key] = mergePatch(target[key], patch[key]);
    }
    return target;
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function setStatus(text) {
    var el = byId('status');
    el.textContent = text;
    el.className = 'pill ' + text;
  }

  function showMessage(text) {
    byId('message').textContent = text;
  }

  // Decimals a price shows, from the price itself: rounded to 4 places first, so float noise (3949.8000000000002) does not count.
  function decimalsOf(value) {
    if (typeof value !== 'number' || !isFinite(value)) return 0;
    var text = value.toFixed(4).replace(/0+$/, '');
    return text.length - text.indexOf('.') - 1;
  }

  function formatNumber(value, decimals) {
    if (typeof value !== 'number' || !isFinite(value)) return DASH;
    return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  }

  function formatTime(datetime) {
    return typeof datetime === 'string' && datetime.length >= 23 ? datetime.slice(11, 23) : DASH;
  }

  function createRow(id) {
    var tr = document.createElement('tr');
    tr.setAttribute('data-instrument', id);
    var cells = {};
    for (var i = 0; i < COLUMNS.length; i++) {
      var td = document.createElement('td');
      td.setAttribute('data-instrument', id);
      td.setAttribute('data-field', COLUMNS[i][0]);
      if (COLUMNS[i][1]) td.className = COLUMNS[i][1];
      td.textContent = i === 0 ? id : DASH;
      cells[COLUMNS[i][0]] = td;
      tr.appendChild(td);
    }
    rows[id] = { tr: tr, cells: cells, decimals: 0, last: undefined };
    return rows[id];
  }

  function placeRows(ids) {
    var wanted = {};
    for (var i = 0; i < ids.length; i++) {
      wanted[ids[i]] = true;
      var row = rows[ids[i]] || createRow(ids[i]);
      tbody.appendChild(row.tr);
      dirtyQuotes[ids[i]] = true;
    }
    for (var id in rows) {
      if (!wanted[id]) { rows[id].tr.remove(); delete rows[id]; }
    }
    byId('instrument-count').textContent = String(ids.length);
  }

  function setCell(td, text, trend) {
    if (td.textContent !== text) td.textContent = text;
    if (trend !== undefined) {
      td.classList.toggle('up', trend === 'up');
      td.classList.toggle('down', trend === 'down');
    }
  }

  function flash(td, direction) {
    td.classList.remove('flash-up', 'flash-down');
    void td.offsetWidth;
    td.classList.add('flash-' + direction);
  }

  // Every price is coloured against the previous settlement, as China futures screens do.
  function trendOf(price, base) {
    if (typeof price !== 'number' || typeof base !== 'number' || price === base) return '';
    return price > base ? 'up' : 'down';
  }

  function renderQuote(id) {
    var row = rows[id];
    if (!row) return;
    var q = data.quotes[id] || {};
    row.decimals = Math.max(row.decimals, decimalsOf(q.last_price), decimalsOf(q.pre_settlement), decimalsOf(q.bid_price1), decimalsOf(q.ask_price1));
    var d = row.decimals;
    var last = q.last_price;
    var base = q.pre_settlement;
    var hasChange = typeof last === 'number' && typeof base === 'number' && base !== 0;
    var change = hasChange ? last - base : null;
    var trend = trendOf(last, base);
    var c = row.cells;
    setCell(c.last_price, formatNumber(last, d), trend);
    setCell(c.change, change === null ? DASH : (change > 0 ? '+' : '') + formatNumber(change, d), trend);
    setCell(c.change_percent, change === null ? DASH : (change > 0 ? '+' : '') + (change / base * 100).toFixed(2) + '%', trend);
    setCell(c.bid_price1, formatNumber(q.bid_price1, d), trendOf(q.bid_price1, base));
    setCell(c.bid_volume1, formatNumber(q.bid_volume1, 0));
    setCell(c.ask_price1, formatNumber(q.ask_price1, d), trendOf(q.ask_price1, base));
    setCell(c.ask_volume1, formatNumber(q.ask_volume1, 0));
    setCell(c.volume, formatNumber(q.volume, 0));
    setCell(c.open_interest, formatNumber(q.open_interest, 0));
    setCell(c.datetime, formatTime(q.datetime));
    if (typeof row.last === 'number' && typeof last === 'number' && last !== row.last) flash(c.last_price, last > row.last ? 'up' : 'down');
    row.last = last;
  }

  function renderFeeds() {
    var box = byId('feeds');
    var ids = Object.keys(data.feeds).sort();
    if (ids.length === 0) { box.innerHTML = '<span class="empty">no feed status yet</span>'; return; }
    box.textContent = '';
    for (var i = 0; i < ids.length; i++) {
      var id = ids[i];
      var f = data.feeds[id];
      var card = document.createElement('div');
      card.className = 'feed';
      card.setAttribute('data-feed', id);
      var name = document.createElement('div');
      name.className = 'name';
      var label = document.createElement('span');
      label.textContent = id;
      var state = document.createElement('span');
      state.className = 'state ' + (f.state || '');
      state.setAttribute('data-feed', id);
      state.setAttribute('data-field', 'state');
      state.textContent = f.state || DASH;
      name.appendChild(label);
      name.appendChild(state);
      var stats = document.createElement('div');
      stats.className = 'stats';
      stats.textContent = 'lead ' + formatNumber(f.lead_count, 0) + ' \u00b7 lag ' + formatNumber(f.lag_count, 0) +
        ' \u00b7 gaps ' + formatNumber(f.gap_count, 0) + ' \u00b7 drops ' + formatNumber(f.drop_count, 0);
      var detail = document.createElement('div');
      detail.className = 'detail';
      detail.textContent = f.detail || '';
      detail.title = f.detail || '';
      card.appendChild(name);
      card.appendChild(stats);
      card.appendChild(detail);
      box.appendChild(card);
    }
  }

  // Prices of orders and positions show the decimals of the instrument's quotes; averages up to two more.
  function priceText(instrument, value, extra) {
    var base = rows[instrument] ? rows[instrument].decimals : Math.min(decimalsOf(value), 2);
    return formatNumber(value, Math.min(Math.max(base, decimalsOf(value)), base + extra));
  }

  function tradeCell(tr, field, text, className) {
    var td = document.createElement('td');
    td.setAttribute('data-field', field);
    var keys = ['data-account', 'data-position', 'data-order', 'data-denial'];
    for (var i = 0; i < keys.length; i++) {
      var value = tr.getAttribute(keys[i]);
      if (value !== null) td.setAttribute(keys[i], value);
    }
    if (className) td.className = className;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function tradeRow(attrs) {
    var tr = document.createElement('tr');
    for (var key in attrs) tr.setAttribute(key, attrs[key]);
    return tr;
  }

  function fillTable(id, trs, columns, emptyText, countId) {
    var tbody = byId(id);
    tbody.textContent = '';
    if (trs.length === 0) {
      var tr = document.createElement('tr');
      tr.className = 'empty';
      var td = document.createElement('td');
      td.colSpan = columns;
      td.textContent = emptyText;
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
    for (var i = 0; i < trs.length; i++) tbody.appendChild(trs[i]);
    byId(countId).textContent = String(trs.length);
  }

  function sectionOf(account, section) {
    var a = data.trade[account];
    return a && typeof a[section] === 'object' && a[section] !== null ? a[section] : {};
  }

  function sideClass(side) {
    return side === 'BUY' ? 'text up' : side === 'SELL' ? 'text down' : 'text';
  }

  // Newest first: by time, then the later arrival first.
  function newestFirst(items) {
    return items.map(function (item, i) { return { item: item, i: i }; }).sort(function (a, b) {
      var ta = a.item.time || '', tb = b.item.time || '';
      return ta < tb ? 1 : ta > tb ? -1 : b.i - a.i;
    }).map(function (x) { return x.item; });
  }

  function renderTrade() {
    var accounts = Object.keys(data.trade).sort();
    var positions = [], orders = [], denials = [];
    for (var a = 0; a < accounts.length; a++) {
      var account = accounts[a];
      var ps = sectionOf(account, 'positions');
      var instruments = Object.keys(ps).sort();
      for (var p = 0; p < instruments.length; p++) {
        var pos = ps[instruments[p]];
        if (!(pos.volume_long > 0) && !(pos.volume_short > 0)) continue;
        var tr = tradeRow({ 'data-account': account, 'data-position': instruments[p] });
        tradeCell(tr, 'account', account, 'text col-account');
        tradeCell(tr, 'instrument_id', instruments[p], 'text');
        tradeCell(tr, 'net', (pos.net > 0 ? '+' : '') + formatNumber(pos.net, 0), pos.net > 0 ? 'up' : pos.net < 0 ? 'down' : '');
        tradeCell(tr, 'volume_long', formatNumber(pos.volume_long, 0), pos.volume_long > 0 ? 'up' : '');
        tradeCell(tr, 'open_price_long', priceText(instruments[p], pos.open_price_long, 2));
        tradeCell(tr, 'volume_short', formatNumber(pos.volume_short, 0), pos.volume_short > 0 ? 'down' : '');
        tradeCell(tr, 'open_price_short', priceText(instruments[p], pos.open_price_short, 2));
        positions.push(tr);
      }
      var os = sectionOf(account, 'orders');
      for (var id in os) {
        var o = os[id];
        if (TERMINAL[o.status]) continue;
        var row = tradeRow({ 'data-account': account, 'data-order': id });
        tradeCell(row, 'insert_datetime', formatTime(o.insert_datetime), 'text');
        tradeCell(row, 'account', account, 'text col-account');
        tradeCell(row, 'client_order_id', id, 'text');
        tradeCell(row, 'instrument_id', o.instrument_id || DASH, 'text');
        tradeCell(row, 'side', o.side || DASH, sideClass(o.side) + ' badge');
        tradeCell(row, 'position_effect', o.position_effect || DASH, 'text');
        tradeCell(row, 'price', typeof o.price === 'number' ? priceText(o.instrument_id, o.price, 0) : (o.order_type === 'MARKET' ? 'market' : DASH));
        tradeCell(row, 'quantity', formatNumber(o.quantity, 0));
        tradeCell(row, 'filled', formatNumber(o.filled, 0));
        tradeCell(row, 'status', o.status || DASH, 'text badge status-' + o.status);
        orders.push({ time: o.insert_datetime, tr: row });
      }
      var ds = sectionOf(account, 'denials');
      for (var eventId in ds) {
        var d = ds[eventId];
        var dr = tradeRow({ 'data-account': account, 'data-denial': eventId });
        tradeCell(dr, 'datetime', formatTime(d.datetime), 'text');
        tradeCell(dr, 'account', account, 'text col-account');
        tradeCell(dr, 'client_order_id', d.client_order_id || DASH, 'text');
        tradeCell(dr, 'instrument_id', d.instrument_id || DASH, 'text');
        tradeCell(dr, 'reason_code', d.reason_code || DASH, 'text badge reason-code');
        var reason = tradeCell(dr, 'reason', d.reason || '', 'text');
        reason.title = d.reason || '';
        denials.push({ time: d.datetime, tr: dr });
      }
    }
    // The account column shows only when there is more than one account to tell apart.
    document.body.classList.toggle('one-account', accounts.length <= 1);
    var pick = function (x) { return x.tr; };
    fillTable('positions', positions, 7, 'no open positions', 'position-count');
    fillTable('orders', newestFirst(orders).map(pick), 10, 'no working orders', 'working-count');
    fillTable('denials', newestFirst(denials).map(pick), 6, 'no denials', 'denial-count');
  }

  function render() {
    renderPending = false;
    var latest = '';
    for (var id in dirtyQuotes) {
      if (!rows[id] && data.quotes[id]) placeRows(Object.keys(rows).concat([id]).sort());
      renderQuote(id);
      var dt = data.quotes[id] && data.quotes[id].datetime;
      if (typeof dt === 'string' && dt > latest) latest = dt;
    }
    dirtyQuotes = {};
    if (latest) byId('last-datetime').textContent = latest.slice(0, 23);
    if (feedsDirty) { feedsDirty = false; renderFeeds(); }
    if (tradeDirty) { tradeDirty = false; renderTrade(); }
    byId('update-count').textContent = String(updates);
    // Ask for more only once this frame is drawn: the page never takes data faster than it can show it.
    send({ aid: 'peek_message' });
  }

  function onRtnData(patches) {
    updates++;
    for (var i = 0; i < patches.length; i++) {
      var patch = patches[i];
      if (patch && typeof patch.quotes === 'object' && patch.quotes !== null) {
        for (var id in patch.quotes) dirtyQuotes[id] = true;
      }
      if (patch && typeof patch.feeds === 'object' && patch.feeds !== null) feedsDirty = true;
      if (patch && typeof patch.trade === 'object' && patch.trade !== null) tradeDirty = true;
      data = mergePatch(data, patch);
    }
    if (!data.quotes) data.quotes = {};
    if (!data.feeds) data.feeds = {};
    if (!data.trade) data.trade = {};
    if (!renderPending) { renderPending = true; requestAnimationFrame(render); }
  }

  function onInstruments(ids) {
    var list = ids.join(',');
    if (list === listed) return;
    var first = listed === '';
    listed = list;
    placeRows(ids.slice().sort());
    send({ aid: 'subscribe_quote', ins_list: list });
    if (first) send({ aid: 'peek_message' });
  }

  function onMessage(event) {
    var message;
    try { message = JSON.parse(event.data); } catch (e) { return; }
    if (message.aid === 'rtn_data' && Array.isArray(message.data)) onRtnData(message.data);
    else if (message.action === 'instruments' && Array.isArray(message.instruments)) onInstruments(message.instruments);
    else if ((message.aid === 'error' || message.action === 'error') && message.error) showMessage(message.error.code + ': ' + message.error.message);
  }

  function connect() {
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    setStatus('connecting');
    socket = new WebSocket(scheme + location.host + '/' + location.search);
    socket.onopen = function () {
      retryMs = 500;
      setStatus('live');
      showMessage('');
      // A new connection starts from a fresh snapshot.
      data = { quotes: {}, feeds: {}, trade: {} };
      tradeDirty = true;
      listed = '';
      send({ action: 'list_instruments' });
    };
    socket.onmessage = onMessage;
    socket.onclose = function (event) {
      setStatus('disconnected');
      showMessage('connection closed (' + event.code + (event.reason ? ': ' + event.reason : '') + '); reconnecting in ' + (retryMs / 1000) + ' s');
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    };
  }

  setInterval(function () { send({ action: 'list_instruments' }); }, 5000);
  connect();
})();
</script>
</body>
</html>
`;
