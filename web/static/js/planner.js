// The planner's view: hotspots for the chosen window (Gi* classes or
// density, from the hotspot tiles), the change against the previous period
// and the emerging-hotspot patterns (from /v1/hotspots), and a table per
// street, community or unit with the indicators of /v1/stats.

import {get} from './api.js';
import {h, fill, $, fmtInt, fmtPct, fmtTime} from './dom.js';
import {PATTERNS} from './model.js';
import {EMPTY, changeColor, patternColor} from './style.js';
import {DAY, query, analysisWindow, caseFilters} from './params.js';
import {quantileAbs} from './ramps.js';

const COLUMNS = [
  {key: 'name', label: 'Name', num: false},
  {key: 'received', label: 'Received', num: true, fmt: fmtInt},
  {key: 'closure_rate', label: 'Closure', num: true, fmt: fmtPct, title: '结案率: closed / due'},
  {key: 'on_time_rate', label: 'On time', num: true, fmt: fmtPct, title: '按期结案率: closed on time / due'},
  {key: 'rework_rate', label: 'Rework', num: true, fmt: fmtPct, title: '返工率: sent back for rework / due'},
  {key: 'overdue', label: 'Overdue', num: true, fmt: fmtInt},
];

export class Planner {
  /**
   * map is the MapLibre map; state the page state (analysis, res, k, step,
   * statsBy); filterParams() the current filters as query parameters;
   * panel the Panel; data the reference data (unitByCode, gridByCode);
   * view the MapView (fitGeometry, select).
   */
  constructor({map, state, filterParams, panel, data, view}) {
    this.map = map;
    this.state = state;
    this.filterParams = filterParams;
    this.panel = panel;
    this.data = data;
    this.view = view;
    this.analysisToken = 0;
    this.statsToken = 0;
  }

  window() {
    return analysisWindow(this.filterParams(), Date.now());
  }

  /**
   * loadAnalysis fetches the change or emerging layer for the current mode,
   * window and filters, and fills the analysis legend and summary.
   */
  async loadAnalysis() {
    const {map, state} = this;
    const mode = state.analysis;
    const token = ++this.analysisToken;
    const summary = $('#analysis-summary');
    if (mode !== 'change' && mode !== 'emerging') {
      map.getSource('analysis').setData(EMPTY);
      fill(summary);
      return;
    }
    const {from, to} = this.window();
    const filters = caseFilters(this.filterParams());
    const res = state.res || (mode === 'emerging' ? 8 : 9);
    fill(summary, h('p.muted.small', {role: 'status'}, h('span.spinner.small', {'aria-hidden': 'true'}), ' Computing…'));
    try {
      if (mode === 'change') {
        const span = to.getTime() - from.getTime();
        const prevFrom = new Date(from.getTime() - span);
        const fc = await get(`/v1/hotspots?${query({res, k: state.k, from: from.toISOString(), to: to.toISOString(),
          compare_from: prevFrom.toISOString(), compare_to: from.toISOString(), ...filters})}`);
        if (token !== this.analysisToken) return;
        let now = 0;
        let before = 0;
        let max = 0;
        for (const f of fc.features) {
          now += f.properties.count;
          before += f.properties.previous_count || 0;
          max = Math.max(max, Math.abs(f.properties.change || 0));
        }
        const m = quantileAbs(fc.features.map((f) => f.properties.change || 0), 0.98) || max;
        map.setPaintProperty('analysis-fill', 'fill-color', changeColor(m));
        map.getSource('analysis').setData(fc);
        const pct = before ? (now - before) / before : null;
        fill(summary,
          h('div.kpis',
            h('div.kpi', h('span.kpi-v', fmtInt(now)), h('span.kpi-l', 'cases now')),
            h('div.kpi', h('span.kpi-v', fmtInt(before)), h('span.kpi-l', 'previous period')),
            h('div.kpi', {class: pct > 0 ? 'kpi-late' : ''}, h('span.kpi-v', pct === null ? '—' : `${pct > 0 ? '+' : ''}${(pct * 100).toFixed(1)}%`), h('span.kpi-l', 'change'))),
          h('p.muted.small', `${fmtTime(from.toISOString())} – ${fmtTime(to.toISOString())} against the ${Math.round(span / DAY)} days before; H3 resolution ${res}.`),
          h('div.legend-ramp.diverging', {'aria-hidden': 'true'}),
          h('div.legend-scale', h('span', `−${Math.round(m)}`), h('span', 'no change'), h('span', `+${Math.round(m)}`)));
      } else {
        const step = state.step;
        const minSpan = (step === 'month' ? 180 : step === 'week' ? 56 : 14) * DAY;
        const eFrom = to.getTime() - from.getTime() < minSpan ? new Date(to.getTime() - minSpan) : from;
        const fc = await get(`/v1/hotspots/emerging?${query({res, k: state.k, step, from: eFrom.toISOString(), to: to.toISOString(), ...filters})}`);
        if (token !== this.analysisToken) return;
        map.setPaintProperty('analysis-fill', 'fill-color', patternColor);
        map.getSource('analysis').setData(fc);
        const counts = fc.patterns || {};
        const rows = PATTERNS.filter((p) => counts[p.id]).map((p) => h('li', h('span.swatch', {style: {background: p.color}, 'aria-hidden': 'true'}), p.label, h('span.legend-n', fmtInt(counts[p.id]))));
        fill(summary,
          h('p.muted.small', `${fc.steps ? fc.steps.length : '?'} ${step}s from ${fmtTime(eFrom.toISOString())}; ${fmtInt(fc.n)} cells at resolution ${res}.`),
          rows.length ? h('ul.legend', rows) : h('p.muted', 'No cell shows a significant trend in this window.'));
      }
    } catch (err) {
      if (token !== this.analysisToken) return;
      fill(summary, h('div.error-box', {role: 'alert'}, err.message));
    }
  }

  /** openStats shows the indicator table in the panel, grouped by state.statsBy. */
  async openStats(opts = {}) {
    const panel = this.panel;
    const by = this.state.statsBy;
    const token = panel.open('stats', by, 'Indicators', (o) => this.openStats(o), {push: !!opts.push});
    const mine = ++this.statsToken;
    const {from, to} = this.window();
    try {
      const r = await get(`/v1/stats?${query({by, from: from.toISOString(), to: to.toISOString()})}`);
      if (mine !== this.statsToken) return;
      const rows = r.rows.map((row) => ({...row, name: this.nameOf(by, row.key)}));
      this.renderStats(token, by, rows, from, to);
    } catch (err) {
      panel.fail(token, err);
    }
  }

  nameOf(by, key) {
    const {unitByCode, gridByCode} = this.data;
    if (by === 'unit') return unitByCode[key] ? unitByCode[key].name : key;
    return gridByCode[key] ? gridByCode[key].name : key;
  }

  renderStats(token, by, rows, from, to) {
    let sortKey = 'received';
    let desc = true;
    const tbody = h('tbody');
    const heads = COLUMNS.map((c) => h('th', {scope: 'col', class: c.num ? 'num' : '', title: c.title, 'aria-sort': c.key === sortKey ? 'descending' : 'none'},
      h('button.th-sort', {type: 'button', onclick: () => sortBy(c.key)}, c.label)));
    const draw = () => {
      const sorted = rows.slice().sort((a, b) => {
        const x = a[sortKey];
        const y = b[sortKey];
        if (x === y) return 0;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        const c = typeof x === 'string' ? x.localeCompare(y, 'zh') : x - y;
        return desc ? -c : c;
      });
      fill(tbody, sorted.map((row) => {
        const geo = by !== 'unit' && this.data.gridByCode[row.key];
        const median = row.median_hours_to_close;
        return h('tr', {dataset: {key: row.key}, title: median === null || median === undefined ? '' : `median ${median.toFixed(1)} h from report to closure`},
          COLUMNS.map((c, i) => {
            if (i === 0) {
              return h('th', {scope: 'row'}, geo
                ? h('button.link', {type: 'button', onclick: () => { this.view.fitGeometry(geo.geometry); this.view.select({grid: row.key}); }}, row.name)
                : row.name);
            }
            const v = row[c.key];
            const late = (c.key === 'overdue' && v > 0) || (c.key === 'on_time_rate' && v !== null && v < 0.6);
            return h('td.num', {class: late ? 'late' : ''}, c.fmt(v));
          }));
      }));
    };
    const sortBy = (key) => {
      if (key === sortKey) desc = !desc;
      else {
        sortKey = key;
        desc = key !== 'name';
      }
      heads.forEach((th, i) => th.setAttribute('aria-sort', COLUMNS[i].key === sortKey ? (desc ? 'descending' : 'ascending') : 'none'));
      draw();
    };
    draw();
    const total = rows.reduce((t, r) => ({received: t.received + r.received, due: t.due + r.due, closed: t.closed + r.closed, overdue: t.overdue + r.overdue}), {received: 0, due: 0, closed: 0, overdue: 0});
    const tabs = h('div.segmented', {role: 'radiogroup', 'aria-label': 'Group by'},
      [['street', 'Street'], ['community', 'Community'], ['unit', 'Unit']].map(([id, label]) => h('button', {
        type: 'button', role: 'radio', 'aria-checked': String(id === by),
        onclick: () => { this.state.statsBy = id; this.openStats(); },
      }, label)));
    const body = h('div.stats', tabs,
      h('div.kpis',
        h('div.kpi', h('span.kpi-v', fmtInt(total.received)), h('span.kpi-l', 'received')),
        h('div.kpi', h('span.kpi-v', fmtPct(total.due ? total.closed / total.due : null)), h('span.kpi-l', 'closure rate')),
        h('div.kpi.kpi-late', h('span.kpi-v', fmtInt(total.overdue)), h('span.kpi-l', 'overdue'))),
      h('div.table-wrap', {tabindex: 0, 'aria-label': 'Indicators table'},
        h('table.stats-table', h('thead', h('tr', heads)), tbody)),
      h('p.muted.small', 'As of the end of the window (or now): received counts reports; due, the filed cases that fell due (closed in time, or ran past the deadline: overdue); closure and on-time rates are over due. Rates show — when nothing is due.'));
    this.panel.show(token, body, h('span', `${fmtTime(from.toISOString())} – ${fmtTime(to.toISOString())}`));
  }
}
