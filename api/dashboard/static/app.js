// rumor dashboard: polls the node's JSON API and draws the page. No
// dependencies; every value from the API goes through textContent or an
// SVG attribute, never through innerHTML.
'use strict';

(() => {
  const REFRESH_MS = 2000;
  const TIMEOUT_MS = 5000;
  const AGG_MINUTES = 10;
  const SESSION_SCAN = 100; // sessions fetched from the trace
  const SESSION_ROWS = 12;  // sessions shown
  const SVGNS = 'http://www.w3.org/2000/svg';

  const state = {
    skew: 0,        // server clock minus browser clock, ms (from /v1/series)
    self: '',       // this node's device id
    lastOK: 0,      // browser time of the last successful status fetch
    series: null,   // last /v1/series body, redrawn on resize
    refreshes: 0,
  };

  // ---- DOM helpers ----

  const $ = (id) => document.getElementById(id);

  function el(tag, props, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'data') Object.assign(e.dataset, v);
      else if (k === 'style') Object.assign(e.style, v);
      else e.setAttribute(k, v);
    }
    for (const k of kids.flat()) {
      if (k == null || k === false) continue;
      e.append(k instanceof Node ? k : String(k));
    }
    return e;
  }

  function svg(tag, attrs, ...kids) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const k of kids) e.append(k instanceof Node ? k : String(k));
    return e;
  }

  function fill(tbody, rows, cols, empty) {
    if (rows.length === 0) rows = [el('tr', { class: 'empty' }, el('td', { colspan: cols }, empty))];
    tbody.replaceChildren(...rows);
  }

  // ---- formatting ----

  const nf = new Intl.NumberFormat('en-US');
  const fmtInt = (n) => nf.format(n || 0);

  function fmtNum(v) {
    if (v == null || !isFinite(v)) return '—';
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e9 || a < 1e-3)) return v.toExponential(2);
    return nf.format(Number(v.toPrecision(4)));
  }

  function fmtCompact(v) {
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1).replace(/\.0$/, '') + 'G';
    if (a >= 1e6) return (v / 1e6).toFixed(1).replace(/\.0$/, '') + 'M';
    if (a >= 1e3) return (v / 1e3).toFixed(1).replace(/\.0$/, '') + 'k';
    if (a === 0 || a >= 10) return String(Math.round(v));
    return String(Number(v.toPrecision(2)));
  }

  function fmtBytes(b) {
    if (!b) return '0 B';
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
    return (i === 0 ? b : b.toFixed(b < 10 ? 1 : 0)) + ' ' + u[i];
  }

  // fmtPct never rounds up to 100%: only complete is shown as complete.
  function fmtPct(r) {
    if (r == null || !isFinite(r)) return '—';
    const p = Math.floor(r * 1000) / 10;
    return (p >= 100 ? '100' : p.toFixed(1)) + '%';
  }

  function fmtSecs(s) {
    if (s == null || !isFinite(s)) return '—';
    if (s < 0.001) return Math.round(s * 1e6) + ' µs';
    if (s < 1) return Math.round(s * 1000) + ' ms';
    if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }

  const serverNow = () => Date.now() + state.skew;

  function ago(ts) {
    const t = typeof ts === 'number' ? ts : Date.parse(ts);
    if (!isFinite(t)) return '—';
    const s = Math.max(0, (serverNow() - t) / 1000);
    if (s < 2) return 'just now';
    if (s < 60) return Math.floor(s) + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ago';
    return Math.floor(s / 86400) + ' d ago';
  }

  function localTime(ts) {
    const d = new Date(ts);
    return isNaN(d) ? '' : d.toLocaleString();
  }

  // A session's duration: Go's time.Duration marshals as nanoseconds; a
  // string is taken as already formatted.
  function sessionSecs(s) {
    if (typeof s.duration_ms === 'number') return s.duration_ms / 1000;
    if (typeof s.duration_seconds === 'number') return s.duration_seconds;
    if (typeof s.duration === 'number') return s.duration / 1e9;
    return null;
  }

  function shortID(id) {
    // Every Ed25519 peer id starts 12D3KooW: the tail is what tells them apart.
    return id && id.length > 16 ? id.slice(0, 4) + '…' + id.slice(-8) : (id || '?');
  }

  // A stable colour per device, so a device is recognisable across tables.
  function hue(id) {
    let h = 0x811c9dc5; // FNV-1a
    for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619) >>> 0;
    return (h % 24) * 15; // 24 well-separated hues
  }

  function device(id) {
    return el('span', { class: 'dev', title: id },
      el('span', { class: 'swatch', style: { background: `hsl(${hue(id || '')} 62% 52%)` } }),
      el('span', { class: 'mono' }, shortID(id)),
      id === state.self ? el('span', { class: 'tag self' }, 'this node') : null);
  }

  const level = (r) => (r >= 1 ? 'ok' : r >= 0.9 ? 'warn' : 'bad');

  // ---- fetching ----

  async function get(path) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    try {
      const r = await fetch(path, { signal: ctl.signal, cache: 'no-store', headers: { Accept: 'application/json' } });
      if (!r.ok) return { status: r.status };
      return { status: r.status, data: await r.json() };
    } catch (err) {
      return { status: 0, error: String(err) };
    } finally {
      clearTimeout(timer);
    }
  }

  function unavailable(res, what) {
    return res.status === 404 ? `${what} is not available on this node.` : `Could not load ${what} (${res.status || 'no answer'}).`;
  }

  // ---- sections ----

  function renderConn(ok) {
    const c = $('conn');
    c.className = 'conn ' + (ok ? 'live' : 'down');
    $('conn-text').textContent = ok ? 'live · updated ' + new Date().toLocaleTimeString() : 'node unreachable';
    const b = $('banner');
    b.hidden = ok;
    if (!ok) {
      b.textContent = state.lastOK
        ? `Cannot reach the node; retrying every ${REFRESH_MS / 1000} s. Showing data from ${new Date(state.lastOK).toLocaleTimeString()}.`
        : `Cannot reach the node; retrying every ${REFRESH_MS / 1000} s.`;
    }
  }

  function renderNode(st) {
    state.self = st.device_id;
    document.title = 'rumor · ' + shortID(st.device_id);
    $('hdr-device').textContent = shortID(st.device_id);
    $('hdr-device').title = st.device_id;
    $('hdr-mesh').textContent = [st.role, st.mesh ? 'mesh ' + st.mesh : ''].filter(Boolean).join(' · ');
    const addrs = st.addrs || [];
    const facts = [
      ['Device id', el('span', { class: 'mono' }, st.device_id)],
      ['Role', st.role || '—'],
      ['Mesh', st.mesh || '—'],
      ['Events', fmtInt(st.events)],
      ['Digest', el('span', { class: 'mono', title: st.digest }, (st.digest || '').slice(0, 16) + '…')],
      ['Retention', retentionFacts(st.retention)],
      ['Sinks', sinkFacts(st.retention)],
      ['Addresses', addrs.length
        ? el('ul', null, addrs.map((a) => el('li', { class: 'mono' }, a)))
        : el('span', { class: 'muted' }, 'offline')],
    ];
    $('node').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', null, k), el('dd', null, v)]));
    $('kpi-events').textContent = fmtInt(st.events);
    const peers = st.peers || [];
    const up = peers.filter((p) => p.connected).length;
    const kp = $('kpi-peers');
    const members = (st.members || []).length;
    kp.replaceChildren(String(up), el('small', null, `of ${peers.length} known · ${members} member${members === 1 ? '' : 's'}`));
  }

  // retentionFacts says what this node keeps and how full its disk is.
  function retentionFacts(r) {
    if (!r) return el('span', { class: 'muted' }, '—');
    const keep = r.retain && r.retain !== '0s' ? 'keeps ' + r.retain : 'no age limit';
    const parts = [keep, r.max_disk ? 'disk budget ' + fmtBytes(r.max_disk) : 'no disk budget'];
    if (r.prune_when_all_have) parts.push('prunes what every member has');
    const lp = r.last_pass;
    if (lp) parts.push(`${fmtBytes(lp.disk_bytes)} used`, `${fmtInt(lp.pruned_events)} pruned ${ago(lp.at)}`);
    return el('span', { class: 'retention' }, parts.join(' · '),
      lp && lp.blocked ? el('span', { class: 'bad' }, ` · over budget by ~${fmtBytes(lp.short_bytes)}: ${fmtInt(lp.unarchived_events)} events not archived yet`) : null);
  }

  // sinkFacts lists the sinks whose archived watermarks this node knows.
  function sinkFacts(r) {
    const sinks = (r && r.sinks) || [];
    if (sinks.length === 0) return el('span', { class: 'muted' }, 'none seen: nothing may be pruned');
    return el('ul', { class: 'sinks' }, sinks.map((k) => el('li', { data: { sink: k.id } },
      device(k.id), ` archived ${fmtInt(Object.values(k.watermarks || {}).reduce((a, b) => a + b, 0))} events of ` +
      `${Object.keys(k.watermarks || {}).length} devices`, k.member ? null : el('span', { class: 'muted' }, ' (not a live member)'))));
  }

  function worstFirst(a, b) {
    return (a.completeness - b.completeness) || (b.lag_seconds - a.lag_seconds) ||
      (a.device_id < b.device_id ? -1 : a.device_id > b.device_id ? 1 : 0);
  }

  function renderLeaderboard(res) {
    const body = $('leaderboard').tBodies[0];
    if (!res.data) {
      fill(body, [], 6, unavailable(res, 'Health'));
      $('kpi-complete').textContent = '—';
      return;
    }
    const h = res.data;
    const kc = $('kpi-complete');
    kc.textContent = fmtPct(h.completeness);
    kc.className = 'value ' + level(h.completeness);
    const rows = (h.devices || []).slice().sort(worstFirst).map((d) => {
      const lv = level(d.completeness);
      const known = d.known_max_seq > d.events ? el('span', { class: 'muted' }, ' / ' + fmtInt(d.known_max_seq)) : null;
      return el('tr', { data: { device: d.device_id } },
        el('td', null, device(d.device_id)),
        el('td', { class: 'num' }, fmtInt(d.events), known),
        el('td', null, el('div', { class: 'meter' },
          el('div', { class: 'track' }, el('div', { class: 'fill ' + lv, style: { width: Math.min(100, Math.max(0, d.completeness * 100)) + '%' } })),
          el('span', { class: 'pct ' + lv }, fmtPct(d.completeness)))),
        el('td', { class: 'num' + (d.lag_seconds > 0 ? ' warn' : ' muted') }, d.lag_seconds > 0 ? fmtSecs(d.lag_seconds) : '—'),
        el('td', { class: 'num archived', title: d.pruned_seq ? `raw events up to ${d.pruned_seq} pruned here` : null },
          d.archived_seq ? fmtInt(d.archived_seq) : el('span', { class: 'muted' }, '—'),
          d.pruned_seq ? el('span', { class: 'muted' }, ' · pruned ≤ ' + fmtInt(d.pruned_seq)) : null),
        el('td', { class: 'num', title: d.last_seen ? localTime(d.last_seen) : null }, d.last_seen ? ago(d.last_seen) : '—'));
    });
    fill(body, rows, 6, 'No events anywhere in the mesh yet.');
  }

  function renderPeers(st) {
    const body = $('peers').tBodies[0];
    if (!st) return;
    const byID = new Map();
    for (const m of st.members || []) byID.set(m.id, { id: m.id, role: m.role, member: true });
    for (const p of st.peers || []) {
      const e = byID.get(p.id) || { id: p.id };
      Object.assign(e, { peer: true, connected: p.connected, last_seen: p.last_seen, addr: (p.addrs || [])[0] });
      byID.set(p.id, e);
    }
    const list = [...byID.values()].sort((a, b) =>
      (b.id === state.self) - (a.id === state.self) || (!!b.connected - !!a.connected) || (a.id < b.id ? -1 : 1));
    const rows = list.map((e) => {
      let link;
      if (e.id === state.self) link = el('span', { class: 'muted' }, '—');
      else if (e.connected) link = el('span', { class: 'link up', title: e.addr || '' }, el('span', { class: 'dot' }), 'connected');
      else link = el('span', { class: 'link', title: e.addr || '' }, el('span', { class: 'dot' }), e.peer ? 'disconnected' : 'member only');
      return el('tr', { data: { peer: e.id } },
        el('td', null, device(e.id)),
        el('td', null, e.role || el('span', { class: 'muted' }, e.member ? '—' : 'not a member')),
        el('td', null, link),
        el('td', { class: 'num', title: e.last_seen ? localTime(e.last_seen) : null }, e.last_seen ? ago(e.last_seen) : '—'));
    });
    fill(body, rows, 4, 'No peers yet: start another node with --peer, or enable mDNS on the LAN.');
  }

  function renderSessions(res) {
    const body = $('sessions').tBodies[0];
    if (!res.data) {
      fill(body, [], 7, unavailable(res, 'The sync trace'));
      return;
    }
    const list = Array.isArray(res.data) ? res.data : (res.data.sessions || res.data.trace || []);
    const failed = (s) => (s.result || 'ok') !== 'ok' || !!s.error;
    const idle = (s) => !failed(s) && !s.events_in && !s.events_out;
    // Most sessions find the peers in sync; show the ones that moved data
    // or failed first, then fill up with the newest idle ones.
    const busy = list.filter((s) => !idle(s)).slice(0, SESSION_ROWS);
    const quiet = list.filter(idle).slice(0, SESSION_ROWS - busy.length);
    const shown = new Set([...busy, ...quiet]);
    const nFailed = list.filter(failed).length, nIdle = list.filter(idle).length;
    $('sessions-hint').textContent = `newest first · of the last ${list.length}: ${list.length - nIdle - nFailed} moved data, ` +
      `${nIdle} found nothing to do (dimmed), ${nFailed} failed`;
    const rows = list.filter((s) => shown.has(s)).map((s) => {
      const ok = !failed(s);
      const result = el('td', null,
        el('span', { class: 'badge ' + (ok ? 'ok' : 'bad') }, s.result || (ok ? 'ok' : 'failed')),
        s.error ? el('span', { class: 'err', title: s.error }, s.error) : null);
      return el('tr', { class: 'session-row' + (idle(s) ? ' dim' : ''), data: { session: s.id || '' }, title: s.id ? 'session ' + s.id : null },
        el('td', { title: localTime(s.started) }, ago(s.started)),
        el('td', null, device(s.peer || '')),
        el('td', null, { out: '→ out', in: '← in', push: '← push' }[s.direction] || s.direction || '—'),
        el('td', { class: 'num' }, typeof s.duration === 'string' ? s.duration : fmtSecs(sessionSecs(s))),
        el('td', { class: 'num' }, fmtInt(s.events_in) + ' / ' + fmtInt(s.events_out)),
        el('td', { class: 'num' }, fmtBytes(s.bytes_in) + ' / ' + fmtBytes(s.bytes_out)),
        result);
    });
    fill(body, rows, 7, 'No sync sessions yet.');
  }

  // ---- sync switches ----

  const SWITCHES = [
    ['push', 'Push announcements', (v) => (v ? 'on' : 'off')],
    ['sync_interval', 'Anti-entropy interval', (v) => String(v)],
    ['sync_fanout', 'Fan-out per round', (v) => fmtInt(v) + (v === 1 ? ' peer' : ' peers')],
    ['blob_policy', 'Blob replication', (v) => String(v)],
    ['sync_batch_bytes', 'Batch size', fmtBytes],
    ['sync_run_bytes', 'Sealed run size', fmtBytes],
    ['push_inline_bytes', 'Inline in a push', fmtBytes],
    ['peer_bandwidth', 'Bandwidth per peer', (v) => (v ? fmtBytes(v) + '/s' : 'unlimited')],
  ];
  const SOURCE_NOTE = {
    api: 'changed through PUT /v1/config: lasts until the next reload (SIGHUP) or restart',
    file: 'from the config file', flag: 'from a command-line flag', env: 'from a RUMOR_ environment variable',
    default: 'the built-in default',
  };

  function renderSwitches(st) {
    const box = $('switches');
    const cfg = st && st.config;
    if (!cfg || !cfg.values) {
      box.replaceChildren(el('div', { class: 'muted' }, 'Runtime settings are not available on this node.'));
      return;
    }
    const tiles = SWITCHES.map(([key, label, fmt]) => {
      const v = cfg.values[key];
      const src = (cfg.sources || {})[key] || 'default';
      return el('div', { class: 'switch src-' + src, data: { key, source: src }, title: key },
        el('div', { class: 'label' }, label),
        el('div', { class: 'value' + (key === 'push' && v === false ? ' off' : ''), title: typeof v === 'number' ? fmtInt(v) : null },
          v == null ? '—' : fmt(v)),
        el('span', { class: 'tag src-' + src, title: SOURCE_NOTE[src] || src }, src));
    });
    box.replaceChildren(...tiles);
    const parts = [`version ${fmtInt(cfg.version)}`];
    if (cfg.version > 1 && cfg.updated) parts.push('changed ' + ago(cfg.updated));
    const r = cfg.last_reload;
    const hint = $('switches-hint');
    hint.replaceChildren(parts.join(' · '));
    if (r) {
      hint.append(' · last reload ' + ago(r.at) + ': ',
        el('span', { class: r.ok ? 'ok' : 'bad', title: r.error || null }, r.ok ? 'ok' : 'failed, settings kept'),
        r.ok && r.ignored && r.ignored.length ? el('span', { class: 'warn', title: r.ignored.map((i) => `${i.key}: ${i.reason}`).join('\n') },
          ` (${r.ignored.length} key${r.ignored.length === 1 ? '' : 's'} not applied)`) : null);
    }
  }

  // ---- charts ----

  function niceCeil(v) {
    if (!(v > 0)) return 1;
    const e = Math.pow(10, Math.floor(Math.log10(v)));
    const f = v / e;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * e;
  }

  // barChart draws stacked bars, one per bucket, the newest at the right;
  // the x axis always spans the whole ring so a young node fills from the
  // right. parts: [{cls, label, value(sample)}].
  function barChart(node, snap, parts, fmt, unit) {
    const W = Math.max(240, node.clientWidth || 480);
    const H = Math.max(100, node.clientHeight || 150);
    const padL = 46, padR = 8, padT = 10, padB = 20;
    const n = Math.max(snap.len || 0, snap.samples.length, 1);
    const samples = snap.samples;
    const totals = samples.map((s) => parts.reduce((a, p) => a + p.value(s), 0));
    const top = niceCeil(Math.max(0, ...totals));
    const iw = W - padL - padR, ih = H - padT - padB;
    const bw = iw / n;
    const y = (v) => padT + ih - (v / top) * ih;
    const kids = [];
    for (const f of [0, 0.5, 1]) {
      const yy = Math.round(y(top * f)) + 0.5;
      kids.push(svg('line', { class: f === 0 ? 'axis' : 'gridline', x1: padL, x2: W - padR, y1: yy, y2: yy }));
      kids.push(svg('text', { x: padL - 6, y: yy + 4, 'text-anchor': 'end' }, fmt(top * f)));
    }
    const mins = (n * (snap.step_seconds || 5)) / 60;
    const ticks = [[0, `−${fmtCompact(mins)} min`, 'start'], [0.5, `−${fmtCompact(mins / 2)} min`, 'middle'], [1, 'now', 'end']];
    for (const [f, label, anchor] of ticks) {
      kids.push(svg('text', { x: padL + f * iw, y: H - 5, 'text-anchor': anchor }, label));
    }
    let nonzero = 0;
    const first = n - samples.length;
    samples.forEach((s, i) => {
      if (totals[i] <= 0) return;
      nonzero++;
      const x = padL + (first + i) * bw;
      const w = Math.max(1, bw > 3 ? bw - 1 : bw);
      const g = svg('g', { class: 'bar' });
      let base = 0;
      for (const p of parts) {
        const v = p.value(s);
        if (v <= 0) continue;
        const y1 = y(base + v), y0 = y(base);
        g.append(svg('rect', { class: p.cls, x: x.toFixed(2), y: y1.toFixed(2), width: w.toFixed(2), height: Math.max(1, y0 - y1).toFixed(2) }));
        base += v;
      }
      const when = new Date(s.t).toLocaleTimeString();
      g.append(svg('title', null, when + ': ' + parts.map((p) => `${p.label} ${fmt(p.value(s))}${unit}`).join(', ')));
      kids.push(g);
    });
    if (nonzero === 0) {
      kids.push(svg('text', { class: 'empty-note', x: padL + iw / 2, y: padT + ih / 2, 'text-anchor': 'middle' }, 'no activity yet'));
    }
    node.setAttribute('viewBox', `0 0 ${W} ${H}`);
    node.dataset.nonzero = String(nonzero);
    node.replaceChildren(...kids);
  }

  function renderCharts(res) {
    if (res && res.data) state.series = res.data;
    const snap = state.series;
    if (!snap || !Array.isArray(snap.samples)) {
      for (const id of ['chart-ingest', 'chart-sync']) {
        const n = $(id);
        n.replaceChildren(svg('text', { x: 12, y: 24 }, res && res.status === 404 ? 'time series not available on this node' : 'loading…'));
      }
      return;
    }
    const step = snap.step_seconds || 5;
    barChart($('chart-ingest'), snap, [
      { cls: 's-local', label: 'recorded', value: (s) => (s.ingested || 0) / step },
      { cls: 's-recv', label: 'received', value: (s) => (s.received || 0) / step },
    ], fmtCompact, ' ev/s');
    barChart($('chart-sync'), snap, [
      { cls: 's-in', label: 'in', value: (s) => s.bytes_in || 0 },
      { cls: 's-out', label: 'out', value: (s) => s.bytes_out || 0 },
    ], (v) => fmtBytes(v).replace(' ', '\u2009'), '');
    const biggest = Math.max(0, ...snap.samples.map((s) => s.max_delta || 0));
    const sessions = snap.samples.reduce((a, s) => a + (s.sessions || 0), 0);
    $('delta-hint').textContent = `bytes per ${step} s · ${fmtInt(sessions)} sessions, largest ${fmtBytes(biggest)}`;

    // The KPIs cover the last minute, or the node's life if shorter.
    const k = Math.min(snap.samples.length, Math.round(60 / step));
    const last = snap.samples.slice(-k);
    const secs = Math.max(step, (snap.now - (last.length ? last[0].t : snap.now)) / 1000);
    const ev = last.reduce((a, s) => a + (s.ingested || 0), 0);
    const by = last.reduce((a, s) => a + (s.bytes_in || 0) + (s.bytes_out || 0), 0);
    $('kpi-ingest').replaceChildren(fmtCompact(ev / secs), el('small', null, 'events/s'));
    $('kpi-sync').replaceChildren(fmtBytes(by));
  }

  // ---- aggregates ----

  function spark(counts) {
    const W = 120, H = 22, n = counts.length;
    const top = Math.max(1, ...counts);
    const bw = W / n;
    const s = svg('svg', { class: 'spark', viewBox: `0 0 ${W} ${H}`, 'aria-hidden': 'true' });
    counts.forEach((c, i) => {
      if (c <= 0) return;
      const h = Math.max(1, (c / top) * (H - 2));
      s.append(svg('rect', { x: (i * bw + 0.5).toFixed(2), y: (H - h).toFixed(2), width: Math.max(1, bw - 1).toFixed(2), height: h.toFixed(2) }));
    });
    return s;
  }

  function renderAggs(res, from) {
    const body = $('aggs').tBodies[0];
    if (!res.data) {
      fill(body, [], 8, unavailable(res, 'Aggregates'));
      return;
    }
    const minute = 60000;
    const first = Math.floor(from / minute) * minute;
    const byType = new Map();
    for (const r of res.data.aggregates || []) {
      let t = byType.get(r.type);
      if (!t) byType.set(r.type, (t = { type: r.type, count: 0, values: 0, sum: 0, min: null, max: null, counts: new Array(AGG_MINUTES + 1).fill(0), last: null }));
      const s = r.summary || {};
      t.count += s.count || 0;
      t.values += s.values || 0;
      t.sum += s.sum || 0;
      if (s.min != null) t.min = t.min == null ? s.min : Math.min(t.min, s.min);
      if (s.max != null) t.max = t.max == null ? s.max : Math.max(t.max, s.max);
      const i = Math.floor((r.start - first) / minute);
      if (i >= 0 && i < t.counts.length) t.counts[i] += s.count || 0;
      if (!t.last || r.start > t.last.start) t.last = { start: r.start, s };
    }
    const rows = [...byType.values()].sort((a, b) => b.count - a.count || (a.type < b.type ? -1 : 1)).map((t) =>
      el('tr', { data: { type: t.type } },
        el('td', null, el('span', { class: 'mono' }, t.type)),
        el('td', { class: 'num' }, fmtInt(t.count)),
        el('td', null, spark(t.counts)),
        el('td', { class: 'num' }, t.values ? fmtNum(t.sum / t.values) : '—'),
        el('td', { class: 'num' }, fmtNum(t.min)),
        el('td', { class: 'num' }, fmtNum(t.max)),
        el('td', { class: 'num' }, fmtNum(t.last && t.last.s.p99)),
        el('td', { class: 'num' }, t.last ? fmtInt(t.last.s.distinct) : '—')));
    fill(body, rows, 8, `No events in the last ${AGG_MINUTES} minutes.`);
  }

  // ---- the loop ----

  function guard(name, f) {
    try { f(); } catch (err) { console.error('dashboard: rendering ' + name, err); }
  }

  async function refresh() {
    try {
      const from = serverNow() - AGG_MINUTES * 60000;
      const [status, health, series, trace, aggs] = await Promise.all([
        get('v1/status'), get('v1/health'), get('v1/series'), get('v1/trace?limit=' + SESSION_SCAN),
        get('v1/aggregates?window=1m&from=' + Math.floor(from)),
      ]);
      if (series.data && series.data.now) state.skew = series.data.now - Date.now();
      const ok = !!status.data;
      if (ok) state.lastOK = Date.now();
      guard('connection', () => renderConn(ok));
      if (!ok) return; // keep showing the last good data under the banner
      guard('node', () => renderNode(status.data));
      guard('leaderboard', () => renderLeaderboard(health));
      guard('peers', () => renderPeers(status.data));
      guard('switches', () => renderSwitches(status.data));
      guard('sessions', () => renderSessions(trace));
      guard('charts', () => renderCharts(series));
      guard('aggregates', () => renderAggs(aggs, from));
      state.refreshes++;
      document.body.dataset.refreshes = String(state.refreshes);
    } finally {
      setTimeout(refresh, REFRESH_MS);
    }
  }

  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => guard('charts', () => renderCharts(null)), 150);
  });

  refresh();
})();
