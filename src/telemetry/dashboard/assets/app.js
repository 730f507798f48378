// Tollgate live dashboard: reads /api/state once, then one state per second from /api/events (SSE).
/* global uPlot */
'use strict';

const $ = (id) => document.getElementById(id);
const fmt = (n, digits = 0) =>
  n === null || n === undefined || Number.isNaN(n)
    ? '–'
    : Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ms = (n) => (n === null || n === undefined ? '–' : n < 10 ? fmt(n, 2) : n < 100 ? fmt(n, 1) : fmt(n, 0));
const pct = (r) => `${fmt(r * 100, r > 0 && r < 0.01 ? 2 : 1)}%`;

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

let rateChart;
let latencyChart;

function chartOpts(title, series, width) {
  return {
    title,
    width,
    height: 220,
    scales: { x: { time: true } },
    series: [{}, ...series],
    axes: [{}, { size: 60 }],
  };
}

function ensureCharts() {
  if (rateChart !== undefined || typeof uPlot === 'undefined') return;
  const w = Math.max(320, $('charts').clientWidth / 2 - 24);
  rateChart = new uPlot(
    chartOpts(
      'Requests / s',
      [
        { label: 'requests/s', stroke: '#2f7ed8', width: 2 },
        { label: '5xx/s', stroke: '#d9534f', width: 2 },
      ],
      w,
    ),
    [[], [], []],
    $('rate-chart'),
  );
  latencyChart = new uPlot(
    chartOpts(
      'Latency (ms)',
      [
        { label: 'gateway p50', stroke: '#5cb85c' },
        { label: 'gateway p95', stroke: '#f0ad4e' },
        { label: 'gateway p99', stroke: '#d9534f', width: 2 },
        { label: 'upstream p50', stroke: '#5bc0de', dash: [4, 4] },
        { label: 'upstream p95', stroke: '#9b59b6', dash: [4, 4] },
        { label: 'upstream p99', stroke: '#34495e', dash: [4, 4] },
      ],
      w,
    ),
    [[], [], [], [], [], [], []],
    $('latency-chart'),
  );
}

const sortState = { key: 'requests', dir: -1 };

function renderRoutes(routes) {
  const rows = [...routes].sort((a, b) => {
    const va = sortState.key === 'p99' ? (a.latency ? a.latency.p99 : -1) : a[sortState.key];
    const vb = sortState.key === 'p99' ? (b.latency ? b.latency.p99 : -1) : b[sortState.key];
    return (va < vb ? -1 : va > vb ? 1 : 0) * sortState.dir;
  });
  const body = $('routes-body');
  body.replaceChildren(
    ...rows.map((r) => {
      const tr = el('tr', { 'data-route': r.route, 'data-method': r.method });
      tr.append(
        el('td', {}, r.method),
        el('td', { class: 'route' }, r.route),
        el('td', { class: 'num requests' }, fmt(r.requests)),
        el('td', { class: 'num' }, fmt(r.rps, 1)),
        el('td', { class: 'num errors' }, pct(r.errorRatio)),
      );
      for (const q of ['p50', 'p95', 'p99'])
        tr.append(el('td', { class: `num ${q}` }, ms(r.latency ? r.latency[q] : null)));
      return tr;
    }),
  );
}

function render(s) {
  $('total-requests').textContent = fmt(s.totals.requests);
  $('rps').textContent = fmt(s.rps, 1);
  $('error-rate').textContent = pct(s.errorRatio);
  $('server-errors').textContent = fmt(s.totals.serverErrors);
  $('client-errors').textContent = fmt(s.totals.clientErrors);
  for (const [who, q] of [
    ['gw', s.latency.gateway],
    ['up', s.latency.upstream],
  ])
    for (const p of ['p50', 'p95', 'p99']) $(`${who}-${p}`).textContent = ms(q ? q[p] : null);
  $('window').textContent = `${s.windowS} s`;
  $('updated').textContent = new Date(s.at).toLocaleTimeString();

  $('statuses-body').replaceChildren(
    ...s.statuses.map((x) => {
      const tr = el('tr', { 'data-status': x.status, class: `s${x.status[0]}xx` });
      tr.append(
        el('td', {}, x.status),
        el('td', { class: 'num requests' }, fmt(x.requests)),
        el('td', { class: 'num' }, fmt(x.rps, 1)),
      );
      return tr;
    }),
  );
  renderRoutes(s.routes);
  $('backends-body').replaceChildren(
    ...s.backends.map((b) => {
      const tr = el('tr', { 'data-backend': b.backend, 'data-route': b.route });
      const health = el('td', { class: 'targets' });
      for (const t of b.targets)
        health.append(el('span', { class: `target ${t.health}`, title: t.health }, `${t.target} ${t.health}`));
      if (b.targets.length === 0) health.textContent = 'no health checks';
      tr.append(
        el('td', { class: 'route' }, b.route),
        el('td', {}, b.backend),
        el('td', { class: 'num requests' }, fmt(b.requests)),
        el('td', { class: 'num errors' }, fmt(b.errors)),
        el('td', { class: 'num' }, ms(b.latency ? b.latency.p50 : null)),
        el('td', { class: 'num' }, ms(b.latency ? b.latency.p99 : null)),
        health,
      );
      return tr;
    }),
  );
  $('slow-body').replaceChildren(
    ...s.slow.map((x) => {
      const tr = el('tr', x.traceId ? { 'data-trace': x.traceId } : {});
      tr.append(
        el('td', {}, new Date(x.at).toLocaleTimeString()),
        el('td', { class: 'num' }, ms(x.durationMs)),
        el('td', {}, `${x.method} ${x.path}`),
        el('td', {}, x.route),
        el('td', { class: 'num' }, String(x.status)),
        el('td', { class: 'trace' }, x.traceId ?? '–'),
      );
      return tr;
    }),
  );
  ensureCharts();
  if (rateChart !== undefined) {
    rateChart.setData([s.series.t, s.series.rps, s.series.errorsPerS]);
    latencyChart.setData([
      s.series.t,
      s.series.gatewayP50,
      s.series.gatewayP95,
      s.series.gatewayP99,
      s.series.upstreamP50,
      s.series.upstreamP95,
      s.series.upstreamP99,
    ]);
  }
  document.body.dataset.ready = 'true';
}

for (const th of document.querySelectorAll('th[data-sort]')) {
  th.addEventListener('click', () => {
    const key = th.dataset.sort;
    sortState.dir = sortState.key === key ? -sortState.dir : key === 'route' || key === 'method' ? 1 : -1;
    sortState.key = key;
    if (window.lastState) renderRoutes(window.lastState.routes);
  });
}

function show(state) {
  window.lastState = state;
  render(state);
}

fetch('api/state', { credentials: 'same-origin' })
  .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
  .then(show)
  .catch((e) => ($('status').textContent = `cannot load: ${e.message}`));

const events = new EventSource('api/events');
events.onmessage = (e) => {
  $('status').textContent = 'live';
  show(JSON.parse(e.data));
};
events.onerror = () => ($('status').textContent = 'reconnecting…');
