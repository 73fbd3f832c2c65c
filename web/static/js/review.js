// Grid versions (issue 19): the draft review on the battle map. An admin
// picks a draft; its grids are drawn over the grids in force with the
// changed ones highlighted (drafts.js), and the preview's counts are
// listed: what activating it would move.

import {get} from './api.js';
import {$} from './dom.js';
import {draftLayers, draftChoices, changeCounts, draftSummary} from './drafts.js';
import {toast} from './toast.js';

export class DraftReview {
  constructor({map}) {
    this.map = map;
    this.shown = null;
    $('#draft-show').addEventListener('click', () => this.show($('#draft-select').value));
    $('#draft-hide').addEventListener('click', () => this.hide());
  }

  /** load fills the draft picker. */
  async load() {
    const body = await get('/v1/grid-versions');
    const select = $('#draft-select');
    select.replaceChildren();
    for (const c of draftChoices(body.versions)) {
      const o = document.createElement('option');
      o.value = c.id;
      o.textContent = c.label;
      select.append(o);
    }
    $('#draft-show').disabled = select.options.length === 0;
  }

  /** show draws draft id and lists its preview. */
  async show(id) {
    if (!id) return;
    try {
      const [fc, pv] = await Promise.all([get(`/v1/grid-versions/${id}/grids`), get(`/v1/grid-versions/${id}/preview`)]);
      this.hide();
      this.map.addSource('draft', {type: 'geojson', data: fc});
      for (const layer of draftLayers('draft')) this.map.addLayer(layer);
      this.shown = id;
      const counts = changeCounts(fc);
      const s = draftSummary(pv.preview);
      const out = $('#draft-summary');
      out.replaceChildren();
      const items = [Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', '), ...s.lines, ...s.blocking];
      for (const text of items) {
        const li = document.createElement('li');
        li.textContent = text;
        out.append(li);
      }
      out.dataset.canActivate = String(s.canActivate);
    } catch (err) {
      toast(`Could not show draft ${id}: ${err.message}`, 'error');
    }
  }

  hide() {
    if (!this.shown) return;
    for (const id of ['draft-removed', 'draft-line', 'draft-fill']) if (this.map.getLayer(id)) this.map.removeLayer(id);
    if (this.map.getSource('draft')) this.map.removeSource('draft');
    this.shown = null;
    $('#draft-summary').replaceChildren();
  }
}
