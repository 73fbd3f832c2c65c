// The battle map: wiring of map, filters, layers, tools, panels and live
// updates. window.citygrid exposes the map and state for the browser tests.

import {get, query, onPending, APIError} from './api.js';
import {h, fill, $, fmtDate, fmtInt, debounce, setTimeZone} from './dom.js';
import {STATUSES, OPEN, GI_CLASSES, SOURCES} from './model.js';
import {buildStyle, LAYER_GROUPS, LAND, gridLoadColor, densityColor, giColor, EMPTY} from './style.js';
import {Panel, openCase, openGrid, openArea, openLocate, openCell, liveRow} from './panels.js';
import {Draw} from './draw.js';
import {loadAnalysis, openStats} from './planner.js';

const origin = window.location.origin;
const DAY = 86400000;
const SLIDER_MIN = -365;
const CJK_FONTS = "'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";
const t0 = performance.now();

/** defaultFilters are each view's: dispatchers see open cases of any age, planners all cases of the last 90 days. */
function defaultFilters(mode) {
  return mode === 'plan'
    ? {statuses: new Set(STATUSES.map((s) => s.id)), category: '', source: '', unit: '', fromDays: -90, toDays: 0}
    : {statuses: new Set(OPEN), category: '', source: '', unit: '', fromDays: SLIDER_MIN, toDays: 0};
}

const state = {
  mode: 'dispatch',
  filters: defaultFilters('dispatch'),
  // Each view keeps its own filters; switching views swaps them.
  filtersByMode: {dispatch: null, plan: defaultFilters('plan')},
  layers: {grids: true, cases: true, hotspots: false},
  // What each mode shows, so that switching back restores it.
  modeLayers: {dispatch: {grids: true, cases: true, hotspots: false}, plan: {grids: false, cases: false, hotspots: true}},
  gridFill: 'open',
  hotspotBy: 'gi',
  analysis: 'gi',
  res: '',
  k: 1,
  step: 'week',
  statsBy: 'street',
  area: null,
  ramps: {grids: 0, density: 0},
};

const data = {categories: [], catByCode: {}, units: [], unitByCode: {}, gridByCode: {}, district: null};

const metrics = {firstIdleMs: null, styleLoadedMs: null, tileRequests: 0};

let map;
let panel;
let draw;
const ctx = {state, data, toast, filterParams, select, flyToPoint, fitGeometry, markLocation, gridCounts, onPanelClosed};

// ---------------------------------------------------------------- filters

function isoHour(ms) {
  return new Date(Math.floor(ms / 3600000) * 3600000).toISOString().replace('.000Z', 'Z');
}

/** filterParams returns the current filters as API query parameters. */
function filterParams() {
  const f = state.filters;
  const all = f.statuses.size === STATUSES.length;
  const now = Date.now();
  return {
    status: all ? '' : STATUSES.filter((s) => f.statuses.has(s.id)).map((s) => s.id).join(','),
    category: f.category,
    source: f.source,
    unit: f.unit,
    from: f.fromDays > SLIDER_MIN ? isoHour(now + f.fromDays * DAY) : '',
    to: f.toDays < 0 ? isoHour(now + f.toDays * DAY + 3600000) : '',
  };
}

/**
 * tileURL is a layer's tile template with the current filters, as the
 * layer's TileJSON would give it (the page asks /tiles/grids.json once, for
 * the zooms and bounds, and builds the templates itself so that a filter
 * change costs no extra round trip).
 */
function tileURL(layer) {
  const p = layer === 'grids' ? {} : filterParams();
  if (layer === 'hotspots') {
    if (state.res) p.res = state.res;
    if (Number(state.k) !== 1) p.k = state.k;
  }
  const q = query(p);
  return `${origin}/tiles/${layer}/{z}/{x}/{y}.mvt${q ? `?${q}` : ''}`;
}

/** updateSources points the filtered tile sources at the current filters. */
function updateSources() {
  if (!map) return;
  for (const layer of ['cases', 'hotspots']) {
    const src = map.getSource(layer);
    const url = tileURL(layer);
    if (src && src.tiles[0] !== url) src.setTiles([url]);
  }
}

/** applyFilters makes the map, the analysis and the open list follow the filters. */
const applyFilters = debounce(() => {
  updateSources();
  if (state.mode === 'plan') loadAnalysis(ctx);
  rerunPanel();
}, 140);

const rerunPanel = debounce(() => {
  const cur = panel && panel.current;
  if (!cur) return;
  if (cur.kind === 'area' || cur.kind === 'stats') cur.reopen({push: panel.stack.length > 0});
}, 400);

function renderStatusChips() {
  const box = $('#status-chips');
  fill(box, STATUSES.map((s) => h('button.chip', {
    type: 'button', 'aria-pressed': String(state.filters.statuses.has(s.id)), dataset: {status: s.id}, style: {'--c': s.color},
    title: s.zh,
    onclick: () => {
      const set = state.filters.statuses;
      if (set.has(s.id) && set.size === 1) {
        STATUSES.forEach((x) => set.add(x.id)); // never none: the last one off means all
      } else if (set.has(s.id)) set.delete(s.id);
      else set.add(s.id);
      renderStatusChips();
      applyFilters();
    },
  }, h('span.dot', {'aria-hidden': 'true'}), s.label)));
}

function setStatuses(which) {
  const ids = which === 'open' ? OPEN : which === 'finished' ? ['resolved', 'verified', 'closed', 'rejected'] : STATUSES.map((s) => s.id);
  state.filters.statuses = new Set(ids);
  renderStatusChips();
  applyFilters();
}

function renderTimeRange() {
  const f = state.filters;
  const from = $('#time-from');
  const to = $('#time-to');
  from.value = f.fromDays;
  to.value = f.toDays;
  const span = -SLIDER_MIN;
  const fill = $('#time-fill');
  fill.style.left = `${((f.fromDays - SLIDER_MIN) / span) * 100}%`;
  fill.style.right = `${(-f.toDays / span) * 100}%`;
  const now = Date.now();
  const a = f.fromDays > SLIDER_MIN ? fmtDate(new Date(now + f.fromDays * DAY)) : 'Any time';
  const b = f.toDays < 0 ? fmtDate(new Date(now + f.toDays * DAY)) : 'now';
  $('#time-label').textContent = f.fromDays <= SLIDER_MIN && f.toDays >= 0 ? 'Any time' : `${a} – ${b}`;
  from.setAttribute('aria-valuetext', a);
  to.setAttribute('aria-valuetext', b);
  for (const btn of document.querySelectorAll('#time-presets button')) {
    const d = btn.dataset.days;
    btn.setAttribute('aria-pressed', String(f.toDays === 0 && (d === 'all' ? f.fromDays <= SLIDER_MIN : f.fromDays === -Number(d))));
  }
}

function setupTimeRange() {
  const from = $('#time-from');
  const to = $('#time-to');
  const onInput = (which) => () => {
    let a = Number(from.value);
    let b = Number(to.value);
    if (a > b - 1) {
      if (which === 'from') a = b - 1;
      else b = a + 1;
    }
    state.filters.fromDays = a;
    state.filters.toDays = b;
    renderTimeRange();
    applyFilters(); // the map follows while dragging (debounced)
  };
  from.addEventListener('input', onInput('from'));
  to.addEventListener('input', onInput('to'));
  for (const btn of document.querySelectorAll('#time-presets button')) {
    btn.addEventListener('click', () => {
      const d = btn.dataset.days;
      state.filters.fromDays = d === 'all' ? SLIDER_MIN : -Number(d);
      state.filters.toDays = 0;
      renderTimeRange();
      applyFilters();
    });
  }
  renderTimeRange();
}

/** renderCategoryTree draws the category table as a tree; choosing a node filters by its code as a prefix. */
function renderCategoryTree() {
  const cats = data.categories;
  const children = {};
  const roots = [];
  const codes = new Set(cats.map((c) => c.code));
  for (const c of cats) {
    let parent = '';
    for (let n = c.code.length - 1; n > 0; n--) {
      if (codes.has(c.code.slice(0, n))) {
        parent = c.code.slice(0, n);
        break;
      }
    }
    if (parent) (children[parent] ||= []).push(c);
    else roots.push(c);
  }
  const open = new Set(state.filters.category ? [...codes].filter((c) => state.filters.category.startsWith(c)) : []);
  const choose = (code) => {
    state.filters.category = code;
    renderCategoryTree();
    applyFilters();
  };
  const node = (c) => {
    const kids = children[c.code] || [];
    const expanded = open.has(c.code);
    return h('li', {role: 'none'},
      h('div.tree-row',
        kids.length
          ? h('button.tree-toggle', {type: 'button', 'aria-expanded': String(expanded), 'aria-label': `${expanded ? 'Collapse' : 'Expand'} ${c.name_en}`,
            onclick: () => { if (open.has(c.code)) open.delete(c.code); else open.add(c.code); redraw(); }}, '▸')
          : h('span.tree-spacer', {'aria-hidden': 'true'}),
        h('button.tree-item', {type: 'button', 'aria-pressed': String(state.filters.category === c.code), dataset: {code: c.code}, title: c.name_en,
          onclick: () => choose(state.filters.category === c.code ? '' : c.code)},
        h('span.code', c.code), ' ', c.name_zh, ' ', h('span.muted', c.name_en))),
      kids.length && expanded ? h('ul', {role: 'group'}, kids.map(node)) : null);
  };
  const tree = $('#category-tree');
  function redraw() {
    fill(tree,
      h('button.tree-item.tree-all', {type: 'button', 'aria-pressed': String(!state.filters.category), onclick: () => choose('')}, 'All categories'),
      h('ul.tree-list', roots.map(node)));
  }
  redraw();
}

function setupSelects() {
  const source = $('#filter-source');
  for (const s of SOURCES) source.append(h('option', {value: s}, s));
  source.addEventListener('change', () => { state.filters.source = source.value; applyFilters(); });
  const unit = $('#filter-unit');
  unit.addEventListener('change', () => { state.filters.unit = unit.value; applyFilters(); });
}

function renderUnits() {
  const unit = $('#filter-unit');
  const kinds = {};
  for (const u of data.units) (kinds[u.kind] ||= []).push(u);
  const names = {bureau: 'Bureaus', law_enforcement: 'Law enforcement', street_office: 'Street offices', law_enforcement_squad: 'Enforcement squads', community_committee: 'Community committees'};
  fill(unit, h('option', {value: ''}, 'All units'),
    Object.entries(kinds).map(([k, us]) => h('optgroup', {label: names[k] || k}, us.map((u) => h('option', {value: u.code}, u.name)))));
  unit.value = state.filters.unit;
}

function resetFilters() {
  state.filters = defaultFilters(state.mode);
  renderFilters();
  applyFilters();
}

function renderFilters() {
  $('#filter-source').value = state.filters.source;
  $('#filter-unit').value = state.filters.unit;
  renderStatusChips();
  renderTimeRange();
  renderCategoryTree();
}

// ----------------------------------------------------------------- layers

function setLayer(name, on) {
  state.layers[name] = on;
  state.modeLayers[state.mode][name] = on;
  $(`#layer-${name}`).checked = on;
  if (!map) return;
  for (const id of LAYER_GROUPS[name]) setVisible(id, on);
  if (name === 'grids') applyGridFill();
  document.querySelector(`.layer[data-layer="${name}"]`).classList.toggle('off', !on);
}

/**
 * setVisible shows or hides a layer. It touches the style only for a real
 * change: setting a layout property makes MapLibre lay the source's tiles
 * out again.
 */
function setVisible(id, on) {
  const want = on ? 'visible' : 'none';
  if ((map.getLayoutProperty(id, 'visibility') || 'visible') !== want) map.setLayoutProperty(id, 'visibility', want);
}

/** applyGridFill colours the grids by their load, or plainly when the load is switched off. */
function applyGridFill() {
  map.setPaintProperty('grids-load', 'fill-color', state.layers.grids ? gridLoadColor(state.gridFill, state.ramps.grids || 100) : LAND);
}

function setupLayers() {
  for (const name of Object.keys(LAYER_GROUPS)) {
    $(`#layer-${name}`).addEventListener('change', (e) => setLayer(name, e.target.checked));
  }
  radio('#grid-fill', (v) => { state.gridFill = v; state.ramps.grids = 0; updateRamps(true); });
  radio('#hotspot-by', (v) => { state.hotspotBy = v; applyHotspotStyle(); });
  radio('#analysis-mode', (v) => { state.analysis = v; applyAnalysisMode(); });
  // Resolution and neighbourhood change the hotspots, not the cases.
  const reanalyse = () => {
    updateSources();
    loadAnalysis(ctx);
  };
  $('#analysis-res').addEventListener('change', (e) => { state.res = e.target.value; reanalyse(); });
  $('#analysis-k').addEventListener('change', (e) => { state.k = Number(e.target.value); reanalyse(); });
  $('#analysis-step').addEventListener('change', (e) => { state.step = e.target.value; loadAnalysis(ctx); });
  $('#open-stats').addEventListener('click', () => openStats(ctx));
}

/** radio wires a segmented control of role=radio buttons. */
function radio(sel, onChange) {
  const group = $(sel);
  const buttons = [...group.querySelectorAll('[role=radio]')];
  const choose = (btn) => {
    buttons.forEach((b) => b.setAttribute('aria-checked', String(b === btn)));
    onChange(btn.dataset.value);
  };
  buttons.forEach((b, i) => {
    b.addEventListener('click', () => choose(b));
    b.addEventListener('keydown', (e) => {
      const d = e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -1 : 0;
      if (!d) return;
      e.preventDefault();
      const next = buttons[(i + d + buttons.length) % buttons.length];
      next.focus();
      choose(next);
    });
  });
}

function setRadio(sel, value) {
  for (const b of document.querySelectorAll(`${sel} [role=radio]`)) b.setAttribute('aria-checked', String(b.dataset.value === value));
}

function applyHotspotStyle() {
  if (!map) return;
  if (state.hotspotBy === 'gi') {
    map.setPaintProperty('hotspots-fill', 'fill-color', giColor);
    map.setFilter('hotspots-fill', null);
  } else {
    map.setPaintProperty('hotspots-fill', 'fill-color', densityColor(state.ramps.density || 1000));
    map.setFilter('hotspots-fill', ['>', ['to-number', ['get', 'count'], 0], 0]);
  }
  setRadio('#hotspot-by', state.hotspotBy);
  renderHotspotLegend();
}

function renderHotspotLegend() {
  const box = $('#hotspot-legend');
  if (state.hotspotBy === 'gi') {
    fill(box, h('ul.legend.compact', GI_CLASSES.filter((c) => c.id !== 'none').map((c) => h('li', h('span.swatch', {style: {background: c.color}, 'aria-hidden': 'true'}), c.label))),
      h('p.muted.small', 'Getis-Ord Gi* over H3 neighbourhoods, with the false discovery rate controlled.'));
  } else {
    const m = state.ramps.density || 0;
    fill(box, h('div.legend-ramp.density', {'aria-hidden': 'true'}),
      h('div.legend-scale', h('span', '0'), h('span', m ? `${fmtInt(m / 2)}` : ''), h('span', m ? `${fmtInt(m)}+ cases/km²` : 'cases/km²')));
  }
}

/** applyAnalysisMode shows the planner's chosen analysis. */
function applyAnalysisMode() {
  const a = state.analysis;
  setRadio('#analysis-mode', a);
  const tiles = a === 'gi' || a === 'density';
  if (tiles) {
    state.hotspotBy = a;
    applyHotspotStyle();
  }
  if (state.mode === 'plan') {
    setLayer('hotspots', tiles);
    for (const id of ['analysis-fill', 'analysis-line']) setVisible(id, !tiles);
  }
  loadAnalysis(ctx);
}

function niceCeil(v) {
  if (v <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function quantile(values, q) {
  if (!values.length) return 0;
  const a = values.slice().sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.floor(q * a.length))];
}

/** updateRamps fits the colour ramps to what is on screen (the 95th percentile). */
function updateRamps(force = false) {
  if (!map || !map.isStyleLoaded()) return;
  const z = map.getZoom();
  const level = z < 12 ? 'street' : z < 15 ? 'community' : 'grid';
  const prop = state.gridFill;
  const vals = map.querySourceFeatures('grids', {sourceLayer: 'grids', filter: ['==', ['get', 'level'], level]}).map((f) => Number(f.properties[prop]) || 0);
  if (vals.length) {
    const m = niceCeil(quantile(vals, 0.95));
    if (force || m !== state.ramps.grids) {
      state.ramps.grids = m;
      applyGridFill();
      $('#grids-ramp').className = `legend-ramp ${prop}`;
      fill($('#grids-scale'), h('span', '0'), h('span', fmtInt(m / 2)), h('span', `${fmtInt(m)}+ ${prop === 'open' ? 'open' : 'overdue'} per ${level === 'grid' ? 'unit grid' : level}`));
    }
  }
  if (state.layers.hotspots && state.hotspotBy === 'density') {
    const d = map.querySourceFeatures('hotspots', {sourceLayer: 'hotspots'}).map((f) => Number(f.properties.density_km2) || 0).filter((v) => v > 0);
    if (d.length) {
      const m = niceCeil(quantile(d, 0.97));
      if (m !== state.ramps.density) {
        state.ramps.density = m;
        map.setPaintProperty('hotspots-fill', 'fill-color', densityColor(m));
        renderHotspotLegend();
      }
    }
  }
}

// ------------------------------------------------------------------- modes

function setMode(mode) {
  if (mode === state.mode) return;
  state.filtersByMode[state.mode] = state.filters;
  state.filters = state.filtersByMode[mode] || defaultFilters(mode);
  state.mode = mode;
  renderFilters();
  updateSources(); // the panel and analysis are opened below
  document.body.dataset.mode = mode;
  for (const b of document.querySelectorAll('.mode-switch [role=tab]')) b.setAttribute('aria-selected', String(b.dataset.mode === mode));
  const want = state.modeLayers[mode];
  for (const name of Object.keys(LAYER_GROUPS)) setLayer(name, want[name]);
  if (mode === 'plan') {
    applyAnalysisMode();
    openStats(ctx);
    if (data.district) fitGeometry(data.gridByCode[data.district.code].geometry);
  } else {
    for (const id of ['analysis-fill', 'analysis-line']) setVisible(id, false);
    if (panel.current && panel.current.kind === 'stats') panel.close();
  }
  if (panel.current && panel.current.kind === 'area') rerunPanel();
}

// -------------------------------------------------------------- map helpers

function select({caseId = null, grid = null}) {
  if (!map) return;
  map.setFilter('cases-selected', ['==', ['id'], caseId === null ? -1 : Number(caseId)]);
  map.setFilter('grids-selected', ['==', ['get', 'code'], grid || '']);
}

function onPanelClosed() {
  select({});
  state.area = null;
  if (draw) draw.clear();
  if (marks.locate) {
    marks.locate = null;
    showMarks();
  }
}

/** panelInset is how much of the map's right side the panel covers (0 when it is a bottom sheet or closed). */
function panelInset() {
  return panel && !panel.el.hidden && window.innerWidth > 820 ? panel.el.offsetWidth + 24 : 0;
}

/** sheetInset is how much of the map's bottom the panel covers when it is a bottom sheet. */
function sheetInset() {
  return panel && !panel.el.hidden && window.innerWidth <= 820 ? panel.el.offsetHeight : 0;
}

function flyToPoint(coords, zoom = 17) {
  map.flyTo({center: coords, zoom: Math.max(map.getZoom(), zoom), offset: [-panelInset() / 2, -sheetInset() / 2], speed: 1.6, essential: true});
}

function bboxOf(geometry) {
  let b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      b = [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])];
    } else c.forEach(walk);
  };
  walk(geometry.coordinates);
  return b;
}

function fitGeometry(geometry) {
  const b = bboxOf(geometry);
  const right = Math.max(40, panelInset() + 20);
  const bottom = Math.max(40, sheetInset() + 20);
  map.fitBounds([[b[0], b[1]], [b[2], b[3]]], {padding: {top: 60, bottom, left: 40, right}, maxZoom: 17.5, essential: true});
}

let marks = {locate: null, pulses: []};

/** markLocation shows a located point on the map (null removes it). */
function markLocation(point) {
  if (!point && !marks.locate) return;
  marks.locate = point;
  showMarks();
}

function showMarks() {
  const features = [];
  if (marks.locate) features.push({type: 'Feature', properties: {kind: 'locate'}, geometry: {type: 'Point', coordinates: marks.locate}});
  for (const p of marks.pulses) features.push({type: 'Feature', properties: {kind: 'pulse'}, geometry: {type: 'Point', coordinates: p.at}});
  const src = map && map.getSource('marks');
  if (src) src.setData(features.length ? {type: 'FeatureCollection', features} : EMPTY);
}

function gridCounts(code) {
  const f = map.querySourceFeatures('grids', {sourceLayer: 'grids', filter: ['==', ['get', 'code'], code]})[0];
  return f ? f.properties : null;
}


// --------------------------------------------------------------- labels

/** labelPoint finds a point well inside a polygon: the centre of its largest part, pulled inward. */
function labelPoint(geometry) {
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let best = null;
  let bestArea = -1;
  for (const poly of polys) {
    const a = Math.abs(ringArea(poly[0]));
    if (a > bestArea) {
      bestArea = a;
      best = poly;
    }
  }
  const ring = best[0];
  const [x0, y0, x1, y1] = bboxOf({coordinates: ring});
  let cand = null;
  let candD = -1;
  const search = (ax, ay, bx, by, n) => {
    for (let i = 0; i <= n; i++) {
      for (let j = 0; j <= n; j++) {
        const p = [ax + ((bx - ax) * i) / n, ay + ((by - ay) * j) / n];
        if (!inside(p, best)) continue;
        const d = edgeDistance(p, best);
        if (d > candD) {
          candD = d;
          cand = p;
        }
      }
    }
  };
  search(x0, y0, x1, y1, 24);
  if (cand) {
    const dx = (x1 - x0) / 24;
    const dy = (y1 - y0) / 24;
    search(cand[0] - dx, cand[1] - dy, cand[0] + dx, cand[1] + dy, 8);
  }
  return cand || ring[0];
}

function ringArea(r) {
  let a = 0;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) a += (r[j][0] - r[i][0]) * (r[j][1] + r[i][1]);
  return a / 2;
}

function inside(p, poly) {
  let c = false;
  for (const r of poly) {
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
      if ((r[i][1] > p[1]) !== (r[j][1] > p[1]) && p[0] < ((r[j][0] - r[i][0]) * (p[1] - r[i][1])) / (r[j][1] - r[i][1]) + r[i][0]) c = !c;
    }
  }
  return c;
}

function edgeDistance(p, poly) {
  let d = Infinity;
  const k = Math.cos((p[1] * Math.PI) / 180);
  for (const r of poly) {
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
      const ax = r[j][0] * k;
      const ay = r[j][1];
      const bx = r[i][0] * k;
      const by = r[i][1];
      const px = p[0] * k;
      const dx = bx - ax;
      const dy = by - ay;
      const t = dx || dy ? Math.max(0, Math.min(1, ((px - ax) * dx + (p[1] - ay) * dy) / (dx * dx + dy * dy))) : 0;
      d = Math.min(d, Math.hypot(px - (ax + t * dx), p[1] - (ay + t * dy)));
    }
  }
  return d;
}

async function loadGridNames() {
  const levels = ['district', 'street', 'community'];
  const results = await Promise.all(levels.map((l) => get(`/v1/grids?level=${l}&limit=10000`)));
  const labels = [];
  results.forEach((fc, i) => {
    for (const f of fc.features) {
      const p = f.properties;
      data.gridByCode[p.code] = {code: p.code, name: p.name, level: p.level, geometry: f.geometry};
      if (levels[i] !== 'district') {
        labels.push({type: 'Feature', properties: {name: p.name, level: p.level, code: p.code}, geometry: {type: 'Point', coordinates: labelPoint(f.geometry)}});
      } else if (!data.district) {
        data.district = p;
      }
    }
  });
  if (data.district) {
    $('#district-name').textContent = data.district.name;
    document.title = `${data.district.name} · Battle map · citygrid`;
  }
  areaLabels = labels;
  showLabels();
}

let areaLabels = [];
const gridLabels = new Map(); // unit grid code → label feature
const gridLabelAreas = []; // bboxes whose unit grids are in gridLabels

function showLabels() {
  map.getSource('labels').setData({type: 'FeatureCollection', features: [...areaLabels, ...gridLabels.values()]});
}

/** loadGridLabels fetches the unit grids around the view, when zoomed in enough to label them. */
const loadGridLabels = debounce(async () => {
  if (!map || map.getZoom() < 16) return;
  const b = map.getBounds();
  const view = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
  if (gridLabelAreas.some((a) => a[0] <= view[0] && a[1] <= view[1] && a[2] >= view[2] && a[3] >= view[3])) return;
  const dx = (view[2] - view[0]) / 2;
  const dy = (view[3] - view[1]) / 2;
  const bbox = [view[0] - dx, view[1] - dy, view[2] + dx, view[3] + dy];
  try {
    const fc = await get(`/v1/grids?${query({level: 'grid', bbox: bbox.map((v) => v.toFixed(6)).join(','), limit: 5000})}`);
    for (const f of fc.features) {
      const p = f.properties;
      if (gridLabels.has(p.code)) continue;
      const i = p.name.indexOf('第');
      gridLabels.set(p.code, {type: 'Feature', properties: {name: i >= 0 ? p.name.slice(i) : p.name, level: 'grid', code: p.code},
        geometry: {type: 'Point', coordinates: labelPoint(f.geometry)}});
    }
    gridLabelAreas.push(bbox);
    showLabels();
  } catch (err) {
    toastOnce(`Unit grid names could not be loaded: ${err.message}`);
  }
}, 250);

// ------------------------------------------------------------- search, locate

/**
 * search opens a case ("#123", or digits that are not a grid code) or a
 * grid (a code under the district's, or anything else). It asks for one
 * thing only, so that a typed grid code never shows up as a missing case.
 */
async function search(q) {
  const msg = $('#search-msg');
  q = q.trim();
  msg.textContent = '';
  if (!q) return;
  const district = data.district ? data.district.code : '';
  const digits = /^\d+$/.test(q);
  let kind = 'grid';
  if (q.startsWith('#')) kind = 'case';
  else if (digits && !(district && q.startsWith(district))) kind = 'case';
  const id = q.replace(/^#/, '');
  if (kind === 'case' && !/^\d{1,18}$/.test(id)) {
    msg.textContent = 'A case ID is a number, such as #1024.';
    return;
  }
  msg.textContent = 'Searching…';
  try {
    if (kind === 'case') {
      const f = await get(`/v1/cases/${id}`);
      msg.textContent = '';
      openCase(ctx, f.properties.id, {fly: true});
    } else {
      const f = await get(`/v1/grids/${encodeURIComponent(q)}`);
      msg.textContent = '';
      fitGeometry(f.geometry);
      openGrid(ctx, f.properties.code, null);
    }
  } catch (err) {
    msg.textContent = err instanceof APIError && err.status === 404
      ? `No ${kind === 'case' ? `case #${id}` : `grid “${q}”`}.`
      : `Search failed: ${err.message}`;
  }
}

function setupSearchAndLocate() {
  const form = $('#search-form');
  const input = $('#search-input');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    search(input.value);
  });
  input.addEventListener('input', () => { $('#search-msg').textContent = ''; });
  window.addEventListener('keydown', (e) => {
    if (e.key === '/' && !/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) {
      e.preventDefault();
      input.focus();
      input.select();
    } else if (e.key === 'Escape' && !draw.isActive()) {
      if (!$('#locate-pop').hidden) toggleLocate(false);
      else if (!panel.el.hidden) panel.close();
      else if (document.body.classList.contains('sidebar-open')) toggleSidebar(false);
    }
  });
  const pop = $('#locate-pop');
  const toggleBtn = $('#locate-toggle');
  function toggleLocate(open) {
    pop.hidden = !open;
    toggleBtn.setAttribute('aria-expanded', String(open));
    if (open) $('#locate-lng').focus();
    else toggleBtn.focus();
  }
  toggleBtn.addEventListener('click', () => toggleLocate(pop.hidden));
  $('#locate-cancel').addEventListener('click', () => toggleLocate(false));
  pop.addEventListener('submit', (e) => {
    e.preventDefault();
    const lng = $('#locate-lng').value.trim().replace(/\s+/g, '');
    const lat = $('#locate-lat').value.trim().replace(/\s+/g, '');
    const crs = $('#locate-crs').value;
    const category = $('#locate-category').value.trim();
    pop.hidden = true;
    toggleBtn.setAttribute('aria-expanded', 'false');
    openLocate(ctx, {lng, lat, crs, category});
  });
}

// ------------------------------------------------------------------ toasts

/** toast shows a message; kind is ok, info, warn or error (errors stay until closed). */
function toast(message, kind = 'info', action = null) {
  const box = $('#toasts');
  const el = h('div.toast', {class: `toast-${kind}`, role: kind === 'error' ? 'alert' : 'status'},
    h('span.toast-msg', message),
    action ? h('button.link', {type: 'button', onclick: () => { action.onclick(); el.remove(); }}, action.label) : null,
    h('button.toast-close', {type: 'button', 'aria-label': 'Dismiss', onclick: () => el.remove()}, '×'));
  box.append(el);
  while (box.children.length > 4) box.firstChild.remove();
  if (kind !== 'error') setTimeout(() => el.remove(), kind === 'warn' ? 9000 : 4500);
}

// -------------------------------------------------------------------- live

const pendingEvents = [];
let hotspotRefresh = null;

/** H3 edge lengths in km by resolution: how far a case may sit from its cluster's centre. */
const H3_EDGE_KM = [1107.7, 418.7, 158.2, 59.8, 22.6, 8.54, 3.23, 1.22, 0.461, 0.174, 0.066, 0.025, 0.0094];

/** tilesAround lists, for each zoom, the tiles that show a case at lng, lat (its point or its cluster). */
function tilesAround(lng, lat) {
  const ids = [];
  for (let z = 0; z <= 18; z++) {
    const n = 2 ** z;
    const tileDeg = 360 / n;
    const res = Math.max(0, Math.min(12, z - 4));
    const marginDeg = Math.max(tileDeg * (80 / 4096), z < 14 ? (H3_EDGE_KM[res] * 1.2) / 111 : 0);
    const x0 = lngToX(lng - marginDeg, n);
    const x1 = lngToX(lng + marginDeg, n);
    const y0 = latToY(lat + marginDeg, n);
    const y1 = latToY(lat - marginDeg, n);
    for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) ids.push({z, x, y});
  }
  return ids;
}

const lngToX = (lng, n) => Math.max(0, Math.min(n - 1, Math.floor(((lng + 180) / 360) * n)));
function latToY(lat, n) {
  const r = (lat * Math.PI) / 180;
  return Math.max(0, Math.min(n - 1, Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)));
}

const flushEvents = debounce(() => {
  const events = pendingEvents.splice(0);
  if (!events.length || !map) return;
  const ids = events.flatMap((e) => tilesAround(e.location[0], e.location[1]));
  map.refreshTiles('cases', ids);
  if (map.getZoom() < 15) map.refreshTiles('grids');
  else map.refreshTiles('grids', ids);
  if (state.layers.hotspots) {
    // Gi* of every cell depends on every count: refresh the whole layer, now and then.
    clearTimeout(hotspotRefresh);
    hotspotRefresh = setTimeout(() => map.refreshTiles('hotspots'), 2000);
  }
  const cur = panel.current;
  if (cur && cur.kind === 'case' && events.some((e) => e.id === cur.key) && !panel.el.contains(document.activeElement)) {
    cur.reopen({push: panel.stack.length > 0});
  }
  if (cur && cur.kind === 'area' && state.area && events.some((e) => inArea(e.location, state.area))) rerunPanel();
}, 250);

function inArea(p, area) {
  if (area.kind === 'bbox') return p[0] >= area.bbox[0] && p[0] <= area.bbox[2] && p[1] >= area.bbox[1] && p[1] <= area.bbox[3];
  if (area.kind === 'polygon') return inside(p, area.polygon.coordinates);
  return true; // a grid: cheaper to re-ask than to know
}

function onCaseEvent(ev) {
  pendingEvents.push(ev);
  flushEvents();
  const list = $('#live-list');
  const empty = list.querySelector('.empty');
  if (empty) empty.remove();
  list.prepend(liveRow(ctx, ev));
  while (list.children.length > 12) list.lastChild.remove();
  const pulse = {at: ev.location};
  marks.pulses.push(pulse);
  showMarks();
  setTimeout(() => {
    marks.pulses = marks.pulses.filter((p) => p !== pulse);
    showMarks();
  }, 5000);
  metrics.liveEvents = (metrics.liveEvents || 0) + 1;
}

function refreshAll() {
  if (!map) return;
  for (const s of ['grids', 'cases', 'hotspots']) map.refreshTiles(s);
  if (state.mode === 'plan') loadAnalysis(ctx);
  rerunPanel();
}

function connectLive() {
  const box = $('#live');
  const text = $('#live-text');
  const set = (s, words) => {
    box.dataset.state = s;
    text.textContent = words;
  };
  let connectedBefore = false;
  const es = new EventSource('/v1/events');
  es.addEventListener('hello', () => {
    set('live', 'Live');
    if (!metrics.liveMs) metrics.liveMs = Math.round(performance.now());
    if (connectedBefore) refreshAll(); // events may have been missed while away
    connectedBefore = true;
  });
  es.addEventListener('case', (m) => onCaseEvent(JSON.parse(m.data)));
  es.addEventListener('bulk', () => {
    toast('Many cases were imported; the map is refreshing.', 'info');
    refreshAll();
  });
  es.addEventListener('error', () => set('down', 'Reconnecting…'));
}

// ------------------------------------------------------------------- clicks

function visible(id) {
  return map.getLayoutProperty(id, 'visibility') !== 'none';
}

function onMapClick(e) {
  if (draw.isActive()) return;
  const pad = 6;
  const box = [[e.point.x - pad, e.point.y - pad], [e.point.x + pad, e.point.y + pad]];
  const caseLayers = ['cases-points', 'cases-clusters'].filter(visible);
  const hits = caseLayers.length ? map.queryRenderedFeatures(box, {layers: caseLayers}) : [];
  if (hits.length) {
    let best = hits[0];
    let bestD = Infinity;
    for (const f of hits) {
      const p = map.project(f.geometry.coordinates);
      const d = Math.hypot(p.x - e.point.x, p.y - e.point.y);
      if (d < bestD) {
        best = f;
        bestD = d;
      }
    }
    if (best.properties.cluster) {
      map.easeTo({center: best.geometry.coordinates, zoom: Math.min(map.getZoom() + 2, 16)});
      return;
    }
    openCase(ctx, best.properties.id ?? best.id);
    return;
  }
  const cellLayers = ['analysis-fill', 'hotspots-fill'].filter(visible);
  const cells = cellLayers.length ? map.queryRenderedFeatures(e.point, {layers: cellLayers}) : [];
  if (cells.length && (state.mode === 'plan' || cells[0].properties.gi_class !== 'none')) {
    openCell(ctx, cells[0].properties);
    return;
  }
  const rank = {grid: 4, community: 3, street: 2, district: 1};
  const grids = map.queryRenderedFeatures(e.point, {layers: ['grids-load']});
  if (grids.length) {
    const g = grids.reduce((a, b) => (rank[b.properties.level] > rank[a.properties.level] ? b : a));
    openGrid(ctx, g.properties.code, g.properties);
  }
}

// -------------------------------------------------------------- the sidebar

function toggleSidebar(open) {
  document.body.classList.toggle('sidebar-open', open);
  $('#sidebar-toggle').setAttribute('aria-expanded', String(open));
}

// -------------------------------------------------------------------- boot

async function loadReference() {
  const [cats, units, cal] = await Promise.all([get('/v1/categories'), get('/v1/units'), get('/v1/calendar').catch(() => null)]);
  data.categories = cats.categories;
  data.catByCode = Object.fromEntries(cats.categories.map((c) => [c.code, c]));
  data.units = units.units;
  data.unitByCode = Object.fromEntries(units.units.map((u) => [u.code, u]));
  if (cal && cal.time_zone) setTimeZone(cal.time_zone);
  renderCategoryTree();
  renderUnits();
}

function setMapStatus(words) {
  const el = $('#map-status');
  el.textContent = words;
  el.hidden = !words;
}

async function boot() {
  panel = new Panel(ctx);
  ctx.panel = panel;
  renderStatusChips();
  setupTimeRange();
  setupSelects();
  setupLayers();
  for (const b of document.querySelectorAll('.quick [data-statuses]')) b.addEventListener('click', () => setStatuses(b.dataset.statuses));
  $('#filters-reset').addEventListener('click', resetFilters);
  $('#sidebar-toggle').addEventListener('click', () => toggleSidebar(!document.body.classList.contains('sidebar-open')));
  const tabs = [...document.querySelectorAll('.mode-switch [role=tab]')];
  tabs.forEach((b, i) => {
    b.addEventListener('click', () => setMode(b.dataset.mode));
    b.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
      const next = tabs[(i + (e.key === 'ArrowRight' ? 1 : -1) + tabs.length) % tabs.length];
      next.focus();
      setMode(next.dataset.mode);
    });
  });

  let busy = 0;
  let mapBusy = true;
  const progress = () => $('#progress').classList.toggle('on', busy > 0 || mapBusy);
  onPending((n) => { busy = n; progress(); });

  const reference = loadReference().catch((err) => toast(`Could not load categories and units: ${err.message}`, 'error'));
  let tj;
  try {
    tj = await get('/tiles/grids.json');
  } catch (err) {
    setMapStatus(`The map cannot start: ${err.message}`);
    toast(`The map cannot start: ${err.message}`, 'error');
    return;
  }
  const b = tj.bounds;
  const pad = Math.max(b[2] - b[0], b[3] - b[1]) * 1.5; // room for the panels beside the district
  metrics.mapCreateMs = Math.round(performance.now());
  map = new maplibregl.Map({
    container: 'map',
    style: buildStyle(origin, tj, {grids: tileURL('grids'), cases: tileURL('cases'), hotspots: tileURL('hotspots')}),
    bounds: [[b[0], b[1]], [b[2], b[3]]],
    fitBoundsOptions: {padding: 24},
    maxBounds: [[b[0] - pad, b[1] - pad], [b[2] + pad, b[3] + pad]],
    maxZoom: 19.5,
    localIdeographFontFamily: CJK_FONTS,
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    cooperativeGestures: false,
    fadeDuration: 0, // labels appear at once, and the map is idle sooner
    transformRequest: (url, type) => {
      if (type === 'Tile') metrics.tileRequests++;
      return {url};
    },
  });
  window.citygrid.map = map;
  ctx.map = map;
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new maplibregl.NavigationControl({showCompass: false}), 'top-right');
  map.addControl(new maplibregl.ScaleControl({maxWidth: 120, unit: 'metric'}), 'bottom-left');

  draw = new Draw(map, {
    onDone: (area) => openArea(ctx, area),
    onModeChange: (mode) => {
      $('#tool-box').setAttribute('aria-pressed', String(mode === 'box'));
      $('#tool-polygon').setAttribute('aria-pressed', String(mode === 'polygon'));
      const hint = $('#draw-hint');
      hint.hidden = !mode;
      hint.textContent = mode === 'box' ? 'Press and drag to draw a box. Esc cancels.'
        : mode === 'polygon' ? 'Click the corners; double-click, Enter or a click on the first corner finishes. Backspace undoes, Esc cancels.' : '';
    },
  });
  $('#tool-box').addEventListener('click', () => draw.begin('box'));
  $('#tool-polygon').addEventListener('click', () => draw.begin('polygon'));
  $('#tool-clear').addEventListener('click', () => {
    draw.clear();
    if (panel.current && panel.current.kind === 'area') panel.close();
  });
  setupSearchAndLocate();

  map.on('error', (e) => {
    const err = e.error || {};
    const src = e.sourceId ? ` (${e.sourceId})` : '';
    let words = err.message || 'unknown error';
    if (err.status) words = `the server answered HTTP ${err.status}`;
    toastOnce(`Map data${src} could not be loaded: ${words}`);
  });
  map.on('dataloading', () => { mapBusy = true; progress(); });
  map.on('data', (e) => {
    if (e.dataType === 'source' && e.tile && metrics.firstIdleMs === null) {
      metrics.tilesLoaded = (metrics.tilesLoaded || 0) + 1;
      metrics.lastTileMs = Math.round(performance.now());
    }
  });
  map.on('idle', () => {
    mapBusy = false;
    progress();
    updateRamps();
    if (metrics.firstIdleMs === null) {
      metrics.firstIdleMs = Math.round(performance.now() - t0);
      metrics.firstIdleSinceNavigationMs = Math.round(performance.now());
      setMapStatus('');
      readyResolve(metrics);
    }
  });
  map.on('click', onMapClick);
  map.on('moveend', loadGridLabels);
  map.on('mousemove', (e) => {
    if (draw.isActive()) return;
    const layers = ['cases-points', 'cases-clusters'].filter(visible);
    const over = layers.length && map.queryRenderedFeatures(e.point, {layers}).length > 0;
    map.getCanvas().style.cursor = over ? 'pointer' : '';
  });
  map.on('load', () => {
    metrics.styleLoadedMs = Math.round(performance.now() - t0);
    metrics.loadMs = Math.round(performance.now());
    setLayer('grids', state.layers.grids);
    setLayer('cases', state.layers.cases);
    setLayer('hotspots', state.layers.hotspots);
    renderHotspotLegend();
    loadGridNames()
      .then(() => { metrics.namesMs = Math.round(performance.now()); })
      .catch((err) => toast(`Grid names could not be loaded: ${err.message}`, 'error'));
    connectLive();
  });
  await reference;
}

const shownErrors = new Map();
function toastOnce(message) {
  const last = shownErrors.get(message) || 0;
  if (Date.now() - last < 15000) return;
  shownErrors.set(message, Date.now());
  toast(message, 'error');
}

let readyResolve;
window.citygrid = {
  state, data, metrics, filterParams, openCase: (id, opts) => openCase(ctx, id, opts), setMode, setLayer,
  ready: new Promise((resolve) => { readyResolve = resolve; }),
};

function start() {
  if (!window.maplibregl) {
    setMapStatus('The map library did not load.');
    return;
  }
  maplibregl.prewarm(); // start the tile workers while the page asks for its first data
  boot().catch((err) => {
    setMapStatus(`The map failed to start: ${err.message}`);
    toast(`The map failed to start: ${err.message}`, 'error');
  });
}

if (window.maplibregl) start();
else window.addEventListener('DOMContentLoaded', start);
