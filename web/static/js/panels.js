// The detail panel on the right: a case, a grid, the cases of a drawn area,
// a located point. Each opener shows a loading state at once and fills the
// panel when its requests return, unless the person has moved on.

import {get, request, query, APIError} from './api.js';
import {h, fill, $, fmtTime, fmtDuration, fmtInt, fmtClock} from './dom.js';
import {STATUS, NEXT, actionLabel, LEVELS, GI_CLASSES, PATTERNS} from './model.js';

/** Panel drives the <aside id="panel"> element. */
export class Panel {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = $('#panel');
    this.title = $('#panel-title');
    this.subtitle = $('#panel-subtitle');
    this.body = $('#panel-body');
    this.backBtn = $('#panel-back');
    this.token = 0;
    this.current = null; // {kind, key, reopen}
    this.stack = [];
    $('#panel-close').addEventListener('click', () => this.close());
    this.backBtn.addEventListener('click', () => this.back());
  }

  /** open starts showing a new subject; it returns a token that stays current until something else opens. */
  open(kind, key, title, reopen, {push = false} = {}) {
    if (push && this.current) this.stack.push(this.current);
    else if (!push) this.stack = [];
    if (!push && kind !== 'locate') this.ctx.markLocation(null); // a new subject: the located point goes
    this.current = {kind, key, reopen};
    this.el.hidden = false;
    this.el.dataset.kind = kind;
    this.el.dataset.state = 'loading';
    document.body.classList.add('panel-open');
    this.title.textContent = title;
    this.subtitle.replaceChildren();
    this.backBtn.hidden = this.stack.length === 0;
    fill(this.body, h('div.skeleton', {role: 'status'}, h('span.spinner', {'aria-hidden': 'true'}), 'Loading…'));
    this.title.focus({preventScroll: true});
    return ++this.token;
  }

  /** isCurrent tells whether token's subject is still the one shown. */
  isCurrent(token) {
    return token === this.token && !this.el.hidden;
  }

  show(token, body, subtitle) {
    if (!this.isCurrent(token)) return false;
    fill(this.body, body);
    if (subtitle !== undefined) fill(this.subtitle, subtitle);
    this.el.dataset.state = 'done';
    return true;
  }

  fail(token, err) {
    if (!this.isCurrent(token)) return;
    this.el.dataset.state = 'error';
    fill(this.body, h('div.error-box', {role: 'alert'}, h('strong', 'Could not load this. '), err.message));
  }

  back() {
    const prev = this.stack.pop();
    if (prev) {
      this.current = null;
      prev.reopen({push: this.stack.length > 0, fromBack: true});
    }
  }

  close() {
    this.el.hidden = true;
    this.token++;
    this.current = null;
    this.stack = [];
    document.body.classList.remove('panel-open');
    this.ctx.onPanelClosed();
  }
}

function statusBadge(status) {
  const s = STATUS[status] || {label: status, color: '#888'};
  return h('span.badge', {style: {'--c': s.color}, dataset: {status}}, h('span.dot', {'aria-hidden': 'true'}), s.label);
}

function overdueTag() {
  return h('span.tag.tag-overdue', 'Overdue');
}

function fact(label, ...value) {
  return [h('dt', label), h('dd', ...value)];
}

/** unitLabel shows a unit code as its name with the code. */
function unitLabel(ctx, code) {
  if (!code) return h('span.muted', 'No unit');
  const u = ctx.data.unitByCode[code];
  return u ? h('span', h('span.owner-name', u.name), ' ', h('span.code', code)) : h('span.code', code);
}

function categoryLabel(ctx, code) {
  const c = ctx.data.catByCode[code];
  return c ? h('span', c.name_zh, ' ', h('span.muted', c.name_en), ' ', h('span.code', code)) : h('span.code', code);
}

function deadline(p) {
  const due = new Date(p.due_at).getTime();
  const left = due - Date.now();
  let rel;
  if (p.closed_at) rel = h('span.muted', `closed ${fmtTime(p.closed_at)}`);
  else if (p.paused) rel = h('span.muted', 'clock stopped (parked)');
  else if (left < 0) rel = h('span.late', `overdue by ${fmtDuration(-left)}`);
  else rel = h('span.ok', `${fmtDuration(left)} left`);
  return [fmtTime(p.due_at), ' · ', rel];
}

const EVENT_WORDS = {create: 'Reported', status: 'Status', assign: 'Re-assigned', extend: 'Deadline extended', pause: 'Parked', resume: 'Resumed', merge: 'Merged'};

function historyList(events) {
  if (!events.length) return h('p.muted', 'No events yet.');
  return h('ol.timeline', events.slice().reverse().map((e) => h('li',
    h('div.when', fmtTime(e.at)),
    h('div.what', eventWords(e)),
    e.actor ? h('div.who', 'by ', e.actor) : null,
    e.note ? h('div.note', e.note) : null)));
}

/** eventWords says what a history event did. */
function eventWords(e) {
  if (e.kind === 'status') return [h('strong', statusWord(e.to)), e.from ? h('span.muted', ` from ${statusWord(e.from)}`) : null];
  if (e.kind === 'create') return [h('strong', 'Reported'), e.to && e.to !== 'reported' ? h('span.muted', ` (entered as ${statusWord(e.to)})`) : null];
  return h('strong', EVENT_WORDS[e.kind] || e.kind);
}

function statusWord(s) {
  return STATUS[s] ? STATUS[s].label : s;
}

/** openCase shows case id: details, owner, deadline, history and actions. */
export async function openCase(ctx, id, opts = {}) {
  const panel = ctx.panel;
  id = String(id);
  const token = panel.open('case', id, `Case #${id}`, (o) => openCase(ctx, id, o), {push: !!opts.push});
  panel.el.dataset.caseId = id;
  ctx.select({caseId: id});
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
    renderCase(ctx, token, f, etag, hist.events || [], gridPath);
    if (opts.fly && panel.isCurrent(token)) ctx.flyToPoint(f.geometry.coordinates); // after rendering: the panel's size decides the offset
  } catch (err) {
    panel.fail(token, err);
  }
}

function renderCase(ctx, token, f, etag, events, gridPath) {
  const p = f.properties;
  const [lng, lat] = f.geometry.coordinates;
  const gridLine = p.grid
    ? h('span',
      h('button.link', {type: 'button', onclick: () => openGrid(ctx, p.grid, null, {push: true, fly: true})},
        gridPath ? gridPath[0].name : p.grid),
      gridPath && gridPath.length > 1 ? h('div.path', gridPath.slice(1).reverse().map((g) => g.name).join(' › ')) : null)
    : h('span.muted', 'Outside every grid');
  const facts = h('dl.facts',
    fact('Owner', unitLabel(ctx, p.unit)),
    fact('Deadline', ...deadline(p)),
    fact('Category', categoryLabel(ctx, p.category)),
    fact('Grid', gridLine),
    fact('Reported', fmtTime(p.reported_at), ' · via ', p.source),
    fact('Priority', String(p.priority)),
    fact('Location', h('span.code', `${lng.toFixed(6)}, ${lat.toFixed(6)}`)),
    p.external_id ? fact('External ID', h('span.code', p.external_id)) : null,
    p.merged_into ? fact('Merged into', h('button.link', {type: 'button', onclick: () => openCase(ctx, p.merged_into, {push: true, fly: true})}, `#${p.merged_into}`)) : null,
  );
  const next = NEXT[p.status] || [];
  let actions = null;
  if (next.length) {
    const note = h('textarea', {id: 'action-note', rows: 2, maxlength: 2000, placeholder: 'What was done, or why'});
    const actor = h('input', {id: 'action-actor', type: 'text', maxlength: 200, value: localStorage.getItem('citygrid.actor') || '', placeholder: 'Your name'});
    const msg = h('p.action-msg', {role: 'status', 'aria-live': 'polite'});
    const buttons = next.map((to) => h('button.btn', {
      type: 'button', class: to === 'rejected' || (to === 'dispatched' && p.status !== 'accepted') ? 'btn-quiet' : 'btn-primary',
      dataset: {action: to},
      onclick: async (ev) => {
        const all = actions.querySelectorAll('button');
        all.forEach((b) => { b.disabled = true; });
        ev.currentTarget.classList.add('busy');
        msg.textContent = 'Saving…';
        localStorage.setItem('citygrid.actor', actor.value.trim());
        try {
          await request(`/v1/cases/${p.id}`, {
            method: 'PATCH', json: {status: to, note: note.value.trim(), actor: actor.value.trim()},
            headers: {'If-Match': etag},
          });
          ctx.toast(`Case #${p.id}: ${statusWord(p.status)} → ${statusWord(to)}`, 'ok');
          openCase(ctx, p.id, {push: ctx.panel.stack.length > 0});
        } catch (err) {
          all.forEach((b) => { b.disabled = false; });
          ev.currentTarget.classList.remove('busy');
          if (err instanceof APIError && err.status === 412) {
            msg.textContent = '';
            ctx.toast(`Case #${p.id} was changed by someone else in the meantime; the panel now shows the current version. Please check and try again.`, 'warn');
            openCase(ctx, p.id, {push: ctx.panel.stack.length > 0});
          } else {
            msg.textContent = err.message;
            msg.classList.add('late');
          }
        }
      },
    }, actionLabel(p.status, to)));
    actions = h('section.actions', {'aria-labelledby': 'actions-h'},
      h('h3#actions-h', 'Next step'),
      h('div.btn-row', buttons),
      h('label.field', h('span', 'Note'), note),
      h('label.field.inline', h('span', 'Acting as'), actor),
      msg);
  } else {
    actions = h('section.actions', h('h3', 'Next step'), h('p.muted', p.status === 'closed' ? 'This case is closed.' : 'No further steps: the case was not accepted.'));
  }
  const head = h('div.case-head',
    h('div.badges', statusBadge(p.status), p.overdue ? overdueTag() : null, p.paused ? h('span.tag', 'Parked') : null),
    h('p.case-title', p.title || categoryTitle(ctx, p.category)),
    p.description ? h('p.case-desc', p.description) : null);
  const body = h('div.case', {dataset: {caseId: p.id, version: p.version, status: p.status}},
    head, facts, actions,
    h('section', h('h3', 'History'), historyList(events)));
  ctx.panel.show(token, body, h('span', `Version ${p.version} · updated ${fmtTime(p.updated_at)}`));
}

function categoryTitle(ctx, code) {
  const c = ctx.data.catByCode[code];
  return c ? c.name_zh : code;
}

/**
 * openGrid shows a grid: its path to the district, responsible units and
 * open/overdue counts (from the tile feature, when the click gave one).
 */
export async function openGrid(ctx, code, tileProps, opts = {}) {
  const panel = ctx.panel;
  const token = panel.open('grid', code, tileProps && tileProps.name ? tileProps.name : `Grid ${code}`, (o) => openGrid(ctx, code, tileProps, o), {push: !!opts.push});
  panel.el.dataset.gridCode = code;
  ctx.select({grid: code});
  try {
    const f = await get(`/v1/grids/${encodeURIComponent(code)}`);
    if (!panel.isCurrent(token)) return;
    panel.title.textContent = f.properties.name;
    let counts = tileProps && tileProps.code === code ? tileProps : null;
    if (!counts) counts = ctx.gridCounts(code);
    renderGrid(ctx, token, f, counts);
    if (opts.fly) ctx.fitGeometry(f.geometry);
  } catch (err) {
    panel.fail(token, err);
  }
}

function renderGrid(ctx, token, f, counts) {
  const p = f.properties;
  const path = (p.path || []).slice(1).reverse();
  const byCat = Object.entries(p.units_by_category || {}).sort(([a], [b]) => a.localeCompare(b));
  const body = h('div.grid-panel', {dataset: {gridCode: p.code}},
    h('div.kpis',
      h('div.kpi', h('span.kpi-v', counts ? fmtInt(counts.open) : '—'), h('span.kpi-l', 'Open cases')),
      h('div.kpi.kpi-late', h('span.kpi-v', counts ? fmtInt(counts.overdue) : '—'), h('span.kpi-l', 'Overdue')),
      h('div.kpi', h('span.kpi-v', (p.area_m2 / 1e6).toFixed(p.area_m2 < 1e6 ? 3 : 2)), h('span.kpi-l', 'km²'))),
    counts ? null : h('p.muted.small', 'Counts show when the grid is drawn at this zoom.'),
    h('dl.facts',
      fact('Level', LEVELS[p.level] || p.level),
      fact('Code', h('span.code', p.code)),
      fact('Path', path.length
        ? h('span.crumbs', path.map((g, i) => [i ? ' › ' : null, h('button.link', {type: 'button', onclick: () => openGrid(ctx, g.code, null, {push: true, fly: true})}, g.name)]))
        : h('span.muted', 'Top level')),
      fact('Responsible', unitLabel(ctx, p.unit)),
      byCat.length ? fact('By category', h('ul.plain', byCat.map(([cat, unit]) => h('li', h('span.code', cat), ' ', categoryTitle(ctx, cat), ' → ', unitLabel(ctx, unit))))) : null,
    ),
    h('div.btn-row',
      h('button.btn.btn-primary', {type: 'button', onclick: () => openArea(ctx, {kind: 'grid', code: p.code, name: p.name}, {push: true})}, 'List cases in this grid'),
      h('button.btn.btn-quiet', {type: 'button', onclick: () => ctx.fitGeometry(f.geometry)}, 'Zoom to grid')));
  ctx.panel.show(token, body, h('span', LEVELS[p.level] || p.level));
}

/** AREA_CAP bounds how many cases an area list fetches (ten pages). */
const AREA_CAP = 10000;
const AREA_PAGE = 1000;
const AREA_SHOWN = 500;

/**
 * openArea lists the cases of an area — {kind: 'bbox', bbox}, {kind:
 * 'polygon', polygon} or {kind: 'grid', code} — under the current filters,
 * fetching every page up to AREA_CAP, with a CSV download of the same query.
 */
export async function openArea(ctx, area, opts = {}) {
  const panel = ctx.panel;
  const titles = {bbox: 'Cases in the box', polygon: 'Cases in the polygon', grid: `Cases in ${area.name || area.code}`, h3: 'Cases in the cell'};
  const token = panel.open('area', JSON.stringify(area), titles[area.kind], (o) => openArea(ctx, area, o), {push: !!opts.push});
  ctx.state.area = area;
  const filters = ctx.filterParams();
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
      fill(panel.body, h('div.skeleton', {role: 'status'}, h('span.spinner', {'aria-hidden': 'true'}), `Loading… ${fmtInt(cases.length)} cases so far`));
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
  renderArea(ctx, token, area, cases, truncated, filters);
}

/** areaParams is the area of a GET /v1/cases query. */
function areaParams(area) {
  if (area.kind === 'bbox') return {bbox: area.bbox.map((v) => v.toFixed(7)).join(',')};
  if (area.kind === 'h3') return {h3: area.cell};
  return {grid: area.code};
}

function filtersBody(f) {
  const b = {};
  if (f.status) b.status = f.status.split(',');
  for (const k of ['category', 'unit', 'source', 'from', 'to']) if (f[k]) b[k] = f[k];
  return b;
}

function renderArea(ctx, token, area, cases, truncated, filters) {
  const list = h('ul.case-list', {'aria-label': 'Cases in the area'});
  let shown = 0;
  const more = h('button.btn.btn-quiet.wide', {type: 'button', onclick: () => addRows(AREA_SHOWN)}, '');
  function addRows(n) {
    const end = Math.min(cases.length, shown + n);
    for (; shown < end; shown++) list.append(caseRow(ctx, cases[shown]));
    more.hidden = shown >= cases.length;
    more.textContent = `Show ${fmtInt(Math.min(AREA_SHOWN, cases.length - shown))} more of ${fmtInt(cases.length - shown)}`;
  }
  addRows(AREA_SHOWN);
  const overdue = cases.filter((f) => f.properties.overdue).length;
  const csv = h('button.btn.btn-quiet', {type: 'button', onclick: () => downloadCSV(ctx, area, filters)}, '⤓ CSV');
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
  ctx.panel.show(token, body, h('span', describeFilters(ctx, filters)));
}

function caseRow(ctx, f) {
  const p = f.properties;
  const s = STATUS[p.status] || {color: '#888', label: p.status};
  return h('li', h('button.case-row', {type: 'button', dataset: {caseId: p.id}, onclick: () => openCase(ctx, p.id, {push: true, fly: true})},
    h('span.dot', {style: {background: s.color}, 'aria-hidden': 'true'}),
    h('span.row-main', h('span.row-title', p.title || categoryTitle(ctx, p.category)), h('span.row-sub', `#${p.id} · ${s.label} · ${fmtTime(p.reported_at)}`)),
    p.overdue ? h('span.tag.tag-overdue', 'Overdue') : null));
}

async function downloadCSV(ctx, area, filters) {
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
    ctx.toast(`CSV download failed: ${err.message}`, 'error');
  }
}

/** describeFilters says in words which filters apply. */
export function describeFilters(ctx, f) {
  const parts = [];
  parts.push(f.status ? f.status.split(',').map(statusWord).join(', ') : 'All statuses');
  if (f.category) parts.push(categoryTitle(ctx, f.category));
  if (f.source) parts.push(`via ${f.source}`);
  if (f.unit) parts.push(ctx.data.unitByCode[f.unit] ? ctx.data.unitByCode[f.unit].name : f.unit);
  if (f.from || f.to) parts.push(`${f.from ? fmtTime(f.from) : 'start'} – ${f.to ? fmtTime(f.to) : 'now'}`);
  return parts.join(' · ');
}

const GI_WORDS = Object.fromEntries(GI_CLASSES.map((c) => [c.id, c.label]));
const PATTERN_WORDS = Object.fromEntries(PATTERNS.map((p) => [p.id, p.label]));

/**
 * openCell shows an H3 cell of the planner's map: its count and density,
 * its Gi* statistic and class, its change against the previous period or
 * its emerging-hotspot pattern, with the cases in it a click away.
 */
export function openCell(ctx, p) {
  const panel = ctx.panel;
  const token = panel.open('cell', p.h3, 'H3 cell', (o) => openCell(ctx, p, o));
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
    h('div.btn-row', h('button.btn.btn-primary', {type: 'button', onclick: () => openArea(ctx, {kind: 'h3', cell: p.h3}, {push: true})}, 'List cases in this cell')));
  panel.show(token, body, h('span', 'Counts follow the filters and the period'));
}

/** openLocate shows where a typed coordinate falls: grid, path, owner and why. */
export async function openLocate(ctx, {lng, lat, crs, category}) {
  const panel = ctx.panel;
  const token = panel.open('locate', `${lng},${lat},${crs}`, 'Location', (o) => openLocate(ctx, {lng, lat, crs, category}, o));
  try {
    const r = await get(`/v1/locate?${query({lng, lat, crs, category})}`);
    ctx.markLocation(r.point);
    ctx.flyToPoint(r.point, 16);
    const path = r.path || [];
    const body = h('div.locate', {dataset: {grid: r.grid ? r.grid.code : ''}},
      r.grid
        ? h('p.locate-grid', h('button.link', {type: 'button', onclick: () => openGrid(ctx, r.grid.code, null, {push: true, fly: true})}, r.grid.name), ' ', h('span.code', r.grid.code))
        : h('div.error-box', 'No grid covers this point.', r.nearest ? [' Nearest: ', h('button.link', {type: 'button', onclick: () => openGrid(ctx, r.nearest.code, null, {push: true, fly: true})}, r.nearest.name || r.nearest.code), ` (${Math.round(r.nearest.distance_m)} m away)`] : null),
      h('dl.facts',
        fact('Owner', r.unit ? unitLabel(ctx, r.unit.code) : h('span.muted', 'None')),
        r.rule ? fact('Rule', ruleWords(ctx, r.rule)) : null,
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

function ruleWords(ctx, rule) {
  const where = rule.grid ? ` of ${rule.level} ${rule.grid}` : '';
  if (rule.kind === 'category') return `the category rule ${rule.prefix || ''}${where}`;
  return `the default unit${where}`;
}

/** liveRow renders one live event for the activity list. */
export function liveRow(ctx, ev) {
  const s = STATUS[ev.status] || {color: '#888', label: ev.status};
  return h('li', h('button.live-row', {type: 'button', onclick: () => openCase(ctx, ev.id, {fly: true})},
    h('span.dot', {style: {background: s.color}, 'aria-hidden': 'true'}),
    h('span.row-main', h('span.row-title', ev.title || categoryTitle(ctx, ev.category)), h('span.row-sub', `#${ev.id} · ${s.label}`)),
    h('span.row-time', fmtClock(ev.at))));
}
