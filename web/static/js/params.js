// Filters and the API query parameters they become. The lifecycle (which
// statuses exist, which are open) comes from GET /v1/statuses and is passed
// in; nothing here knows a status by name. Pure: no DOM, no MapLibre.

export const DAY = 86400000;
const HOUR = 3600000;

/** SLIDER_MIN is the time slider's left end in days from today: there, the range is open to the past. */
export const SLIDER_MIN = -365;

/**
 * defaultFilters are each view's: dispatchers see open cases of any age,
 * planners all cases of the last 90 days. lifecycle is parseStatuses'.
 */
export function defaultFilters(mode, lifecycle) {
  return mode === 'plan'
    ? {statuses: new Set(lifecycle.all), category: '', source: '', unit: '', fromDays: -90, toDays: 0}
    : {statuses: new Set(lifecycle.open), category: '', source: '', unit: '', fromDays: SLIDER_MIN, toDays: 0};
}

/** isoHour formats ms since the epoch, truncated to the hour, as RFC 3339 UTC without fractions. */
export function isoHour(ms) {
  return new Date(Math.floor(ms / HOUR) * HOUR).toISOString().replace('.000Z', 'Z');
}

/**
 * filterParams returns filters as API query parameters at time now (ms):
 * status lists the chosen statuses in lifecycle order (empty when all are
 * chosen); from and to are whole hours, to rounded up, each empty at its
 * slider's end.
 */
export function filterParams(f, statuses, now) {
  const all = statuses.every((s) => f.statuses.has(s));
  return {
    status: all ? '' : statuses.filter((s) => f.statuses.has(s)).join(','),
    category: f.category,
    source: f.source,
    unit: f.unit,
    from: f.fromDays > SLIDER_MIN ? isoHour(now + f.fromDays * DAY) : '',
    to: f.toDays < 0 ? isoHour(now + f.toDays * DAY + HOUR) : '',
  };
}

/** query builds a query string from an object, skipping empty values; arrays are joined with commas. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    q.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  return q.toString();
}

/**
 * tileURL is a layer's tile template, as its TileJSON would give it, with
 * params as the query (the grids layer takes none of the case filters);
 * hotspots also take the H3 resolution (res, '' for the zoom's default)
 * and the neighbourhood k (1 is the default, left out).
 */
export function tileURL(origin, layer, params = {}, {res = '', k = 1} = {}) {
  const p = layer === 'grids' ? {} : {...params};
  if (layer === 'hotspots') {
    if (res) p.res = res;
    if (Number(k) !== 1) p.k = k;
  }
  const q = query(p);
  return `${origin}/tiles/${layer}/{z}/{x}/{y}.mvt${q ? `?${q}` : ''}`;
}

/** filtersBody turns query parameters into the filter fields of a POST /v1/cases/search body. */
export function filtersBody(params) {
  const b = {};
  if (params.status) b.status = params.status.split(',');
  for (const k of ['category', 'unit', 'source', 'from', 'to']) if (params[k]) b[k] = params[k];
  return b;
}

/** areaParams is an area's part of a GET /v1/cases query: {kind: 'bbox', bbox}, {kind: 'h3', cell} or {kind: 'grid', code}. */
export function areaParams(area) {
  if (area.kind === 'bbox') return {bbox: area.bbox.map((v) => v.toFixed(7)).join(',')};
  if (area.kind === 'h3') return {h3: area.cell};
  return {grid: area.code};
}

/** caseFilters keeps the parameters that select cases, without the time window. */
export function caseFilters(params) {
  return {status: params.status, category: params.category, unit: params.unit, source: params.source};
}

/** analysisWindow is the period {from, to} (Dates) the planner analyses: the filter's, else the 30 days up to the next whole hour after now. */
export function analysisWindow(params, now) {
  const to = params.to ? new Date(params.to) : new Date(Math.ceil(now / HOUR) * HOUR);
  const from = params.from ? new Date(params.from) : new Date(to.getTime() - 30 * DAY);
  return {from, to};
}

/** toggleStatus returns the chosen statuses after a click on id; taking the last one away chooses all again (never none). */
export function toggleStatus(chosen, id, all) {
  const next = new Set(chosen);
  if (next.has(id) && next.size === 1) return new Set(all);
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}

/** statusPreset is the statuses of a quick choice: 'open', 'finished' or 'all'. */
export function statusPreset(which, lifecycle) {
  return new Set(which === 'open' ? lifecycle.open : which === 'finished' ? lifecycle.finished : lifecycle.all);
}

/** sliderRange keeps the two time sliders at least a day apart, moving the one not being dragged (moved: 'from' or 'to'). */
export function sliderRange(from, to, moved) {
  if (from > to - 1) {
    if (moved === 'from') from = to - 1;
    else to = from + 1;
  }
  return {fromDays: from, toDays: to};
}

/** presetRange is the time range of a preset button: the last days ('all': no start). */
export function presetRange(days) {
  return {fromDays: days === 'all' ? SLIDER_MIN : -Number(days), toDays: 0};
}

/** categoryTree nests categories by code: each under the longest other code that is a prefix of its own. */
export function categoryTree(categories) {
  const codes = new Set(categories.map((c) => c.code));
  const children = {};
  const roots = [];
  for (const c of categories) {
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
  return {roots, children, codes};
}
