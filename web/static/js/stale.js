// Which loaded tiles a live change makes stale. The server computes, from
// the change alone and with the function its own tile cache uses, the
// stale tiles of each layer as inclusive ranges ({z, x: [min, max], y:
// [min, max]}, for grids with the level whose counts changed) or "all".
// The page only narrows those ranges to the tiles it may be showing, since
// a district-wide range at z18 can name thousands of tiles. Pure: no DOM,
// no MapLibre.

import {tileWindow} from './geometry.js';

/**
 * viewWindows returns the tile ranges a map may be showing: at the zoom it
 * covers the view with (MapLibre rounds the map zoom for vector tiles) and
 * the zooms either side (parents and children kept while zooming), within
 * [minZoom, maxZoom], each grown by one tile. A superset is harmless: the
 * map refreshes only the tiles it really has in view.
 */
export function viewWindows(bounds, mapZoom, {minZoom = 0, maxZoom}) {
  const lo = Math.max(minZoom, Math.min(maxZoom, Math.floor(mapZoom) - 1));
  const hi = Math.max(minZoom, Math.min(maxZoom, Math.ceil(mapZoom)));
  const out = [];
  for (let z = lo; z <= hi; z++) out.push(tileWindow(bounds, z, 1));
  return out;
}

/**
 * expandRanges lists the tiles {z, x, y} of ranges that fall in windows,
 * once each, keeping only the ranges keep(range) accepts.
 */
export function expandRanges(ranges, windows, keep = () => true) {
  const seen = new Set();
  const out = [];
  for (const r of ranges) {
    if (!keep(r)) continue;
    for (const w of windows) {
      if (w.z !== r.z) continue;
      const x0 = Math.max(r.x[0], w.x[0]);
      const x1 = Math.min(r.x[1], w.x[1]);
      const y0 = Math.max(r.y[0], w.y[0]);
      const y1 = Math.min(r.y[1], w.y[1]);
      for (let x = x0; x <= x1; x++) {
        for (let y = y0; y <= y1; y++) {
          const key = `${r.z}/${x}/${y}`;
          if (seen.has(key)) continue;
          seen.add(key);
          out.push({z: r.z, x, y});
        }
      }
    }
  }
  return out;
}

/**
 * staleTiles merges the "tiles" of several case events into what to
 * refresh in each of sources: "all", or a list of tiles (possibly empty).
 * A grids range counts only where the level it names is shown at its zoom
 * (levelsAt(z) lists them). An event without "tiles" makes every source
 * stale: the server did not say, so nothing can be trusted.
 */
export function staleTiles(events, windows, {sources, levelsAt}) {
  const ranges = Object.fromEntries(sources.map((s) => [s, []]));
  const all = new Set();
  for (const tiles of events) {
    for (const s of sources) {
      const v = tiles ? tiles[s] : 'all';
      if (v === 'all') all.add(s);
      else if (Array.isArray(v)) ranges[s].push(...v);
    }
  }
  const keep = {grids: (r) => !r.level || levelsAt(r.z).includes(r.level)};
  return Object.fromEntries(sources.map((s) => [s, all.has(s) ? 'all' : expandRanges(ranges[s], windows, keep[s])]));
}
