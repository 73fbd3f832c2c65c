// The domain rules the page takes from the API instead of restating them:
// the case lifecycle (GET /v1/statuses) and what the tiles show at each zoom
// (GET /tiles, the catalogue). Each parser checks the shape it relies on and
// throws a sentence saying what is missing, so that a server without these
// fields fails loudly instead of the page guessing.

/**
 * parseStatuses reads GET /v1/statuses: {statuses: [{status, open, next}]}
 * in lifecycle order. It returns the status ids in that order (all), the
 * open ones (cases still being handled) and the others (finished).
 */
export function parseStatuses(body) {
  const list = body && body.statuses;
  if (!Array.isArray(list) || list.length === 0) {
    throw new Error('the server lists no case statuses (GET /v1/statuses has no "statuses")');
  }
  const all = [];
  const open = [];
  for (const s of list) {
    if (!s || typeof s.status !== 'string' || typeof s.open !== 'boolean') {
      throw new Error('GET /v1/statuses: every entry needs a "status" and an "open" flag');
    }
    all.push(s.status);
    if (s.open) open.push(s.status);
  }
  return {all, open, finished: all.filter((id) => !open.includes(id))};
}

/**
 * parseActions reads the action names of GET /v1/statuses ({actions:
 * [{action, from, to}]}: the statuses an action moves a case from and the
 * one it moves it to, null for an action that changes no status) into
 * {action: {from, to}}. A server that does not name its actions yet gives
 * null: the page then offers a case's next_statuses.
 */
export function parseActions(body) {
  const list = body && body.actions;
  if (list === undefined || list === null) return null;
  if (!Array.isArray(list)) throw new Error('GET /v1/statuses: "actions" is not a list');
  const moves = {};
  for (const a of list) {
    if (!a || typeof a.action !== 'string' || !Array.isArray(a.from) || (a.to !== null && a.to !== undefined && typeof a.to !== 'string')) {
      throw new Error('GET /v1/statuses: every action needs a name, the statuses it moves from and the one it moves to (or null)');
    }
    moves[a.action] = {from: a.from.slice(), to: a.to || null};
  }
  return moves;
}

/**
 * parseCatalogue reads the tile catalogue (GET /tiles). From the cases layer
 * it takes point_zoom, the zoom from which cases are single points; from
 * the grids layer levels_by_zoom, indexed by tile zoom, the grid levels a
 * tile shows by default.
 */
export function parseCatalogue(body) {
  const layers = body && Array.isArray(body.layers) ? body.layers : [];
  const layer = (name) => layers.find((l) => l && l.name === name);
  const cases = layer('cases');
  if (!cases || !Number.isInteger(cases.point_zoom)) {
    throw new Error('the tile catalogue (GET /tiles) gives no point_zoom for the cases layer');
  }
  const grids = layer('grids');
  const levels = grids && grids.levels_by_zoom;
  if (!Array.isArray(levels) || levels.length === 0 || !levels.every((l) => Array.isArray(l))) {
    throw new Error('the tile catalogue (GET /tiles) gives no levels_by_zoom for the grids layer');
  }
  return {pointZoom: cases.point_zoom, levelsByZoom: levels};
}

/**
 * levelsAt returns the grid levels a grids tile at zoom z shows by default;
 * past the end of the list, its last entry (the server lists every zoom).
 */
export function levelsAt(levelsByZoom, z) {
  const i = Math.max(0, Math.min(levelsByZoom.length - 1, Math.floor(z)));
  return levelsByZoom[i] || [];
}
