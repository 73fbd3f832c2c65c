// The battle map's entry point. It first asks GET /v1/me, with the API key
// the tab keeps or else with the session cookie the browser may hold;
// refused, it shows the sign-in form and asks nothing else of the API.
// Signed in, it knows who the page speaks as (GET /v1/me) and asks the rules the page follows (the case lifecycle, what
// the tiles show at each zoom), builds the map with the views the key may
// see and hands each part exactly what it needs. window.citygrid exposes
// the map and state for the browser tests.

import {get, request, onPending, setKey, setSession, bySession, currentKey, onRefused} from './api.js';
import {storedKey, forgetKey, readMe, viewsOf, scopeWords, signInMethods} from './auth.js';
import {signInAgain, showAccount, offerProvider} from './signin.js';
import {$, debounce, setTimeZone} from './dom.js';
import {buildStyle, LAYER_GROUPS} from './style.js';
import {parseStatuses, parseActions, parseCatalogue} from './rules.js';
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
import {Projects} from './projects.js';

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
  const lifecycle = {...parseStatuses(statuses), moves: parseActions(statuses)};
  return {tj, lifecycle, tiles: {pointZoom, levelsByZoom, minZoom: tj.minzoom, maxZoom: tj.maxzoom}};
}

/** refused tells whether err is the server refusing the key: the sign-in form is up, nothing else to say. */
const refused = (err) => err && err.status === 401;

/** settled turns a promise into one that never rejects: {value} or {error}, so that an abandoned one is no unhandled rejection. */
const settled = (p) => p.then((value) => ({value}), (error) => ({error}));

/**
 * boot builds the page for the key set in api.js. meBody is GET /v1/me's
 * answer when the sign-in form has it already. The rules and reference
 * data load at the same time as /v1/me, so the key costs no round trip.
 */
async function boot(meBody) {
  session.booted = true;
  maplibregl.prewarm(); // start the tile workers while the page asks for its first data
  let busy = 0;
  let mapBusy = true;
  const progress = () => $('#progress').classList.toggle('on', busy > 0 || mapBusy);
  onPending((n) => { busy = n; progress(); });
  setMapStatus('Loading the map…');

  const whoP = settled(meBody ? Promise.resolve(meBody) : get('/v1/me'));
  const rulesP = settled(loadRules());
  const reference = loadReference().then(() => true, (err) => {
    if (!refused(err)) toast(`Could not load categories and units: ${err.message}`, 'error');
    return false;
  });
  const who = await whoP;
  if (who.error) {
    if (!refused(who.error)) fail(who.error);
    return;
  }
  let me;
  try {
    me = readMe(who.value);
  } catch (err) {
    fail(err);
    return;
  }
  if (me.csrf) setSession(me.csrf); // a reload: the token comes with GET /v1/me
  const views = viewsOf(me);
  if (!views.map) {
    signOut(`A ${me.user ? 'user' : 'key'} of role ${me.role} cannot read the map: sign in ${me.user ? 'as someone else' : 'with another key'}.`);
    return;
  }
  Object.assign(window.citygrid, {me, views});
  const nameOf = (code) => (data.gridByCode[code] ? data.gridByCode[code].name : null);
  showAccount(me, nameOf, () => signOut(''));
  for (const el of document.querySelectorAll('[data-view]')) el.hidden = !views[el.dataset.view];
  if (!views.hotspots) state.modeLayers.plan = {grids: true, cases: false, hotspots: false};
  const sources = views.cases
    ? get('/v1/sources').then((b) => b.sources, (err) => {
      if (!refused(err)) toast(`Could not load the case sources: ${err.message}`, 'error');
      return [];
    })
    : Promise.resolve([]);
  const loaded = await rulesP;
  if (loaded.error) {
    if (!refused(loaded.error)) fail(loaded.error);
    return;
  }
  const {tj, lifecycle, tiles} = loaded.value;
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
  const panels = new Panels({panel, data, view, filterParams: currentParams, onArea: (area) => { state.area = area; }, me, views, lifecycle});
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
      if (views.hotspots) layers.applyAnalysisMode();
      if (views.stats) planner.openStats();
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
  const projects = new Projects({map, panel, origin, me, data, openCase: (id) => panels.openCase(id, {push: true})}); // issue 17
  setupPointer({map, view, draw, state, panels, extraClick: (e) => projects.click(e)});

  const labels = new GridLabels(map, data);
  const live = session.live = new Live({
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
    live,
    setMode,
    setLayer: (name, on) => layers.setLayer(name, on),
    projects, openProject: (id) => projects.openProject(id),
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
    projects.addLayers();
    labels.loadNames()
      .then(() => {
        metrics.namesMs = Math.round(performance.now());
        if (me.scope) $('#who-scope').textContent = scopeWords(me.scope, nameOf);
      })
      .catch((err) => { if (!refused(err)) toast(`Grid names could not be loaded: ${err.message}`, 'error'); });
    live.connect();
  });

  sources.then((list) => filters.setSources(list));
  if (await reference) {
    filters.setCategories(data.categories);
    filters.setUnits(data.units);
  }
}

/** fail says the map cannot start, and why. */
function fail(err) {
  setMapStatus(`The map cannot start: ${err.message}`);
  toast(`The map cannot start: ${err.message}`, 'error');
}

/** session is the sign-in's state: whether a boot has begun (a new credential then reloads the page), the live stream to stop. */
const session = {booted: false, live: null, signingOut: false};

/**
 * signOut ends the page's credential and shows the sign-in form with
 * message (the server's words when it refused the credential). The
 * sign-out control (no message) ends a session at the server too
 * (DELETE /v1/session) and reloads the page clean. Signing in once the page
 * has been built for someone else reloads it: another person may have
 * another role.
 */
async function signOut(message) {
  if (session.signingOut) return; // a refusal of the sign-out itself: the page reloads anyway
  const wasSession = bySession();
  const wasKey = !!currentKey();
  forgetKey(sessionStorage);
  setKey(null);
  if (session.live) session.live.close();
  if (!message && wasSession) {
    session.signingOut = true;
    try {
      await request('/v1/session', {method: 'DELETE'});
    } catch (err) {
      if (err.status !== 401) toast(`Signing out failed: ${err.message}`, 'error');
    }
  }
  setSession(null);
  if (!message && session.booted) {
    window.location.reload(); // the sign-out control: start clean, at the form
    return;
  }
  setMapStatus('');
  const signedIn = (meBody) => {
    if (session.booted) {
      window.location.reload();
      return null;
    }
    boot(meBody).catch(fail);
    return null;
  };
  signInAgain(message, wasKey ? 'key' : 'user', signedIn);
}

/**
 * start asks GET /v1/me with the tab's key, or without one (the browser
 * sends the session cookie, if any): an answer builds the page, a refusal
 * shows the form.
 */
async function start() {
  if (!window.maplibregl) {
    setMapStatus('The map library did not load.');
    return;
  }
  // A refusal of the credential in use, from any request: back to the form, with the server's words.
  onRefused((message) => { if (currentKey() || bySession()) signOut(message); });
  const key = storedKey(sessionStorage);
  if (key) {
    setKey(key);
    boot().catch(fail);
    return;
  }
  let body;
  try {
    body = await get('/v1/me');
  } catch (err) {
    if (err.status === 401) {
      offerProvider(signInMethods(err.body).includes('oidc'));
      signOut('');
    } else fail(err);
    return;
  }
  setSession(body.csrf_token); // the cookie's session: each change carries its token
  boot(body).catch(fail);
}

if (window.maplibregl) start();
else window.addEventListener('DOMContentLoaded', start);
