// The battle map's pain-point projects and disputed cases (issue 17): the
// projects layer (vector tiles of areas coloured by status, late ones
// outlined red, the leader's name), the project panel (milestones, progress,
// linked cases), and the disputed cases as a map layer and a list in the
// sidebar, refreshed whenever the map reloads case tiles (a live change).

import {get, request} from './api.js';
import {h, fill, $, debounce} from './dom.js';
import {toast} from './toast.js';
import {projectFill, projectOutline, projectLabelExpr, projectsTileURL, milestoneRows, progressWords, leaderWords, disputeRows, yuan, STATUS_WORDS, LATE_COLOR} from './projectmodel.js';

const FONT = ['Go Regular'];

/** DISPUTE_COLOR marks disputed cases on the map. */
const DISPUTE_COLOR = '#7b2cbf';

export class Projects {
  /**
   * map is the MapLibre map; panel the Panel; origin the API's origin;
   * me the page's identity (permissions); data the reference data
   * (unitByCode); openCase(id) opens a case in the panel.
   */
  constructor({map, panel, origin, me, data, openCase}) {
    Object.assign(this, {map, panel, origin, data, openCase});
    this.canRead = me.permissions.has('projects.read');
    this.canDispute = me.permissions.has('disputes.manage');
    this.disputes = {type: 'FeatureCollection', features: []};
    this.refreshDisputes = debounce(() => this.loadDisputes(), 300);
  }

  /** addLayers puts the projects and disputes layers on the map (after its style loaded). */
  addLayers() {
    const map = this.map;
    if (this.canRead) {
      map.addSource('projects', {type: 'vector', tiles: [projectsTileURL(this.origin)], minzoom: 10, maxzoom: 18});
      map.addLayer({id: 'projects-fill', type: 'fill', source: 'projects', 'source-layer': 'projects',
        paint: {'fill-color': projectFill(), 'fill-opacity': 0.22}});
      map.addLayer({id: 'projects-line', type: 'line', source: 'projects', 'source-layer': 'projects',
        paint: {'line-color': projectOutline(), 'line-width': ['case', ['==', ['get', 'late'], true], 3.5, 1.8],
          'line-dasharray': ['case', ['==', ['get', 'status'], 'suspended'], ['literal', [2, 2]], ['literal', [1, 0]]]}});
      map.addLayer({id: 'projects-label', type: 'symbol', source: 'projects', 'source-layer': 'projects', minzoom: 13,
        layout: {'text-field': projectLabelExpr(), 'text-font': FONT, 'text-size': 12, 'text-max-width': 10},
        paint: {'text-color': ['case', ['==', ['get', 'late'], true], LATE_COLOR, '#1f2d3d'], 'text-halo-color': '#ffffff', 'text-halo-width': 1.6}});
    }
    if (this.canDispute) {
      map.addSource('disputes', {type: 'geojson', data: this.disputes});
      map.addLayer({id: 'disputes-points', type: 'circle', source: 'disputes',
        paint: {'circle-radius': 7, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': DISPUTE_COLOR, 'circle-stroke-width': 3}});
      // A live change reloads case tiles: the disputes may have changed too.
      map.on('sourcedata', (e) => { if (e.sourceId === 'cases' && e.tile) this.refreshDisputes(); });
      this.loadDisputes();
    }
    $('#projects-section').hidden = !this.canRead && !this.canDispute;
    $('#disputes-box').hidden = !this.canDispute;
  }

  /** click opens the project or disputed case under the pointer; it reports whether it did. */
  click(e) {
    const layers = ['disputes-points', 'projects-fill'].filter((id) => this.map.getLayer(id));
    if (!layers.length) return false;
    const hits = this.map.queryRenderedFeatures(e.point, {layers});
    const d = hits.find((f) => f.layer.id === 'disputes-points');
    if (d) {
      this.openCase(d.properties.id);
      return true;
    }
    const p = hits.find((f) => f.layer.id === 'projects-fill');
    if (p) {
      this.openProject(p.properties.id);
      return true;
    }
    return false;
  }

  /** loadDisputes fetches the disputed cases into the map layer and the list. */
  async loadDisputes() {
    try {
      this.disputes = await get('/v1/disputes');
    } catch (err) {
      toast(`Could not load the disputed cases: ${err.message}`, 'error');
      return;
    }
    const src = this.map.getSource('disputes');
    if (src) src.setData(this.disputes);
    this.renderDisputes();
  }

  renderDisputes() {
    const rows = disputeRows(this.disputes);
    const total = this.disputes.total ?? rows.length;
    $('#disputes-count').textContent = String(total);
    fill($('#disputes-list'), rows.length
      ? rows.map((r) => h('li', {dataset: {id: r.id}},
        h('button.link', {type: 'button', onclick: () => this.openCase(r.id)}, `#${r.id} ${r.category}`),
        h('span.muted.small', ` ${r.reasons.join(' · ')}${r.candidates.length > 1 ? ` (${r.candidates.join(' / ')})` : ''}`)))
      : [h('li.muted.small.empty', 'No disputed cases.')]);
  }

  /** openProject shows a project in the panel: status, leader, plan, progress, milestones, linked cases. */
  async openProject(id, opts = {}) {
    const panel = this.panel;
    const token = panel.open('project', id, `Project #${id}`, (o) => this.openProject(id, o), {push: !!opts.push});
    let p;
    let linked;
    try {
      [p, linked] = await Promise.all([get(`/v1/projects/${id}`), get(`/v1/projects/${id}/cases?limit=50`)]);
    } catch (err) {
      panel.fail(token, err);
      return;
    }
    const unit = (code) => (this.data.unitByCode[code] ? this.data.unitByCode[code].name : code);
    const milestones = milestoneRows(p.milestones);
    const body = h('div.project',
      h('p', h(`span.badge.status-${p.status}`, STATUS_WORDS[p.status] || p.status),
        p.late ? h('strong.late-mark', {style: {color: LATE_COLOR}}, ` ⚠ ${p.late_milestones} late milestone${p.late_milestones === 1 ? '' : 's'}`) : ''),
      h('dl.facts',
        h('dt', 'Leader (包片)'), h('dd.project-leader', leaderWords(p.leader, unit(p.leader.unit))),
        h('dt', 'Units'), h('dd', p.units.map(unit).join(', ') || '—'),
        h('dt', 'Deadline'), h('dd', p.deadline),
        h('dt', 'Budget'), h('dd', `${yuan(p.budget.amount_cny)}${p.budget.source ? `, ${p.budget.source}` : ''}`)),
      p.plan ? h('p.plan', p.plan) : '',
      h('h3', 'Progress'),
      h('ul.project-progress', progressWords(p.progress).map((w) => h('li', w))),
      h('h3', '倒排工期 Milestones'),
      h('ol.milestones', milestones.map((m) => h('li', {dataset: {state: m.state}},
        h('strong', m.name), ` ${m.span} · ${m.days} · `, h(`span.ms-${m.state}`, m.words)))),
      h('h3', `Linked cases (${linked.total})`),
      h('ul.linked-cases', linked.features.length
        ? linked.features.map((f) => h('li', h('button.link', {type: 'button', onclick: () => this.openCase(f.properties.id)},
          `#${f.properties.id} ${f.properties.category} · ${f.properties.status}${f.properties.manual ? ' · linked by hand' : ''}`)))
        : [h('li.muted.small', 'No cases in its area and categories yet.')]));
    panel.show(token, body, `${p.name} · ${p.kind || ''}`);
  }

  /** settle assigns a disputed case its owner (used by the list's actions and tests). */
  async settle(id, unit, note) {
    await request(`/v1/disputes/${id}/settle`, {json: {unit, note}});
    await this.loadDisputes();
  }
}
