/**
 * The live page's script (index.html), a browser module with no build step and no external resource.
 *
 * It connects to `ws://<its own host>/` (passing on its own `?token=…`, since a browser cannot set an Authorization header on a
 * WebSocket), asks `list_instruments` (action protocol), subscribes to all of them with `subscribe_quote` (DIFF) and runs the
 * `peek_message` loop, applying each rtn_data's merge patches to its copy of the data and re-rendering what changed once per
 * animation frame. It re-lists every 5 s so that new instruments appear, and reconnects with backoff.
 *
 * Below the quotes, three trading panels follow the DIFF `trade` root of every account: "Positions" (instruments with a long or
 * short volume), "Working orders" (orders not in a terminal state, newest first) and "Denials" (the latest denials, newest first).
 *
 * Every cell carries `data-field` and the key of its row, so tests and scripts can read the page: quotes `data-instrument`, feeds
 * `data-feed`, positions `data-position` (the instrument), orders `data-order` (the client_order_id), denials `data-denial` (the
 * event_id); trading rows and cells also carry `data-account`.
 */
// Not a file beside this one: the server makes it from domain/order-state-machine.ts, so the page and the domain share one definition.
import { TERMINAL_ORDER_STATES } from '/constants.js';

const COLUMNS = [
  ['instrument_id', ''],
  ['last_price', 'price'],
  ['change', 'price'],
  ['change_percent', ''],
  ['bid_price1', 'price'],
  ['bid_volume1', 'vol'],
  ['ask_price1', 'price'],
  ['ask_volume1', 'vol'],
  ['volume', ''],
  ['open_interest', ''],
  ['datetime', ''],
];
const DASH = '\u2013';
const TERMINAL = new Set(TERMINAL_ORDER_STATES);
let data = { quotes: {}, feeds: {}, trade: {} };
const rows = {};
let listed = '';
let socket = null;
let retryMs = 500;
let renderPending = false;
let dirtyQuotes = {};
let feedsDirty = false;
let tradeDirty = false;
let updates = 0;
const quotesBody = document.getElementById('quotes');

function byId(id) {
  return document.getElementById(id);
}

function mergePatch(target, patch) {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  if (target === null || typeof target !== 'object' || Array.isArray(target)) target = {};
  for (const key in patch) {
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
  const el = byId('status');
  el.textContent = text;
  el.className = 'pill ' + text;
}

function showMessage(text) {
  byId('message').textContent = text;
}

// Decimals a price shows, from the price itself: rounded to 4 places first, so float noise (3949.8000000000002) does not count.
function decimalsOf(value) {
  if (typeof value !== 'number' || !isFinite(value)) return 0;
  const text = value.toFixed(4).replace(/0+$/, '');
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
  const tr = document.createElement('tr');
  tr.setAttribute('data-instrument', id);
  const cells = {};
  COLUMNS.forEach(([field, className], i) => {
    const td = document.createElement('td');
    td.setAttribute('data-instrument', id);
    td.setAttribute('data-field', field);
    if (className) td.className = className;
    td.textContent = i === 0 ? id : DASH;
    cells[field] = td;
    tr.appendChild(td);
  });
  rows[id] = { tr, cells, decimals: 0, last: undefined };
  return rows[id];
}

function placeRows(ids) {
  const wanted = {};
  for (const id of ids) {
    wanted[id] = true;
    const row = rows[id] || createRow(id);
    quotesBody.appendChild(row.tr);
    dirtyQuotes[id] = true;
  }
  for (const id in rows) {
    if (!wanted[id]) {
      rows[id].tr.remove();
      delete rows[id];
    }
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
  // Reading the layout restarts the animation when the same class comes back.
  void td.offsetWidth;
  td.classList.add('flash-' + direction);
}

// Every price is coloured against the previous settlement, as China futures screens do.
function trendOf(price, base) {
  if (typeof price !== 'number' || typeof base !== 'number' || price === base) return '';
  return price > base ? 'up' : 'down';
}

function renderQuote(id) {
  const row = rows[id];
  if (!row) return;
  const q = data.quotes[id] || {};
  row.decimals = Math.max(
    row.decimals,
    decimalsOf(q.last_price),
    decimalsOf(q.pre_settlement),
    decimalsOf(q.bid_price1),
    decimalsOf(q.ask_price1),
  );
  const d = row.decimals;
  const last = q.last_price;
  const base = q.pre_settlement;
  const hasChange = typeof last === 'number' && typeof base === 'number' && base !== 0;
  const change = hasChange ? last - base : null;
  const trend = trendOf(last, base);
  const c = row.cells;
  setCell(c.last_price, formatNumber(last, d), trend);
  setCell(c.change, change === null ? DASH : (change > 0 ? '+' : '') + formatNumber(change, d), trend);
  setCell(c.change_percent, change === null ? DASH : (change > 0 ? '+' : '') + ((change / base) * 100).toFixed(2) + '%', trend);
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
  const box = byId('feeds');
  const ids = Object.keys(data.feeds).sort();
  if (ids.length === 0) {
    box.innerHTML = '<span class="empty">no feed status yet</span>';
    return;
  }
  box.textContent = '';
  for (const id of ids) {
    const f = data.feeds[id];
    const card = document.createElement('div');
    card.className = 'feed';
    card.setAttribute('data-feed', id);
    const name = document.createElement('div');
    name.className = 'name';
    const label = document.createElement('span');
    label.textContent = id;
    const state = document.createElement('span');
    state.className = 'state ' + (f.state || '');
    state.setAttribute('data-feed', id);
    state.setAttribute('data-field', 'state');
    state.textContent = f.state || DASH;
    name.appendChild(label);
    name.appendChild(state);
    const stats = document.createElement('div');
    stats.className = 'stats';
    stats.textContent =
      'lead ' +
      formatNumber(f.lead_count, 0) +
      ' \u00b7 lag ' +
      formatNumber(f.lag_count, 0) +
      ' \u00b7 gaps ' +
      formatNumber(f.gap_count, 0) +
      ' \u00b7 drops ' +
      formatNumber(f.drop_count, 0);
    const detail = document.createElement('div');
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
  const base = rows[instrument] ? rows[instrument].decimals : Math.min(decimalsOf(value), 2);
  return formatNumber(value, Math.min(Math.max(base, decimalsOf(value)), base + extra));
}

const ROW_KEYS = ['data-account', 'data-position', 'data-order', 'data-denial'];

function tradeCell(tr, field, text, className) {
  const td = document.createElement('td');
  td.setAttribute('data-field', field);
  for (const key of ROW_KEYS) {
    const value = tr.getAttribute(key);
    if (value !== null) td.setAttribute(key, value);
  }
  if (className) td.className = className;
  td.textContent = text;
  tr.appendChild(td);
  return td;
}

function tradeRow(attrs) {
  const tr = document.createElement('tr');
  for (const key in attrs) tr.setAttribute(key, attrs[key]);
  return tr;
}

function fillTable(id, trs, columns, emptyText, countId) {
  const tbody = byId(id);
  tbody.textContent = '';
  if (trs.length === 0) {
    const tr = document.createElement('tr');
    tr.className = 'empty';
    const td = document.createElement('td');
    td.colSpan = columns;
    td.textContent = emptyText;
    tr.appendChild(td);
    tbody.appendChild(tr);
  }
  for (const tr of trs) tbody.appendChild(tr);
  byId(countId).textContent = String(trs.length);
}

function sectionOf(account, section) {
  const a = data.trade[account];
  return a && typeof a[section] === 'object' && a[section] !== null ? a[section] : {};
}

function sideClass(side) {
  return side === 'BUY' ? 'text up' : side === 'SELL' ? 'text down' : 'text';
}

// Newest first: by time, then the later arrival first.
function newestFirst(items) {
  return items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => {
      const ta = a.item.time || '';
      const tb = b.item.time || '';
      return ta < tb ? 1 : ta > tb ? -1 : b.i - a.i;
    })
    .map((x) => x.item);
}

function positionRows(account) {
  const ps = sectionOf(account, 'positions');
  const trs = [];
  for (const instrument of Object.keys(ps).sort()) {
    const pos = ps[instrument];
    if (!(pos.volume_long > 0) && !(pos.volume_short > 0)) continue;
    const tr = tradeRow({ 'data-account': account, 'data-position': instrument });
    tradeCell(tr, 'account', account, 'text col-account');
    tradeCell(tr, 'instrument_id', instrument, 'text');
    tradeCell(tr, 'net', (pos.net > 0 ? '+' : '') + formatNumber(pos.net, 0), pos.net > 0 ? 'up' : pos.net < 0 ? 'down' : '');
    tradeCell(tr, 'volume_long', formatNumber(pos.volume_long, 0), pos.volume_long > 0 ? 'up' : '');
    tradeCell(tr, 'open_price_long', priceText(instrument, pos.open_price_long, 2));
    tradeCell(tr, 'volume_short', formatNumber(pos.volume_short, 0), pos.volume_short > 0 ? 'down' : '');
    tradeCell(tr, 'open_price_short', priceText(instrument, pos.open_price_short, 2));
    trs.push(tr);
  }
  return trs;
}

function workingOrderRows(account) {
  const os = sectionOf(account, 'orders');
  const items = [];
  for (const id in os) {
    const o = os[id];
    if (TERMINAL.has(o.status)) continue;
    const tr = tradeRow({ 'data-account': account, 'data-order': id });
    tradeCell(tr, 'insert_datetime', formatTime(o.insert_datetime), 'text');
    tradeCell(tr, 'account', account, 'text col-account');
    tradeCell(tr, 'client_order_id', id, 'text');
    tradeCell(tr, 'instrument_id', o.instrument_id || DASH, 'text');
    tradeCell(tr, 'side', o.side || DASH, sideClass(o.side) + ' badge');
    tradeCell(tr, 'position_effect', o.position_effect || DASH, 'text');
    const price = typeof o.price === 'number' ? priceText(o.instrument_id, o.price, 0) : o.order_type === 'MARKET' ? 'market' : DASH;
    tradeCell(tr, 'price', price);
    tradeCell(tr, 'quantity', formatNumber(o.quantity, 0));
    tradeCell(tr, 'filled', formatNumber(o.filled, 0));
    tradeCell(tr, 'status', o.status || DASH, 'text badge status-' + o.status);
    items.push({ time: o.insert_datetime, tr });
  }
  return items;
}

function denialRows(account) {
  const ds = sectionOf(account, 'denials');
  const items = [];
  for (const eventId in ds) {
    const d = ds[eventId];
    const tr = tradeRow({ 'data-account': account, 'data-denial': eventId });
    tradeCell(tr, 'datetime', formatTime(d.datetime), 'text');
    tradeCell(tr, 'account', account, 'text col-account');
    tradeCell(tr, 'client_order_id', d.client_order_id || DASH, 'text');
    tradeCell(tr, 'instrument_id', d.instrument_id || DASH, 'text');
    tradeCell(tr, 'reason_code', d.reason_code || DASH, 'text badge reason-code');
    const reason = tradeCell(tr, 'reason', d.reason || '', 'text');
    reason.title = d.reason || '';
    items.push({ time: d.datetime, tr });
  }
  return items;
}

function renderTrade() {
  const accounts = Object.keys(data.trade).sort();
  const positions = accounts.flatMap(positionRows);
  const orders = accounts.flatMap(workingOrderRows);
  const denials = accounts.flatMap(denialRows);
  // The account column shows only when there is more than one account to tell apart.
  document.body.classList.toggle('one-account', accounts.length <= 1);
  const rowOf = (x) => x.tr;
  fillTable('positions', positions, 7, 'no open positions', 'position-count');
  fillTable('orders', newestFirst(orders).map(rowOf), 10, 'no working orders', 'working-count');
  fillTable('denials', newestFirst(denials).map(rowOf), 6, 'no denials', 'denial-count');
}

function render() {
  renderPending = false;
  let latest = '';
  for (const id in dirtyQuotes) {
    if (!rows[id] && data.quotes[id]) placeRows(Object.keys(rows).concat([id]).sort());
    renderQuote(id);
    const dt = data.quotes[id] && data.quotes[id].datetime;
    if (typeof dt === 'string' && dt > latest) latest = dt;
  }
  dirtyQuotes = {};
  if (latest) byId('last-datetime').textContent = latest.slice(0, 23);
  if (feedsDirty) {
    feedsDirty = false;
    renderFeeds();
  }
  if (tradeDirty) {
    tradeDirty = false;
    renderTrade();
  }
  byId('update-count').textContent = String(updates);
  // Ask for more only once this frame is drawn: the page never takes data faster than it can show it.
  send({ aid: 'peek_message' });
}

function onRtnData(patches) {
  updates++;
  for (const patch of patches) {
    if (patch && typeof patch.quotes === 'object' && patch.quotes !== null) {
      for (const id in patch.quotes) dirtyQuotes[id] = true;
    }
    if (patch && typeof patch.feeds === 'object' && patch.feeds !== null) feedsDirty = true;
    if (patch && typeof patch.trade === 'object' && patch.trade !== null) tradeDirty = true;
    data = mergePatch(data, patch);
  }
  if (!data.quotes) data.quotes = {};
  if (!data.feeds) data.feeds = {};
  if (!data.trade) data.trade = {};
  if (!renderPending) {
    renderPending = true;
    requestAnimationFrame(render);
  }
}

function onInstruments(ids) {
  const list = ids.join(',');
  if (list === listed) return;
  const first = listed === '';
  listed = list;
  placeRows(ids.slice().sort());
  send({ aid: 'subscribe_quote', ins_list: list });
  if (first) send({ aid: 'peek_message' });
}

function onMessage(event) {
  let message;
  try {
    message = JSON.parse(event.data);
  } catch {
    return;
  }
  if (message.aid === 'rtn_data' && Array.isArray(message.data)) onRtnData(message.data);
  else if (message.action === 'instruments' && Array.isArray(message.instruments)) onInstruments(message.instruments);
  else if ((message.aid === 'error' || message.action === 'error') && message.error)
    showMessage(message.error.code + ': ' + message.error.message);
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  setStatus('connecting');
  socket = new WebSocket(scheme + location.host + '/' + location.search);
  socket.onopen = () => {
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
  socket.onclose = (event) => {
    setStatus('disconnected');
    showMessage(
      'connection closed (' + event.code + (event.reason ? ': ' + event.reason : '') + '); reconnecting in ' + retryMs / 1000 + ' s',
    );
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10000);
  };
}

setInterval(() => send({ action: 'list_instruments' }), 5000);
connect();
