// The loa dashboard: Vietnamese, no external assets, charts drawn here as SVG. The token lives
// in sessionStorage (gone when the tab closes) and goes out as a Bearer header; a 401 sends the
// user back to the login form. Everything is read through /api/v1 and refreshed every 2 s.
'use strict';

const TOKEN_KEY = 'loa.token';
const POLL_MS = 2000;
const nf = new Intl.NumberFormat('vi-VN');
const $ = (id) => document.getElementById(id);
let timer = null;
let activePanel = 'overview';

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else if (k === 'style') e.style.cssText = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

class Unauthorized extends Error {}

async function api(path) {
  const res = await fetch('/api/v1' + path, {
    headers: { Authorization: 'Bearer ' + sessionStorage.getItem(TOKEN_KEY) },
  });
  if (res.status === 401) throw new Unauthorized();
  if (res.status === 404) return null;  // an endpoint this server does not have
  if (!res.ok) {
    let msg = 'HTTP ' + res.status;
    try { msg = (await res.json()).error || msg; } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return res.json();
}

function isoDay(d) {
  // The local date in Asia/Ho_Chi_Minh (UTC+7, no daylight saving).
  return new Date(d.getTime() + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

function range() {
  const q = new URLSearchParams({ from: $('from').value, to: $('to').value });
  if ($('campaign').value) q.set('campaign', $('campaign').value);
  return q;
}

function pct(n, d) { return d > 0 ? Math.round((1000 * n) / d) / 10 : 0; }

// ---- panels ---------------------------------------------------------------------------------

const STATE_VI = { draft: 'Nháp', scheduled: 'Đã lên lịch', running: 'Đang chạy',
  paused: 'Tạm dừng', completed: 'Hoàn thành', cancelled: 'Đã hủy' };

function renderCampaigns(rows, states) {
  const box = $('campaigns');
  box.replaceChildren();
  if (!rows.length) { box.append(el('p', { class: 'muted' }, 'Chưa có tin nào trong khoảng ngày này.')); return; }
  for (const r of rows) {
    const finished = r.delivered + r.failed + r.expired + r.cancelled + (r.unknown || 0);
    const state = states.get(String(r.group)) || states.get(r.label);
    const title = el('div', { class: 'title' },
      el('span', {}, r.label, state ? el('span', { class: 'state' }, STATE_VI[state] || state) : ''),
      el('span', { class: 'muted' }, `Đã gửi ${nf.format(r.sent)} · Đã nhận ${nf.format(r.delivered)} / ${nf.format(r.planned)} (${pct(r.delivered, r.planned)}%)`));
    const bar = el('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0',
      'aria-valuemax': String(r.planned), 'aria-valuenow': String(finished),
      'data-campaign': String(r.group) },
      el('span', { class: 'sent', style: `width:${pct(Math.max(r.sent, finished), r.planned)}%` }),
      el('span', { class: 'done', style: `width:${pct(finished, r.planned)}%` }));
    box.append(el('div', { class: 'campaign' }, title, bar));
  }
}

function renderFunnel(t) {
  const steps = [
    ['Kế hoạch', t.planned, '#5b7fa6'], ['Đã xếp hàng', t.queued, '#6f95bf'],
    ['Đã gửi', t.sent, '#3f8fd8'], ['Đã nhận', t.delivered, '#2e7d32'],
    ['Đã trả lời', t.replied, '#7b5ea7'], ['Thất bại', t.failed, '#c62828'],
    ['Hết hạn', t.expired, '#9e9e9e'], ['Đã hủy', t.cancelled, '#bdbdbd'],
    ['Không rõ kết quả', t.unknown || 0, '#78909c'],
    ['Chuyển kênh dự phòng', t.fallback, '#f9a825'], ['Từ chối nhận tin', t.opted_out, '#8d6e63']
  ];
  const W = 520, rowH = 24, labelW = 150, max = Math.max(1, t.planned, ...steps.map((s) => s[1]));
  const g = svg('svg', { width: '100%', viewBox: `0 0 ${W} ${steps.length * rowH + 4}`, role: 'img',
    'aria-label': 'Phễu gửi tin' });
  steps.forEach(([name, n, color], i) => {
    const y = i * rowH + 2, w = ((W - labelW - 90) * n) / max;
    g.append(svg('text', { x: 0, y: y + 15 }, name));
    g.append(svg('rect', { x: labelW, y, width: Math.max(w, n > 0 ? 1 : 0), height: rowH - 6, fill: color }));
    g.append(svg('text', { x: labelW + w + 6, y: y + 15 }, `${nf.format(n)} (${pct(n, t.planned)}%)`));
  });
  $('funnel').replaceChildren(g);
  const p50 = t.time_to_delivery_p50_s, p95 = t.time_to_delivery_p95_s;
  $('latency').textContent = p50 == null ? 'Thời gian đến máy: chưa có tin đã nhận.'
    : `Thời gian từ lúc gửi đến lúc nhận: p50 ${p50.toFixed(1)} giây, p95 ${p95.toFixed(1)} giây. Chi phí: ${nf.format(t.cost_vnd)} đ.`;
}

function renderDaily(rows) {
  const box = $('daily');
  if (!rows.length) { box.replaceChildren(el('p', { class: 'muted' }, 'Chưa có dữ liệu.')); return; }
  const W = 520, H = 200, left = 44, bottom = 36, top = 8;
  const max = Math.max(1, ...rows.map((r) => Math.max(r.planned, r.sent, r.delivered)));
  const g = svg('svg', { width: '100%', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Biểu đồ theo ngày' });
  const plotW = W - left - 8, plotH = H - bottom - top, slot = plotW / rows.length;
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    g.append(svg('line', { x1: left, x2: W - 8, y1: y, y2: y, stroke: '#e6e9ee' }));
    g.append(svg('text', { x: left - 4, y: y + 4, 'text-anchor': 'end' }, nf.format(Math.round((max * i) / 4))));
  }
  const series = [['sent', '#3f8fd8'], ['delivered', '#2e7d32']];
  const bw = Math.max(2, Math.min(18, slot / 3));
  rows.forEach((r, i) => {
    const x0 = left + i * slot + slot / 2 - bw;
    series.forEach(([key, color], k) => {
      const h = (plotH * r[key]) / max;
      const bar = svg('rect', { x: x0 + k * bw, y: top + plotH - h, width: bw - 1, height: h, fill: color });
      bar.append(svg('title', {}, `${r.group}: ${nf.format(r[key])}`));
      g.append(bar);
    });
    if (rows.length <= 14 || i % Math.ceil(rows.length / 14) === 0)
      g.append(svg('text', { x: left + i * slot + slot / 2, y: H - bottom + 16, 'text-anchor': 'middle' },
        r.group.slice(8, 10) + '/' + r.group.slice(5, 7)));
  });
  const legend = el('div', { class: 'legend' },
    el('i', { style: 'background:#3f8fd8' }), 'Đã gửi', el('i', { style: 'background:#2e7d32' }), 'Đã nhận');
  box.replaceChildren(g, legend);
}

function renderAreas(rows) {
  const body = $('areas').tBodies[0];
  body.replaceChildren();
  for (const r of rows) {
    body.append(el('tr', {}, el('td', {}, r.label || '(không rõ)'), el('td', {}, nf.format(r.planned)),
      el('td', {}, nf.format(r.sent)), el('td', {}, nf.format(r.delivered)),
      el('td', {}, nf.format(r.failed)), el('td', {}, nf.format(r.expired)),
      el('td', {}, nf.format(r.replied)), el('td', {}, pct(r.delivered, r.planned) + '%')));
  }
  if (!rows.length) body.append(el('tr', {}, el('td', { colspan: '8', class: 'muted' }, 'Chưa có dữ liệu.')));
}

function renderFailures(t) {
  const body = $('failures').tBodies[0];
  body.replaceChildren();
  const reasons = Object.entries(t.failed_by_reason || {}).sort((a, b) => b[1] - a[1]);
  for (const [reason, n] of reasons) body.append(el('tr', {}, el('td', {}, reason), el('td', {}, nf.format(n))));
  if (!reasons.length) body.append(el('tr', {}, el('td', { colspan: '2', class: 'muted' }, 'Không có tin thất bại.')));
}

async function refreshOverview() {
  const q = range();
  q.set('by', 'campaign,commune,day');
  const [stats, campaigns] = await Promise.all([api('/stats?' + q), api('/campaigns?limit=500').catch(() => null)]);
  if (!stats) throw new Error('máy chủ chưa có /api/v1/stats');
  const states = new Map();
  for (const c of (campaigns && campaigns.items) || []) {
    if (c.id != null) states.set(String(c.id), c.state);
    if (c.name) states.set(c.name, c.state);
  }
  const select = $('campaign');
  const known = new Set([...select.options].map((o) => o.value));
  for (const r of stats.by.campaign || []) {
    if (!known.has(String(r.group))) select.append(el('option', { value: String(r.group) }, r.label));
  }
  renderCampaigns(stats.by.campaign || [], states);
  renderFunnel(stats.total);
  renderDaily(stats.by.day || []);
  renderAreas(stats.by.commune || []);
  renderFailures(stats.total);
}

function maskPhone(p) { return p && p.length > 7 ? p.slice(0, 5) + '***' + p.slice(-4) : (p || ''); }

async function refreshInbox() {
  const box = $('inbox');
  const data = await api('/inbox?limit=50');
  if (!data) { box.replaceChildren(el('p', { class: 'muted', id: 'inbox-missing' }, 'Máy chủ này chưa có hộp thư đến.')); return; }
  const items = data.items || [];
  if (!items.length) { box.replaceChildren(el('p', { class: 'muted' }, 'Chưa có tin nhắn nào từ người dân.')); return; }
  const table = el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Thời gian'), el('th', {}, 'Số điện thoại'),
    el('th', {}, 'Chiến dịch'), el('th', {}, 'Nội dung'))));
  const body = el('tbody');
  for (const m of items) {
    body.append(el('tr', {}, el('td', {}, m.received_at || m.at || ''), el('td', {}, maskPhone(m.phone || m.zalo_user || '')),
      el('td', {}, m.campaign_name || m.campaign || ''), el('td', { style: 'text-align:left' }, m.text || '')));
  }
  table.append(body);
  box.replaceChildren(table);
}

async function refreshRoutes() {
  const box = $('routes');
  const data = await api('/routes');
  if (!data) { box.replaceChildren(el('p', { class: 'muted' }, 'Máy chủ này chưa có dữ liệu tuyến.')); return; }
  const table = el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Tuyến'), el('th', {}, 'Cổng'),
    el('th', {}, 'Tốc độ (/giây)'), el('th', {}, 'Đang chờ'), el('th', {}, 'Đang gửi'), el('th', {}, 'Cầu dao'))));
  const body = el('tbody');
  const BREAKER = { closed: 'Bình thường', open: 'Ngắt', half_open: 'Thử lại' };
  for (const r of data.items || []) {
    const q = r.queue || {};
    body.append(el('tr', {}, el('td', {}, r.route), el('td', {}, r.gateway || ''),
      el('td', {}, r.rate ?? r.configured_rate ?? ''), el('td', {}, nf.format((q.waiting || 0) + (q.priority || 0))),
      el('td', {}, nf.format(q.leased || 0)), el('td', {}, BREAKER[r.breaker] || r.breaker || '—')));
  }
  table.append(body);
  box.replaceChildren(table);
}

async function refresh() {
  try {
    if (activePanel === 'overview') await refreshOverview();
    else if (activePanel === 'inbox') await refreshInbox();
    else await refreshRoutes();
    $('updated').textContent = 'Cập nhật lúc ' + new Date().toLocaleTimeString('vi-VN');
  } catch (e) {
    if (e instanceof Unauthorized) return logout('Mã truy cập không hợp lệ hoặc đã bị thu hồi.');
    $('updated').textContent = 'Lỗi: ' + e.message;
  }
}

function show(panel) {
  activePanel = panel;
  for (const b of document.querySelectorAll('nav button')) b.classList.toggle('active', b.dataset.panel === panel);
  for (const p of ['overview', 'inbox', 'routes']) $('panel-' + p).hidden = p !== panel;
  refresh();
}

function start() {
  $('login').hidden = true;
  $('app').hidden = false;
  const today = new Date();
  if (!$('to').value) $('to').value = isoDay(today);
  if (!$('from').value) $('from').value = isoDay(new Date(today.getTime() - 29 * 86400 * 1000));
  refresh();
  clearInterval(timer);
  timer = setInterval(refresh, POLL_MS);
}

function logout(message) {
  clearInterval(timer);
  sessionStorage.removeItem(TOKEN_KEY);
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
  try {
    await api('/stats?from=' + isoDay(new Date()) + '&to=' + isoDay(new Date()));
    $('token').value = '';
    start();
  } catch (e) {
    logout(e instanceof Unauthorized ? 'Mã truy cập không đúng.' : 'Không đăng nhập được: ' + e.message);
  }
});
$('logout').addEventListener('click', () => logout());
for (const b of document.querySelectorAll('nav button')) b.addEventListener('click', () => show(b.dataset.panel));
for (const id of ['from', 'to', 'campaign']) $(id).addEventListener('change', refresh);

if (sessionStorage.getItem(TOKEN_KEY)) start(); else logout();
