// Grid versions (issue 19): what the battle map draws and says of a draft
// reviewed against the grids in force. Pure: the DOM and map part is
// review.js.

/** CHANGE_COLOURS colour a draft's grids by what the diff says of them; unchanged ones are not filled. */
export const CHANGE_COLOURS = {
  added: '#2e9e44',
  reshaped: '#e08a00',
  renamed: '#3a6fd8',
  reassigned: '#7a4fd0',
  removed: '#d33a2c',
};

/** draftLayers are the MapLibre layers of the draft source: changed grids filled, every grid outlined, retired ones dashed. */
export function draftLayers(source) {
  const colour = ['match', ['get', 'change'], ...Object.entries(CHANGE_COLOURS).flat(), '#888888'];
  return [
    {id: 'draft-fill', type: 'fill', source, filter: ['!=', ['get', 'change'], 'unchanged'],
      paint: {'fill-color': colour, 'fill-opacity': 0.35}},
    {id: 'draft-line', type: 'line', source, filter: ['!=', ['get', 'change'], 'removed'],
      paint: {'line-color': colour, 'line-width': ['case', ['==', ['get', 'change'], 'unchanged'], 0.8, 2.5]}},
    {id: 'draft-removed', type: 'line', source, filter: ['==', ['get', 'change'], 'removed'],
      paint: {'line-color': CHANGE_COLOURS.removed, 'line-width': 2, 'line-dasharray': [2, 2]}},
  ];
}

/** draftChoices lists the versions one can review: drafts and the one scheduled, newest first. */
export function draftChoices(versions) {
  return versions
    .filter((v) => v.status === 'draft' || v.status === 'scheduled')
    .map((v) => ({id: v.id, label: `#${v.id} ${v.status}${v.note ? ` — ${v.note}` : ''}${v.rejected && v.rejected.length ? ` (${v.rejected.length} rejected)` : ''}`}));
}

/** changeCounts counts a draft's grids by change (the GeoJSON of /v1/grid-versions/{id}/grids). */
export function changeCounts(fc) {
  const out = {};
  for (const f of fc.features) {
    const c = f.properties.change;
    out[c] = (out[c] || 0) + 1;
  }
  return out;
}

/**
 * draftSummary turns a preview (/v1/grid-versions/{id}/preview's "preview")
 * into the lines the panel shows: how many open cases move, the unit and
 * street transfers (old → new), and what blocks activation.
 */
export function draftSummary(preview) {
  const lines = [`${preview.moved} of ${preview.open_cases} open cases change grid or unit`];
  for (const t of preview.unit_matrix) lines.push(`unit ${t.from || '—'} → ${t.to || '—'}: ${t.cases}`);
  for (const t of preview.street_matrix) lines.push(`street ${t.from || '—'} → ${t.to || '—'}: ${t.cases}`);
  const blocking = preview.blocking.map((r) => `${r.kind} ${r.name} still names ${r.code}, which has no successor`);
  return {lines, blocking, canActivate: blocking.length === 0};
}
