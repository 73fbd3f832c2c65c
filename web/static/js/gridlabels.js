// Grid names on the map, from /v1/grids: streets and communities once,
// unit grids around the view when zoomed in far enough to read them. Also
// fills the page's table of grids by code (for the indicators and the
// planner's zoom to the district).

import {get} from './api.js';
import {$, debounce} from './dom.js';
import {query} from './params.js';
import {toastOnce} from './toast.js';
import {gridLabel, shortGridName, covered, around} from './placement.js';

/** UNIT_LABEL_ZOOM is the zoom from which unit grids are labelled (the labels-grid layer's minzoom). */
const UNIT_LABEL_ZOOM = 16;

export class GridLabels {
  /** map is the MapLibre map; data the reference data, whose gridByCode and district loadNames fills. */
  constructor(map, data) {
    this.map = map;
    this.data = data;
    this.areaLabels = [];
    this.unitLabels = new Map(); // unit grid code → label feature
    this.unitAreas = []; // bboxes whose unit grids are in unitLabels
    /** loadNear fetches the unit grids around the view, when zoomed in enough to label them. */
    this.loadNear = debounce(() => this.loadUnitGrids(), 250);
  }

  /** loadNames fetches the district, its streets and communities, and labels the streets and communities. */
  async loadNames() {
    const levels = ['district', 'street', 'community'];
    const results = await Promise.all(levels.map((l) => get(`/v1/grids?level=${l}&limit=10000`)));
    const data = this.data;
    const labels = [];
    results.forEach((fc, i) => {
      for (const f of fc.features) {
        const p = f.properties;
        data.gridByCode[p.code] = {code: p.code, name: p.name, level: p.level, geometry: f.geometry};
        if (levels[i] !== 'district') labels.push(gridLabel(f));
        else if (!data.district) data.district = p;
      }
    });
    if (data.district) {
      $('#district-name').textContent = data.district.name;
      document.title = `${data.district.name} · Battle map · citygrid`;
    }
    this.areaLabels = labels;
    this.show();
  }

  show() {
    this.map.getSource('labels').setData({type: 'FeatureCollection', features: [...this.areaLabels, ...this.unitLabels.values()]});
  }

  async loadUnitGrids() {
    const map = this.map;
    if (map.getZoom() < UNIT_LABEL_ZOOM) return;
    const b = map.getBounds();
    const view = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
    if (covered(this.unitAreas, view)) return;
    const bbox = around(view);
    try {
      const fc = await get(`/v1/grids?${query({level: 'grid', bbox: bbox.map((v) => v.toFixed(6)).join(','), limit: 5000})}`);
      for (const f of fc.features) {
        if (!this.unitLabels.has(f.properties.code)) this.unitLabels.set(f.properties.code, gridLabel(f, shortGridName(f.properties.name)));
      }
      this.unitAreas.push(bbox);
      this.show();
    } catch (err) {
      toastOnce(`Unit grid names could not be loaded: ${err.message}`);
    }
  }
}
