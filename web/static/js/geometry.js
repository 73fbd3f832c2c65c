// Plane geometry on [lng, lat] coordinates and Web Mercator tile numbers.
// Pure: no DOM, no MapLibre.

/** bboxOf returns [west, south, east, north] of a GeoJSON geometry (anything with nested coordinates). */
export function bboxOf(geometry) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      if (c[0] < b[0]) b[0] = c[0];
      if (c[1] < b[1]) b[1] = c[1];
      if (c[0] > b[2]) b[2] = c[0];
      if (c[1] > b[3]) b[3] = c[1];
    } else c.forEach(walk);
  };
  walk(geometry.coordinates);
  return b;
}

/** ringArea is the signed area of a ring in square degrees: positive when it runs counter-clockwise. */
export function ringArea(r) {
  let a = 0;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) a += (r[j][0] - r[i][0]) * (r[j][1] + r[i][1]);
  return a / 2;
}

/**
 * pointInPolygon reports whether p lies inside the polygon given as its
 * rings (outer ring, then holes), by the even-odd rule: a point in a hole
 * is outside. Points exactly on an edge may go either way.
 */
export function pointInPolygon(p, rings) {
  let c = false;
  for (const r of rings) {
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
      if ((r[i][1] > p[1]) !== (r[j][1] > p[1]) && p[0] < ((r[j][0] - r[i][0]) * (p[1] - r[i][1])) / (r[j][1] - r[i][1]) + r[i][0]) c = !c;
    }
  }
  return c;
}

/**
 * edgeDistance is the distance from p to the nearest edge of the rings, in
 * degrees of latitude, with longitudes shrunk by cos(latitude) so that
 * both axes measure alike near p.
 */
export function edgeDistance(p, rings) {
  let d = Infinity;
  const k = Math.cos((p[1] * Math.PI) / 180);
  const px = p[0] * k;
  for (const r of rings) {
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
      const ax = r[j][0] * k;
      const ay = r[j][1];
      const dx = r[i][0] * k - ax;
      const dy = r[i][1] - ay;
      const t = dx || dy ? Math.max(0, Math.min(1, ((px - ax) * dx + (p[1] - ay) * dy) / (dx * dx + dy * dy))) : 0;
      d = Math.min(d, Math.hypot(px - (ax + t * dx), p[1] - (ay + t * dy)));
    }
  }
  return d;
}

/** inBBox reports whether p lies in bbox [west, south, east, north], edges included. */
export function inBBox(p, b) {
  return p[0] >= b[0] && p[0] <= b[2] && p[1] >= b[1] && p[1] <= b[3];
}

/**
 * inArea reports whether p may lie in a drawn or chosen area: a bbox or a
 * polygon is tested; any other area (a grid, a cell) answers true, since
 * asking the server again is cheaper than knowing.
 */
export function inArea(p, area) {
  if (area.kind === 'bbox') return inBBox(p, area.bbox);
  if (area.kind === 'polygon') return pointInPolygon(p, area.polygon.coordinates);
  return true;
}

/** tileX is the column of the tile at zoom z that holds longitude lng, clamped to the world. */
export function tileX(lng, z) {
  const n = 2 ** z;
  return Math.max(0, Math.min(n - 1, Math.floor(((lng + 180) / 360) * n)));
}

/** tileY is the row (XYZ: 0 at the top) of the tile at zoom z that holds latitude lat, clamped to the world. */
export function tileY(lat, z) {
  const n = 2 ** z;
  const r = (Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI) / 180;
  return Math.max(0, Math.min(n - 1, Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)));
}

/**
 * tileWindow returns the inclusive tile range {z, x: [min, max], y: [min,
 * max]} at zoom z covering bounds [west, south, east, north], grown by
 * margin tiles on each side (and clamped to the world).
 */
export function tileWindow(bounds, z, margin = 0) {
  const n = 2 ** z;
  const clamp = (v) => Math.max(0, Math.min(n - 1, v));
  return {
    z,
    x: [clamp(tileX(bounds[0], z) - margin), clamp(tileX(bounds[2], z) + margin)],
    y: [clamp(tileY(bounds[3], z) - margin), clamp(tileY(bounds[1], z) + margin)],
  };
}
