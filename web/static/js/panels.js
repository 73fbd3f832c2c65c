// What the detail panel shows: a case, a grid, the cases of an area, an H3
// cell of the planner's map, a located point. Each opener shows a loading
// state at once and fills the panel when its requests return, unless the
// person has moved on.

import {get, request, APIError} from './api.js';
import {h, fmtTime, fmtInt} from './dom.js';
import {LEVELS, GI_CLASSES, PATTERNS, actionLook} from './model.js';
import {query, filtersBody, areaParams} from './params.js';
import {toast} from './toast.js';
import {caseButtons, buttonPatch} from './actions.js';
import {
  statusBadge, statusWord, fact, unitLabel, categoryLabel, categoryTitle, deadline, historyList,
  caseActions, caseRow, liveRow, describeFilters, ruleWords, shownTitle,
} from './panelparts.js';

/** AREA_CAP bounds how many cases an area list fetches (ten pages). */
const AREA_CAP = 10000;
const AREA_PAGE = 1000;
const AREA_SHOWN = 500;

const GI_WORDS = Object.fromEntries(GI_CLASSES.map((c) => [c.id, c.label]));
const PATTERN_WORDS = Object.fromEntries(PATTERNS.map((p) => [p.id, p.label]));

export class Panels {
  /**
   * panel is the Panel; data the reference data ({catByCode, unitByCode});
   * view the MapView (select, flyToPoint, fitGeometry, markLocation,
   * gridCounts); filterParams() the current filters as query parameters;
   * onArea(area) hears which area's cases are listed; me is GET /v1/me
   * read (readMe), views what it may see (viewsOf); lifecycle carries the
   * actions' moves (parseActions).
   */
  constructor({panel, data, view, filterParams, onArea, me, views, lifecycle}) {
    Object.assign(this, {panel, data, view, filterParams, onArea, me, views, lifecycle});
  }

  /** openCase shows case id: details, owner, deadline, history and the next steps. opts: push, fly. */
  async openCase(id, opts = {}) {
    if (!this.views.cases) return;
    const panel = this.panel;
    id = String(id);
    const token = panel.open('case', id, `Case #${id}`, (o) => this.openCase(id, o), {push: !!opts.push});
    panel.el.dataset.caseId = id;
    this.view.select({caseId: id});
    try {
      const [{body: f, response}, hist] = await Promise.all([
        request(`/v1/cases/${encodeURIComponent(id)}`),
        get(`/v1/cases/${encodeURIComponent(id)}/history`),
      ]);
      const p = f.properties;
      const etag = response.headers.get('ETag') || `"${p.version}"`;
      let gridPath = null;
      if (p.grid) {
        try {
          gridPath = (await get(`/v1/grids/${encodeURIComponent(p.grid)}`)).properties.path;
        } catch {
          gridPath = null; // the case still shows; the grid line says its code
        }
      }
      this.renderCase(token, f, etag, hist.events || [], gridPath);
      if (opts.fly && panel.isCurrent(token)) this.view.flyToPoint(f.geometry.coordinates); // after rendering: the panel's size decides the offset
    } catch (err) {
      panel.fail(token, err);
    }
  }

  renderCase(token, f, etag, events, gridPath) {
    const p = f.properties;
    const data = this.data;
    const [lng, lat] = f.geometry.coordinates;
    const gridLine = p.grid
      ? h('span',
        h('button.link', {type: 'button', onclick: () => this.openGrid(p.grid, null, {push: true, fly: true})},
          gridPath ? gridPath[0].name : p.grid),
        gridPath && gridPath.length > 1 ? h('div.path', gridPath.slice(1).reverse().map((g) => g.name).join(' › ')) : null)
      : h('span.muted', 'Outside every grid');
    const facts = h('dl.facts',
      fact('Owner', unitLabel(data, p.unit)),
      fact('Deadline', ...deadline(p)),
      fact('Category', categoryLabel(data, p.category)),
      fact('Grid', gridLine),
      fact('Reported', fmtTime(p.reported_at), ' · via ', p.source),
      fact('Priority', String(p.priority)),
      fact('Location', h('span.code', `${lng.toFixed(6)}, ${lat.toFixed(6)}`)),
      p.external_id ? fact('External ID', h('span.code', p.external_id)) : null,
      p.pending_request ? fact('Request', requestWords(p.pending_request)) : null,
      p.merged_into ? fact('Merged into', h('button.link', {type: 'button', onclick: () => this.openCase(p.merged_into, {push: true, fly: true})}, `#${p.merged_into}`)) : null,
    );
    const {views, me} = this;
    const buttons = caseButtons(p, this.lifecycle, {canUpdate: views.caseUpdate, caseActions: me.caseActions});
    const actions = caseActions(p, buttons, (change) => this.moveCase(p, etag, change), {canUpdate: views.caseUpdate, actorName: me.name});
    // Reporters' words show only to roles that may read them (the server leaves them out for the others too).
    const head = h('div.case-head',
      h('div.badges', statusBadge(p.status), p.overdue_now ? h('span.tag.tag-overdue', 'Overdue') : null, p.paused ? h('span.tag', 'Parked') : null),
      h('p.case-title', shownTitle(data, p, views.freeText)),
      views.freeText && p.description ? h('p.case-desc', p.description) : null);
    const body = h('div.case', {dataset: {caseId: p.id, version: p.version, status: p.status}},
      head, facts, actions,
      h('section', h('h3', 'History'), historyList(events)));
    this.panel.show(token, body, h('span', `Version ${p.version} · updated ${fmtTime(p.updated_at)}`));
  }

  /**
   * moveCase PATCHes case p (at version etag) with the body of button
   * (caseButtons') and shows it afresh. It resolves to null when done, ''
   * when someone else changed the case first (the panel then shows their
   * version), or the error.
   */
  async moveCase(p, etag, {button, days, note}) {
    const body = buttonPatch(button, p, this.lifecycle.moves, days);
    if (!body) return 'Enter the working days to ask for: a whole number from 1.';
    const again = () => this.openCase(p.id, {push: this.panel.stack.length > 0});
    try {
      await request(`/v1/cases/${p.id}`, {method: 'PATCH', json: {...body, note}, headers: {'If-Match': etag}});
      const what = body.status ? `${statusWord(p.status)} → ${statusWord(body.status)}` : actionLook(button.action).label;
      toast(`Case #${p.id}: ${what}`, 'ok');
      again();
      return null;
    } catch (err) {
      if (err instanceof APIError && err.status === 412) {
        toast(`Case #${p.id} was changed by someone else in the meantime; the panel now shows the current version. Please check and try again.`, 'warn');
        again();
        return '';
      }
      return err.message;
    }
  }

  /**
   * openGrid shows a grid: its path to the district, responsible units and
   * open/overdue counts (from the tile feature tileProps, when the click
   * gave one, else from the loaded tiles). opts: push, fly.
   */
  async openGrid(code, tileProps, opts = {}) {
    const panel = this.panel;
    const token = panel.open('grid', code, tileProps && tileProps.name ? tileProps.name : `Grid ${code}`, (o) => this.openGrid(code, tileProps, o), {push: !!opts.push});
    panel.el.dataset.gridCode = code;
    this.view.select({grid: code});
    try {
      const f = await get(`/v1/grids/${encodeURIComponent(code)}`);
      if (!panel.isCurrent(token)) return;
      panel.title.textContent = f.properties.name;
      const counts = tileProps && tileProps.code === code ? tileProps : this.view.gridCounts(code);
      this.renderGrid(token, f, counts);
      if (opts.fly) this.view.fitGeometry(f.geometry);
    } catch (err) {
      panel.fail(token, err);
    }
  }

  renderGrid(token, f, counts) {
    const p = f.properties;
    const data = this.data;
    const path = (p.path || []).slice(1).reverse();
    const byCat = Object.entries(p.units_by_category || {}).sort(([a], [b]) => a.localeCompare(b));
    const body = h('div.grid-panel', {dataset: {gridCode: p.code}},
      h('div.kpis',
        h('div.kpi', h('span.kpi-v', counts ? fmtInt(counts.open) : '—'), h('span.kpi-l', 'Open cases')),
        h('div.kpi.kpi-late', h('span.kpi-v', counts ? fmtInt(counts.overdue_now) : '—'), h('span.kpi-l', 'Overdue')),
        h('div.kpi', h('span.kpi-v', (p.area_m2 / 1e6).toFixed(p.area_m2 < 1e6 ? 3 : 2)), h('span.kpi-l', 'km²'))),
      counts ? null : h('p.muted.small', 'Counts show when the grid is drawn at this zoom.'),
      h('dl.facts',
        fact('Level', LEVELS[p.level] || p.level),
        fact('Code', h('span.code', p.code)),
        fact('Path', path.length
          ? h('span.crumbs', path.map((g, i) => [i ? ' › ' : null, h('button.link', {type: 'button', onclick: () => this.openGrid(g.code, null, {push: true, fly: true})}, g.name)]))
          : h('span.muted', 'Top level')),
        fact('Responsible', unitLabel(data, p.unit)),
        byCat.length ? fact('By category', h('ul.plain', byCat.map(([cat, unit]) => h('li', h('span.code', cat), ' ', categoryTitle(data, cat), ' → ', unitLabel(data, unit))))) : null,
      ),
      h('div.btn-row',
        this.views.cases ? h('button.btn.btn-primary', {type: 'button', onclick: () => this.openArea({kind: 'grid', code: p.code, name: p.name}, {push: true})}, 'List cases in this grid') : null,
        h('button.btn.btn-quiet', {type: 'button', onclick: () => this.view.fitGeometry(f.geometry)}, 'Zoom to grid')));
    this.panel.show(token, body, h('span', LEVELS[p.level] || p.level));
  }

  /**
   * openArea lists the cases of an area — {kind: 'bbox', bbox}, {kind:
   * 'polygon', polygon}, {kind: 'grid', code} or {kind: 'h3', cell} — under
   * the current filters, fetching every page up to AREA_CAP, with a CSV
   * download of the same query.
   */
  async openArea(area, opts = {}) {
    if (!this.views.cases) return;
    const panel = this.panel;
    const titles = {bbox: 'Cases in the box', polygon: 'Cases in the polygon', grid: `Cases in ${area.name || area.code}`, h3: 'Cases in the cell'};
    const token = panel.open('area', JSON.stringify(area), titles[area.kind], (o) => this.openArea(area, o), {push: !!opts.push});
    this.onArea(area);
    const filters = this.filterParams();
    const cases = [];
    let truncated = false;
    try {
      let cursor = '';
      for (;;) {
        let page;
        if (area.kind === 'polygon') {
          page = (await request('/v1/cases/search', {json: {polygon: area.polygon, ...filtersBody(filters), limit: AREA_PAGE, cursor: cursor || undefined}})).body;
        } else {
          page = await get(`/v1/cases?${query({...areaParams(area), ...filters, limit: AREA_PAGE, cursor})}`);
        }
        if (!panel.isCurrent(token)) return;
        cases.push(...page.features);
        panel.progress(token, `Loading… ${fmtInt(cases.length)} cases so far`);
        if (!page.next) break;
        if (cases.length >= AREA_CAP) {
          truncated = true;
          break;
        }
        cursor = page.next;
      }
    } catch (err) {
      panel.fail(token, err);
      return;
    }
    this.renderArea(token, area, cases, truncated, filters);
  }

  renderArea(token, area, cases, truncated, filters) {
    const list = h('ul.case-list', {'aria-label': 'Cases in the area'});
    let shown = 0;
    const more = h('button.btn.btn-quiet.wide', {type: 'button', onclick: () => addRows(AREA_SHOWN)}, '');
    const open = (id) => this.openCase(id, {push: true, fly: true});
    const addRows = (n) => {
      const end = Math.min(cases.length, shown + n);
      for (; shown < end; shown++) list.append(caseRow(this.data, cases[shown], open, this.views.freeText));
      more.hidden = shown >= cases.length;
      more.textContent = `Show ${fmtInt(Math.min(AREA_SHOWN, cases.length - shown))} more of ${fmtInt(cases.length - shown)}`;
    };
    addRows(AREA_SHOWN);
    const overdue = cases.filter((f) => f.properties.overdue_now).length;
    const csv = h('button.btn.btn-quiet', {type: 'button', onclick: () => downloadCSV(area, filters)}, '⤓ CSV');
    const summary = h('div.area-summary',
      h('div.kpis',
        h('div.kpi', h('span.kpi-v', {id: 'area-count'}, fmtInt(cases.length)), h('span.kpi-l', truncated ? `cases (first ${fmtInt(AREA_CAP)})` : 'cases')),
        h('div.kpi.kpi-late', h('span.kpi-v', fmtInt(overdue)), h('span.kpi-l', 'overdue'))),
      csv);
    const where = area.kind === 'bbox'
      ? h('p.muted.small.code', {id: 'area-where'}, `bbox ${area.bbox.map((v) => v.toFixed(5)).join(', ')}`)
      : area.kind === 'polygon' ? h('p.muted.small', `${area.polygon.coordinates[0].length - 1} vertices`) : h('p.muted.small.code', area.code || area.cell);
    const body = h('div.area', {dataset: {count: cases.length, bbox: area.kind === 'bbox' ? area.bbox.map((v) => v.toFixed(7)).join(',') : null}},
      summary, where, cases.length ? list : h('p.muted', 'No cases match the filters here.'), more);
    this.panel.show(token, body, h('span', describeFilters(this.data, filters)));
  }

  /**
   * openCell shows an H3 cell of the planner's map (the properties p of
   * its feature): its count and density, its Gi* statistic and class, its
   * change against the previous period or its emerging-hotspot pattern,
   * with the cases in it a click away.
   */
  openCell(p) {
    const panel = this.panel;
    const token = panel.open('cell', p.h3, 'H3 cell', () => this.openCell(p));
    const num = (v, d = 1) => (v === null || v === undefined ? '—' : Number(v).toFixed(d));
    const cls = p.gi_class || (p.pattern ? null : 'none');
    const body = h('div.cell', {dataset: {h3: p.h3}},
      h('div.kpis',
        h('div.kpi', h('span.kpi-v', fmtInt(p.count)), h('span.kpi-l', 'cases')),
        h('div.kpi', h('span.kpi-v', p.density_km2 !== undefined ? fmtInt(p.density_km2) : '—'), h('span.kpi-l', 'per km²')),
        p.change !== undefined
          ? h('div.kpi', {class: p.change > 0 ? 'kpi-late' : ''}, h('span.kpi-v', `${p.change > 0 ? '+' : ''}${fmtInt(p.change)}`), h('span.kpi-l', 'vs previous'))
          : h('div.kpi', h('span.kpi-v', num(p.gi_z, 2)), h('span.kpi-l', 'Gi* z-score'))),
      h('dl.facts',
        cls ? fact('Gi* class', GI_WORDS[cls] || cls) : null,
        p.gi_p !== undefined ? fact('p-value', num(p.gi_p, 4)) : null,
        p.previous_count !== undefined ? fact('Previous period', fmtInt(p.previous_count)) : null,
        p.pattern ? fact('Trend', PATTERN_WORDS[p.pattern] || p.pattern) : null,
        p.trend_tau !== undefined ? fact('Mann–Kendall', `τ ${num(p.trend_tau, 2)}, p ${num(p.trend_p, 4)}`) : null,
        fact('Cell', h('span.code', p.h3))),
      this.views.cases ? h('div.btn-row', h('button.btn.btn-primary', {type: 'button', onclick: () => this.openArea({kind: 'h3', cell: p.h3}, {push: true})}, 'List cases in this cell')) : null);
    panel.show(token, body, h('span', 'Counts follow the filters and the period'));
  }

  /** openLocate shows where a typed coordinate falls: grid, path, owner and why. */
  async openLocate({lng, lat, crs, category}) {
    const panel = this.panel;
    const token = panel.open('locate', `${lng},${lat},${crs}`, 'Location', () => this.openLocate({lng, lat, crs, category}));
    const grid = (code, name) => h('button.link', {type: 'button', onclick: () => this.openGrid(code, null, {push: true, fly: true})}, name);
    try {
      const r = await get(`/v1/locate?${query({lng, lat, crs, category})}`);
      this.view.markLocation(r.point);
      this.view.flyToPoint(r.point, 16);
      const path = r.path || [];
      const body = h('div.locate', {dataset: {grid: r.grid ? r.grid.code : ''}},
        r.grid
          ? h('p.locate-grid', grid(r.grid.code, r.grid.name), ' ', h('span.code', r.grid.code))
          : h('div.error-box', 'No grid covers this point.', r.nearest ? [' Nearest: ', grid(r.nearest.code, r.nearest.name || r.nearest.code), ` (${Math.round(r.nearest.distance_m)} m away)`] : null),
        h('dl.facts',
          fact('Owner', r.unit ? unitLabel(this.data, r.unit.code) : h('span.muted', 'None')),
          r.rule ? fact('Rule', ruleWords(r.rule)) : null,
          path.length > 1 ? fact('Path', path.slice(1).reverse().map((g) => g.name).join(' › ')) : null,
          fact('WGS84', h('span.code', `${r.point[0].toFixed(6)}, ${r.point[1].toFixed(6)}`)),
          crs !== 'wgs84' ? fact(`Typed (${crs.toUpperCase()})`, h('span.code', `${lng}, ${lat}`)) : null,
          r.boundary_distance_m != null ? fact('To boundary', `${r.boundary_distance_m.toFixed(1)} m`) : null,
          fact('H3 cell', h('span.code', r.h3))),
        r.alternatives && r.alternatives.length
          ? h('section', h('h3', 'Close to the boundary of'), h('ul.plain', r.alternatives.map((a) => h('li', a.name || a.code, ' ', h('span.muted', `${(a.distance_m || 0).toFixed(1)} m`)))))
          : null);
      panel.show(token, body, h('span', `${lng}, ${lat} · ${crs.toUpperCase()}`));
    } catch (err) {
      panel.fail(token, err);
    }
  }

  /** liveRow renders one live event for the activity list; a click opens its case. */
  liveRow(ev) {
    return liveRow(this.data, ev, (id) => this.openCase(id, {fly: true}), this.views.freeText);
  }
}

/** requestWords says what a handler's pending request ({kind, at, extension}) asks for. */
function requestWords(rq) {
  const ext = rq.extension ? ` of ${rq.extension.value} ${String(rq.extension.unit).replace('_', ' ')}` : '';
  return `${rq.kind === 'pause' ? 'Parking' : `An extension${ext}`}, asked ${fmtTime(rq.at)}, awaiting a decision`;
}

async function downloadCSV(area, filters) {
  try {
    let blob;
    if (area.kind === 'polygon') {
      blob = (await request('/v1/cases/search', {json: {polygon: area.polygon, ...filtersBody(filters), limit: AREA_CAP, format: 'csv'}, raw: true})).body;
    } else {
      blob = (await request(`/v1/cases?${query({...areaParams(area), ...filters, limit: AREA_CAP, format: 'csv'})}`, {raw: true})).body;
    }
    const a = h('a', {href: URL.createObjectURL(blob), download: `citygrid-cases-${area.kind}-${new Date().toISOString().slice(0, 10)}.csv`});
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  } catch (err) {
    toast(`CSV download failed: ${err.message}`, 'error');
  }
}
