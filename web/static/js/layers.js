// The sidebar's layers: which layers show, what colours grids and hotspots,
// the legends, and the planner's choice of analysis. Ramps follow what is
// on screen; which grid level a tile shows at a zoom is the server's
// (levels_by_zoom in the tile catalogue).

import {h, fill, $, fmtInt} from './dom.js';
import {GI_CLASSES, LEVEL_ORDER} from './model.js';
import {LAYER_GROUPS, LAND, gridLoadColor, densityColor, giColor} from './style.js';
import {levelsAt} from './rules.js';
import {niceCeil, quantile, rampLevel} from './ramps.js';

export class LayerControls {
  /**
   * map is the MapLibre map; view the MapView; state the page state
   * (layers, modeLayers, mode, gridFill, hotspotBy, analysis, res, k, step,
   * ramps); tiles {levelsByZoom, maxZoom} say which grid level a tile at a
   * zoom shows; onAnalysis() reloads the planner's analysis; onHotspotParams()
   * hears a new resolution or neighbourhood; onStats() opens the indicators.
   */
  constructor({map, view, state, tiles, onAnalysis, onHotspotParams, onStats}) {
    this.map = map;
    this.view = view;
    this.state = state;
    this.tiles = tiles;
    this.onAnalysis = onAnalysis;
    for (const name of Object.keys(LAYER_GROUPS)) {
      $(`#layer-${name}`).addEventListener('change', (e) => this.setLayer(name, e.target.checked));
    }
    radio('#grid-fill', (v) => { state.gridFill = v; state.ramps.grids = 0; this.updateRamps(true); });
    radio('#hotspot-by', (v) => { state.hotspotBy = v; this.applyHotspotStyle(); });
    radio('#analysis-mode', (v) => { state.analysis = v; this.applyAnalysisMode(); });
    // Resolution and neighbourhood change the hotspots, not the cases.
    $('#analysis-res').addEventListener('change', (e) => { state.res = e.target.value; onHotspotParams(); });
    $('#analysis-k').addEventListener('change', (e) => { state.k = Number(e.target.value); onHotspotParams(); });
    $('#analysis-step').addEventListener('change', (e) => { state.step = e.target.value; onAnalysis(); });
    $('#open-stats').addEventListener('click', () => onStats());
  }

  /** describePointZoom puts the server's point zoom into the cases legend. */
  describePointZoom(pointZoom) {
    const sym = $('.layer[data-layer="cases"] .sym-cluster');
    if (sym) fill(sym.parentElement, sym, `Below zoom ${pointZoom}: clusters, size by count, red as the overdue share grows`);
  }

  /** setLayer switches a layer group on or off, and remembers it for the current view. */
  setLayer(name, on) {
    const state = this.state;
    state.layers[name] = on;
    state.modeLayers[state.mode][name] = on;
    $(`#layer-${name}`).checked = on;
    for (const id of LAYER_GROUPS[name]) this.view.setVisible(id, on);
    if (name === 'grids') this.applyGridFill();
    document.querySelector(`.layer[data-layer="${name}"]`).classList.toggle('off', !on);
  }

  /** applyGridFill colours the grids by their load, or plainly when the load is switched off. */
  applyGridFill() {
    const state = this.state;
    this.map.setPaintProperty('grids-load', 'fill-color', state.layers.grids ? gridLoadColor(state.gridFill, state.ramps.grids || 100) : LAND);
  }

  applyHotspotStyle() {
    const {map, state} = this;
    if (state.hotspotBy === 'gi') {
      map.setPaintProperty('hotspots-fill', 'fill-color', giColor);
      map.setFilter('hotspots-fill', null);
    } else {
      map.setPaintProperty('hotspots-fill', 'fill-color', densityColor(state.ramps.density || 1000));
      map.setFilter('hotspots-fill', ['>', ['to-number', ['get', 'count'], 0], 0]);
    }
    setRadio('#hotspot-by', state.hotspotBy);
    this.renderHotspotLegend();
  }

  renderHotspotLegend() {
    const box = $('#hotspot-legend');
    if (this.state.hotspotBy === 'gi') {
      fill(box, h('ul.legend.compact', GI_CLASSES.filter((c) => c.id !== 'none').map((c) => h('li', h('span.swatch', {style: {background: c.color}, 'aria-hidden': 'true'}), c.label))),
        h('p.muted.small', 'Getis-Ord Gi* over H3 neighbourhoods, with the false discovery rate controlled.'));
    } else {
      const m = this.state.ramps.density || 0;
      fill(box, h('div.legend-ramp.density', {'aria-hidden': 'true'}),
        h('div.legend-scale', h('span', '0'), h('span', m ? `${fmtInt(m / 2)}` : ''), h('span', m ? `${fmtInt(m)}+ cases/km²` : 'cases/km²')));
    }
  }

  /** applyAnalysisMode shows the planner's chosen analysis. */
  applyAnalysisMode() {
    const state = this.state;
    const a = state.analysis;
    setRadio('#analysis-mode', a);
    const tiles = a === 'gi' || a === 'density';
    if (tiles) {
      state.hotspotBy = a;
      this.applyHotspotStyle();
    }
    if (state.mode === 'plan') {
      this.setLayer('hotspots', tiles);
      for (const id of ['analysis-fill', 'analysis-line']) this.view.setVisible(id, !tiles);
    }
    this.onAnalysis();
  }

  /** updateRamps fits the colour ramps to what is on screen (the 95th percentile). */
  updateRamps(force = false) {
    const {map, state} = this;
    if (!map.isStyleLoaded()) return;
    // The tiles drawn are at the map's zoom rounded (MapLibre's rule for vector tiles), overzoomed past the data's last zoom.
    const z = Math.min(this.tiles.maxZoom, Math.round(map.getZoom()));
    const level = rampLevel(levelsAt(this.tiles.levelsByZoom, z), LEVEL_ORDER);
    const prop = state.gridFill;
    const vals = level ? map.querySourceFeatures('grids', {sourceLayer: 'grids', filter: ['==', ['get', 'level'], level]}).map((f) => Number(f.properties[prop]) || 0) : [];
    if (vals.length) {
      const m = niceCeil(quantile(vals, 0.95));
      if (force || m !== state.ramps.grids) {
        state.ramps.grids = m;
        this.applyGridFill();
        $('#grids-ramp').className = `legend-ramp ${prop}`;
        fill($('#grids-scale'), h('span', '0'), h('span', fmtInt(m / 2)), h('span', `${fmtInt(m)}+ ${prop === 'open' ? 'open' : 'overdue'} per ${level === 'grid' ? 'unit grid' : level}`));
      }
    }
    if (state.layers.hotspots && state.hotspotBy === 'density') {
      const d = map.querySourceFeatures('hotspots', {sourceLayer: 'hotspots'}).map((f) => Number(f.properties.density_km2) || 0).filter((v) => v > 0);
      if (d.length) {
        const m = niceCeil(quantile(d, 0.97));
        if (m !== state.ramps.density) {
          state.ramps.density = m;
          map.setPaintProperty('hotspots-fill', 'fill-color', densityColor(m));
          this.renderHotspotLegend();
        }
      }
    }
  }
}

/** radio wires a segmented control of role=radio buttons: click or arrow keys choose. */
export function radio(sel, onChange) {
  const buttons = [...$(sel).querySelectorAll('[role=radio]')];
  const choose = (btn) => {
    buttons.forEach((b) => b.setAttribute('aria-checked', String(b === btn)));
    onChange(btn.dataset.value);
  };
  buttons.forEach((b, i) => {
    b.addEventListener('click', () => choose(b));
    b.addEventListener('keydown', (e) => {
      const d = e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -1 : 0;
      if (!d) return;
      e.preventDefault();
      const next = buttons[(i + d + buttons.length) % buttons.length];
      next.focus();
      choose(next);
    });
  });
}

/** setRadio checks the button of a segmented control whose data-value is value. */
export function setRadio(sel, value) {
  for (const b of document.querySelectorAll(`${sel} [role=radio]`)) b.setAttribute('aria-checked', String(b.dataset.value === value));
}
