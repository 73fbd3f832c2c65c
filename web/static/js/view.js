// The map as the rest of the page moves and marks it: selection outlines,
// flying to a point or a geometry beside the panel, the located point and
// live pulses, layer visibility, and counts read from loaded grid tiles.

import {EMPTY} from './style.js';
import {bboxOf} from './geometry.js';

/** NARROW is the widest window, in CSS pixels, in which the panel is a bottom sheet (as in app.css). */
const NARROW = 820;

export class MapView {
  /** map is the MapLibre map; panelEl the panel element, whose size decides where the map centres things. */
  constructor(map, panelEl) {
    this.map = map;
    this.panelEl = panelEl;
    this.located = null; // [lng, lat] of the located point, or null
    this.pulses = []; // {at: [lng, lat]} of recent live changes
  }

  /** select outlines case caseId and grid code grid (null: neither). */
  select({caseId = null, grid = null} = {}) {
    this.map.setFilter('cases-selected', ['==', ['id'], caseId === null ? -1 : Number(caseId)]);
    this.map.setFilter('grids-selected', ['==', ['get', 'code'], grid || '']);
  }

  /** panelInset is how much of the map's right side the panel covers (0 when it is a bottom sheet or closed). */
  panelInset() {
    return !this.panelEl.hidden && window.innerWidth > NARROW ? this.panelEl.offsetWidth + 24 : 0;
  }

  /** sheetInset is how much of the map's bottom the panel covers when it is a bottom sheet. */
  sheetInset() {
    return !this.panelEl.hidden && window.innerWidth <= NARROW ? this.panelEl.offsetHeight : 0;
  }

  /** flyToPoint centres [lng, lat] in the part of the map the panel leaves free, zooming in to at least zoom. */
  flyToPoint(coords, zoom = 17) {
    this.map.flyTo({center: coords, zoom: Math.max(this.map.getZoom(), zoom),
      offset: [-this.panelInset() / 2, -this.sheetInset() / 2], speed: 1.6, essential: true});
  }

  /** fitGeometry fits a GeoJSON geometry into the part of the map the panel leaves free. */
  fitGeometry(geometry) {
    const b = bboxOf(geometry);
    const right = Math.max(40, this.panelInset() + 20);
    const bottom = Math.max(40, this.sheetInset() + 20);
    this.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], {padding: {top: 60, bottom, left: 40, right}, maxZoom: 17.5, essential: true});
  }

  /** markLocation shows a located point on the map (null removes it). */
  markLocation(point) {
    if (!point && !this.located) return;
    this.located = point;
    this.showMarks();
  }

  /** pulse rings [lng, lat] for ms: where a live change happened. */
  pulse(at, ms = 5000) {
    const p = {at};
    this.pulses.push(p);
    this.showMarks();
    setTimeout(() => {
      this.pulses = this.pulses.filter((x) => x !== p);
      this.showMarks();
    }, ms);
  }

  showMarks() {
    const features = [];
    if (this.located) features.push({type: 'Feature', properties: {kind: 'locate'}, geometry: {type: 'Point', coordinates: this.located}});
    for (const p of this.pulses) features.push({type: 'Feature', properties: {kind: 'pulse'}, geometry: {type: 'Point', coordinates: p.at}});
    const src = this.map.getSource('marks');
    if (src) src.setData(features.length ? {type: 'FeatureCollection', features} : EMPTY);
  }

  /**
   * setVisible shows or hides a style layer. It touches the style only for
   * a real change: setting a layout property makes MapLibre lay the
   * source's tiles out again.
   */
  setVisible(id, on) {
    const want = on ? 'visible' : 'none';
    if ((this.map.getLayoutProperty(id, 'visibility') || 'visible') !== want) this.map.setLayoutProperty(id, 'visibility', want);
  }

  /** visible tells whether a style layer is shown. */
  visible(id) {
    return this.map.getLayoutProperty(id, 'visibility') !== 'none';
  }

  /** gridCounts returns the properties (open, overdue_now, …) of grid code in the loaded tiles, or null when it is not drawn. */
  gridCounts(code) {
    const f = this.map.querySourceFeatures('grids', {sourceLayer: 'grids', filter: ['==', ['get', 'code'], code]})[0];
    return f ? f.properties : null;
  }
}
