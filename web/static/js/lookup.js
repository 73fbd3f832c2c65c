// What a typed search or a click on the map means. Pure: no DOM, no
// MapLibre.

/**
 * parseSearch reads the search box: "#123", or digits that do not start
 * with the district's code, is a case; anything else a grid code. It
 * returns {kind: 'none'} for blank input, {kind: 'case', id}, {kind:
 * 'grid', code} or {kind: 'invalid', message}. Asking for one thing only
 * keeps a typed grid code from showing up as a missing case.
 */
export function parseSearch(input, districtCode = '') {
  const q = input.trim();
  if (!q) return {kind: 'none'};
  const digits = /^\d+$/.test(q);
  const isCase = q.startsWith('#') || (digits && !(districtCode && q.startsWith(districtCode)));
  if (!isCase) return {kind: 'grid', code: q};
  const id = q.replace(/^#/, '');
  if (!/^\d{1,18}$/.test(id)) return {kind: 'invalid', message: 'A case ID is a number, such as #1024.'};
  return {kind: 'case', id};
}

/** cleanCoordinate removes the spaces a pasted coordinate may carry. */
export function cleanCoordinate(s) {
  return s.trim().replace(/\s+/g, '');
}

/** nearest returns the item with the smallest distance(item), the first of equals; null for none. */
export function nearest(items, distance) {
  let best = null;
  let bestD = Infinity;
  for (const it of items) {
    const d = distance(it);
    if (d < bestD) {
      best = it;
      bestD = d;
    }
  }
  return best;
}

/** deepestGrid picks, of grid features under a click, the one whose properties.level comes last in order (the smallest grid). */
export function deepestGrid(features, order) {
  let best = null;
  for (const f of features) {
    if (!best || order.indexOf(f.properties.level) > order.indexOf(best.properties.level)) best = f;
  }
  return best;
}
