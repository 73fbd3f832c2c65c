// Drawing an area on the map: a box (press and drag) or a polygon (click
// the corners; double-click, Enter or a click on the first corner closes
// it; Backspace takes the last corner back; Escape cancels). Pointer events
// make it work with a mouse, a pen or a finger.

import {EMPTY} from './style.js';

export class Draw {
  /** onDone receives {kind: 'bbox', bbox} or {kind: 'polygon', polygon}. */
  constructor(map, {onDone, onModeChange}) {
    this.map = map;
    this.onDone = onDone;
    this.onModeChange = onModeChange;
    this.mode = null;
    this.start = null; // box: the first corner (LngLat)
    this.vertices = []; // polygon: [lng, lat] corners
    this.hover = null;
    this.quietUntil = 0;
    this.container = map.getCanvasContainer();
    this._down = this._down.bind(this);
    this._move = this._move.bind(this);
    this._up = this._up.bind(this);
    this._click = this._click.bind(this);
    this._dblclick = this._dblclick.bind(this);
    this._key = this._key.bind(this);
  }

  /** begin enters 'box' or 'polygon' mode (or leaves it, given the same mode again). */
  begin(mode) {
    const again = this.mode === mode;
    this.cancel();
    if (again) return;
    this.mode = mode;
    this.map.dragPan.disable();
    this.map.boxZoom.disable();
    this.map.doubleClickZoom.disable();
    this.container.classList.add('drawing');
    if (mode === 'box') {
      this.container.addEventListener('pointerdown', this._down);
    } else {
      this.container.addEventListener('pointermove', this._move);
      this.map.on('click', this._click);
      this.map.on('dblclick', this._dblclick);
    }
    window.addEventListener('keydown', this._key);
    this.onModeChange(mode);
  }

  /** cancel leaves drawing mode, keeping any finished shape on the map. */
  cancel() {
    if (!this.mode) return;
    this.container.removeEventListener('pointerdown', this._down);
    this.container.removeEventListener('pointermove', this._move);
    window.removeEventListener('pointermove', this._move);
    window.removeEventListener('pointerup', this._up);
    this.map.off('click', this._click);
    this.map.off('dblclick', this._dblclick);
    window.removeEventListener('keydown', this._key);
    this.container.classList.remove('drawing');
    this.map.dragPan.enable();
    this.map.boxZoom.enable();
    const wasDrawing = this.start || this.vertices.length;
    this.mode = null;
    this.start = null;
    this.vertices = [];
    if (wasDrawing) this.show(null);
    this.onModeChange(null);
  }

  /** clear removes the drawn shape. */
  clear() {
    this.cancel();
    this.show(null);
  }

  /**
   * isActive tells whether clicks on the map belong to drawing: while a
   * mode is on, and for the click that the browser sends right after a box
   * was dragged.
   */
  isActive() {
    return this.mode !== null || performance.now() < this.quietUntil;
  }

  show(features) {
    this.map.getSource('draw').setData(features ? {type: 'FeatureCollection', features} : EMPTY);
  }

  _lngLat(ev) {
    const r = this.map.getCanvas().getBoundingClientRect();
    return this.map.unproject([ev.clientX - r.left, ev.clientY - r.top]);
  }

  _down(ev) {
    if (ev.button !== 0) return;
    ev.preventDefault();
    this.start = this._lngLat(ev);
    window.addEventListener('pointermove', this._move);
    window.addEventListener('pointerup', this._up);
  }

  _move(ev) {
    const p = this._lngLat(ev);
    if (this.mode === 'box' && this.start) {
      this.show([boxFeature(this.start, p)]);
    } else if (this.mode === 'polygon' && this.vertices.length) {
      this.hover = [p.lng, p.lat];
      this._showPolygon();
    }
  }

  _up(ev) {
    window.removeEventListener('pointermove', this._move);
    window.removeEventListener('pointerup', this._up);
    this.quietUntil = performance.now() + 400;
    const a = this.start;
    const b = this._lngLat(ev);
    this.start = null;
    const pa = this.map.project(a);
    const pb = this.map.project(b);
    if (Math.abs(pa.x - pb.x) < 4 || Math.abs(pa.y - pb.y) < 4) {
      this.show(null); // a click, not a box
      return;
    }
    const bbox = [Math.min(a.lng, b.lng), Math.min(a.lat, b.lat), Math.max(a.lng, b.lng), Math.max(a.lat, b.lat)];
    this.show([boxFeature(a, b)]);
    this.cancel();
    this.show([boxFeature(a, b)]);
    this.onDone({kind: 'bbox', bbox});
  }

  _click(e) {
    const p = [e.lngLat.lng, e.lngLat.lat];
    if (this.vertices.length >= 3) {
      const first = this.map.project(this.vertices[0]);
      if (Math.hypot(first.x - e.point.x, first.y - e.point.y) < 10) {
        this._finish();
        return;
      }
    }
    const last = this.vertices[this.vertices.length - 1];
    if (last && last[0] === p[0] && last[1] === p[1]) return;
    this.vertices.push(p);
    this._showPolygon();
  }

  _dblclick(e) {
    e.preventDefault();
    this._finish();
  }

  _key(ev) {
    if (ev.key === 'Escape') {
      this.clear();
    } else if (this.mode === 'polygon' && ev.key === 'Enter') {
      ev.preventDefault();
      this._finish();
    } else if (this.mode === 'polygon' && ev.key === 'Backspace' && !/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) {
      ev.preventDefault();
      this.vertices.pop();
      this._showPolygon();
    }
  }

  _showPolygon() {
    const pts = this.hover ? [...this.vertices, this.hover] : this.vertices;
    const features = this.vertices.map((v) => ({type: 'Feature', properties: {}, geometry: {type: 'Point', coordinates: v}}));
    if (pts.length >= 2) features.push({type: 'Feature', properties: {}, geometry: {type: 'LineString', coordinates: pts.length >= 3 ? [...pts, pts[0]] : pts}});
    if (pts.length >= 3) features.push({type: 'Feature', properties: {}, geometry: {type: 'Polygon', coordinates: [[...pts, pts[0]]]}});
    this.show(features);
  }

  _finish() {
    // A double-click also clicked twice: drop repeated corners.
    const v = this.vertices.filter((p, i, a) => i === 0 || p[0] !== a[i - 1][0] || p[1] !== a[i - 1][1]);
    if (v.length < 3) return;
    const ring = [...v, v[0]];
    const polygon = {type: 'Polygon', coordinates: [ring]};
    this.hover = null;
    this.cancel();
    this.show([{type: 'Feature', properties: {}, geometry: polygon}]);
    this.onDone({kind: 'polygon', polygon});
  }
}

function boxFeature(a, b) {
  const [x0, x1] = [Math.min(a.lng, b.lng), Math.max(a.lng, b.lng)];
  const [y0, y1] = [Math.min(a.lat, b.lat), Math.max(a.lat, b.lat)];
  return {type: 'Feature', properties: {}, geometry: {type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}};
}
