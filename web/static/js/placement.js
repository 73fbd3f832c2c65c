// Where grid names go on the map: one label per grid at a point well
// inside it (a polygon label from the tiles would repeat in every tile the
// polygon crosses), and which unit grids near the view still need theirs.
// Pure: no DOM, no MapLibre.

import {bboxOf, ringArea, pointInPolygon, edgeDistance} from './geometry.js';

/**
 * labelPoint finds a point well inside a Polygon or MultiPolygon: on its
 * largest part, the point of a 24×24 grid over the bounding box farthest
 * from every edge, refined on an 8×8 grid around it. A part too thin for
 * any grid point to fall inside gets its first vertex.
 */
export function labelPoint(geometry) {
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
        if (!pointInPolygon(p, best)) continue;
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

/** shortGridName drops what a unit grid's name repeats of its community: "…社区第3网格" is labelled "第3网格". */
export function shortGridName(name) {
  const i = name.indexOf('第');
  return i >= 0 ? name.slice(i) : name;
}

/** gridLabel is the label feature of a grid feature from /v1/grids, named name (its own by default). */
export function gridLabel(f, name = f.properties.name) {
  const p = f.properties;
  return {type: 'Feature', properties: {name, level: p.level, code: p.code}, geometry: {type: 'Point', coordinates: labelPoint(f.geometry)}};
}

/** covered reports whether one of the boxes fully contains view (boxes are [west, south, east, north]). */
export function covered(boxes, view) {
  return boxes.some((a) => a[0] <= view[0] && a[1] <= view[1] && a[2] >= view[2] && a[3] >= view[3]);
}

/** around is view grown by half its size on every side: what to fetch so that small pans need nothing new. */
export function around(view) {
  const dx = (view[2] - view[0]) / 2;
  const dy = (view[3] - view[1]) / 2;
  return [view[0] - dx, view[1] - dy, view[2] + dx, view[3] + dy];
}
