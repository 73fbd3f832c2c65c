// Fitting colour ramps to what is on screen. Pure: no DOM, no MapLibre.

/** niceCeil rounds v up to a round number for a legend (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten), at least 4. */
export function niceCeil(v) {
  if (v <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** quantile returns the value below which a share q of values lie (the lower one: no interpolation); 0 for none. */
export function quantile(values, q) {
  if (!values.length) return 0;
  const a = values.slice().sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.floor(q * a.length))];
}

/** quantileAbs is quantile of the absolute values. */
export function quantileAbs(values, q) {
  return quantile(values.map(Math.abs), q);
}

/**
 * rampLevel is the grid level the load ramp describes among the levels a
 * tile shows: the deepest in order (the district under its streets is
 * land, not load). Unknown levels count as deepest.
 */
export function rampLevel(levels, order) {
  let best = null;
  let rank = -1;
  for (const l of levels) {
    const i = order.indexOf(l);
    const r = i < 0 ? order.length : i;
    if (r > rank) {
      best = l;
      rank = r;
    }
  }
  return best;
}
