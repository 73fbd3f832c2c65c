// Pointing at the map: a click opens the case, cluster, hotspot cell or
// grid under the pointer (in that order of preference); the cursor shows
// where a click would open a case.

import {LEVEL_ORDER} from './model.js';
import {nearest, deepestGrid} from './lookup.js';

const CASE_LAYERS = ['cases-points', 'cases-clusters'];
const CELL_LAYERS = ['analysis-fill', 'hotspots-fill'];

/** PAD is how far from a case, in pixels, a click still hits it. */
const PAD = 6;

/** CLUSTER_ZOOM_MAX caps the zoom a click on a cluster eases to. */
const CLUSTER_ZOOM_MAX = 16;

/**
 * setupPointer wires clicks and the cursor. map is the MapLibre map; view
 * the MapView (visible); draw the Draw tool (its clicks are its own);
 * state the page state (mode); panels the Panels (openCase, openCell,
 * openGrid); extraClick(e), when given, takes a click before cells and
 * grids (the projects and disputed cases of issue 17) and says if it did.
 */
export function setupPointer({map, view, draw, state, panels, extraClick}) {
  const shown = (layers) => layers.filter((id) => view.visible(id));

  map.on('click', (e) => {
    if (draw.isActive()) return;
    const box = [[e.point.x - PAD, e.point.y - PAD], [e.point.x + PAD, e.point.y + PAD]];
    const caseLayers = shown(CASE_LAYERS);
    const hits = caseLayers.length ? map.queryRenderedFeatures(box, {layers: caseLayers}) : [];
    if (hits.length) {
      const best = nearest(hits, (f) => {
        const p = map.project(f.geometry.coordinates);
        return Math.hypot(p.x - e.point.x, p.y - e.point.y);
      });
      if (best.properties.cluster) {
        map.easeTo({center: best.geometry.coordinates, zoom: Math.min(map.getZoom() + 2, CLUSTER_ZOOM_MAX)});
      } else {
        panels.openCase(best.properties.id ?? best.id);
      }
      return;
    }
    if (extraClick && extraClick(e)) return;
    const cellLayers = shown(CELL_LAYERS);
    const cells = cellLayers.length ? map.queryRenderedFeatures(e.point, {layers: cellLayers}) : [];
    if (cells.length && (state.mode === 'plan' || cells[0].properties.gi_class !== 'none')) {
      panels.openCell(cells[0].properties);
      return;
    }
    const g = deepestGrid(map.queryRenderedFeatures(e.point, {layers: ['grids-load']}), LEVEL_ORDER);
    if (g) panels.openGrid(g.properties.code, g.properties);
  });

  map.on('mousemove', (e) => {
    if (draw.isActive()) return;
    const layers = shown(CASE_LAYERS);
    const over = layers.length && map.queryRenderedFeatures(e.point, {layers}).length > 0;
    map.getCanvas().style.cursor = over ? 'pointer' : '';
  });
}
