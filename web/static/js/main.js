// The battle map's entry point. It asks the API for the rules the page
// follows (the case lifecycle, what the tiles show at each zoom), builds
// the map and hands each part exactly what it needs. window.citygrid
// exposes the map and state for the browser tests.

import {get, onPending} from './api.js';
import {$, debounce, setTimeZone} from './dom.js';
import {buildStyle, LAYER_GROUPS} from './style.js';
import {parseStatuses, parseCatalogue} from './rules.js';
import {defaultFilters, filterParams, tileURL} from './params.js';
import {toast} from './toast.js';
import {createMap, setupDrawTools, setMapStatus} from './mapsetup.js';
import {MapView} from './view.js';
import {Panel} from './panel.js';
import {Panels} from './panels.js';
import {Planner} from './planner.js';
import {FilterControls} from './filters.js';
import {LayerControls} from './layers.js';
import {GridLabels} from './gridlabels.js';
import {Live} from './live.js';
import {setupSearch} from './search.js';
import {setupPointer} from './clicks.js';

const origin = window.location.origin;
const t0 = performance.now();

/** state is what the person has chosen; filters are set once the lifecycle is known. */
const state = {
  mode: 'dispatch',
  filters: null,
  // Each view keeps its own filters; switching views swaps them.
  filtersByMode: {dispatch: null, plan: null},
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

/** data is the reference data: categories, units and grids by code, the district. */
const data = {categories: [], catByCode: {}, units: [], unitByCode: {}, gridByCode: {}, district: null};

const metrics = {firstIdleMs: null, styleLoadedMs: null, tileRequests: 0};

let readyResolve;
window.citygrid = {state, data, metrics, ready: new Promise((resolve) => { readyResolve = resolve; })};

/** loadReference fetches categories, units and the working calendar's time zone into data. */
async function loadReference() {
  const [cats, units, cal] = await Promise.all([get('/v1/categories'), get('/v1/units'), get('/v1/calendar').catch(() => null)]);
  data.categories = cats.categories;
  data.catByCode = Object.fromEntries(cats.categories.map((c) => [c.code, c]));
  data.units = units.units;
  data.unitByCode = Object.fromEntries(units.units.map((u) => [u.code, u]));
  if (cal && cal.time_zone) setTimeZone(cal.time_zone);
}

/** loadRules fetches what the page must know before it can show anything: the TileJSON, the tile catalogue and the lifecycle. */
async function loadRules() {
  const [tj, catalogue, statuses] = await Promise.all([get('/tiles/grids.json'), get('/tiles'), get('/v1/statuses')]);
  const {pointZoom, levelsByZoom} = parseCatalogue(catalogue);
  return {tj, lifecycle: parseStatuses(statuses), tiles: {pointZoom, levelsByZoom, minZoom: tj.minzoom, maxZoom: tj.maxzoom}};
}

async function boot() {
  let busy = 0;
  let mapBusy = true;
  const progress = () => $('#progress').classList.toggle('on', busy > 0 || mapBusy);
  onPending((n) => { busy = n; progress(); });

  const reference = loadReference().then(() => true, (err) => {
    toast(`Could not load categories and units: ${err.message}`, 'error');
    return false;
  });
  const sources = get('/v1/sources').then((b) => b.sources, (err) => {
    toast(`Could not load the case sources: ${err.message}`, 'error');
    return [];
  });
  let rules;
  try {
    rules = await loadRules();
  } catch (err) {
    setMapStatus(`The map cannot start: ${err.message}`);
    toast(`The map cannot start: ${err.message}`, 'error');
    return;
  }
  const {tj, lifecycle, tiles} = rules;
  state.filters = defaultFilters('dispatch', lifecycle);
  state.filtersByMode.plan = defaultFilters('plan', lifecycle);

  const currentParams = () => filterParams(state.filters, lifecycle.all, Date.now());
  const tileURLs = () => {
    const p = currentParams();
    return {grids: tileURL(origin, 'grids'), cases: tileURL(origin, 'cases', p), hotspots: tileURL(origin, 'hotspots', p, {res: state.res, k: state.k})};
  };

  metrics.mapCreateMs = Math.round(performance.now());
  const map = createMap({style: buildStyle(origin, tj, tileURLs(), {pointZoom: tiles.pointZoom}), bounds: tj.bounds, metrics});
  window.citygrid.map = map;

  /** updateSources points the filtered tile sources at the current filters. */
  const updateSources = () => {
    const urls = tileURLs();
    for (const layer of ['cases', 'hotspots']) {
      const src = map.getSource(layer);
      if (src && src.tiles[0] !== urls[layer]) src.setTiles([urls[layer]]);
    }
  };

  const view = new MapView(map, $('#panel'));
  let draw = null;
  const panel = new Panel({
    onOpen: (kind, {push}) => { if (!push && kind !== 'locate') view.markLocation(null); }, // a new subject: the located point goes
    onClose: () => {
      view.select({});
      state.area = null;
      draw.clear();
      view.markLocation(null);
    },
  });
  const panels = new Panels({panel, data, view, filterParams: currentParams, onArea: (area) => { state.area = area; }});
  const planner = new Planner({map, state, filterParams: currentParams, panel, data, view});
  draw = setupDrawTools(map, {
    onDone: (area) => panels.openArea(area),
    onClear: () => { if (panel.current && panel.current.kind === 'area') panel.close(); },
  });

  const rerunPanel = debounce(() => panel.reopen('area', 'stats'), 400);
  /** applyFilters makes the map, the analysis and the open list follow the filters. */
  const applyFilters = debounce(() => {
    updateSources();
    if (state.mode === 'plan') planner.loadAnalysis();
    rerunPanel();
  }, 140);

  const filters = new FilterControls({
    state, lifecycle, onChange: applyFilters,
    onReset: () => {
      state.filters = defaultFilters(state.mode, lifecycle);
      filters.render();
      applyFilters();
    },
  });
  filters.render();
  const layers = new LayerControls({
    map, view, state, tiles,
    onAnalysis: () => planner.loadAnalysis(),
    onHotspotParams: () => { updateSources(); planner.loadAnalysis(); },
    onStats: () => planner.openStats(),
  });
  layers.describePointZoom(tiles.pointZoom);

  function setMode(mode) {
    if (mode === state.mode) return;
    state.filtersByMode[state.mode] = state.filters;
    state.filters = state.filtersByMode[mode] || defaultFilters(mode, lifecycle);
    state.mode = mode;
    filters.render();
    updateSources(); // the panel and analysis are opened below
    document.body.dataset.mode = mode;
    for (const b of document.querySelectorAll('.mode-switch [role=tab]')) b.setAttribute('aria-selected', String(b.dataset.mode === mode));
    const want = state.modeLayers[mode];
    for (const name of Object.keys(LAYER_GROUPS)) layers.setLayer(name, want[name]);
    if (mode === 'plan') {
      layers.applyAnalysisMode();
      planner.openStats();
      if (data.district) view.fitGeometry(data.gridByCode[data.district.code].geometry);
    } else {
      for (const id of ['analysis-fill', 'analysis-line']) view.setVisible(id, false);
      if (panel.current && panel.current.kind === 'stats') panel.close();
    }
    if (panel.current && panel.current.kind === 'area') rerunPanel();
  }

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
  const sidebar = {
    isOpen: () => document.body.classList.contains('sidebar-open'),
    toggle: (open) => {
      document.body.classList.toggle('sidebar-open', open);
      $('#sidebar-toggle').setAttribute('aria-expanded', String(open));
    },
  };
  $('#sidebar-toggle').addEventListener('click', () => sidebar.toggle(!sidebar.isOpen()));
  setupSearch({data, panels, panel, view, draw, sidebar});
  setupPointer({map, view, draw, state, panels});

  const labels = new GridLabels(map, data);
  const live = new Live({
    map, tiles, state, panel, panels, view, metrics,
    rerunArea: rerunPanel,
    onResync: () => {
      if (state.mode === 'plan') planner.loadAnalysis();
      rerunPanel();
    },
  });

  Object.assign(window.citygrid, {
    filterParams: currentParams,
    openCase: (id, opts) => panels.openCase(id, opts),
    setMode,
    setLayer: (name, on) => layers.setLayer(name, on),
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
    layers.updateRamps();
    if (metrics.firstIdleMs === null) {
      metrics.firstIdleMs = Math.round(performance.now() - t0);
      metrics.firstIdleSinceNavigationMs = Math.round(performance.now());
      setMapStatus('');
      readyResolve(metrics);
    }
  });
  map.on('moveend', labels.loadNear);
  map.on('load', () => {
    metrics.styleLoadedMs = Math.round(performance.now() - t0);
    metrics.loadMs = Math.round(performance.now());
    for (const name of Object.keys(LAYER_GROUPS)) layers.setLayer(name, state.layers[name]);
    layers.renderHotspotLegend();
    labels.loadNames()
      .then(() => { metrics.namesMs = Math.round(performance.now()); })
      .catch((err) => toast(`Grid names could not be loaded: ${err.message}`, 'error'));
    live.connect();
  });

  sources.then((list) => filters.setSources(list));
  if (await reference) {
    filters.setCategories(data.categories);
    filters.setUnits(data.units);
  }
}

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
