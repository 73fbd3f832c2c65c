// Creating the MapLibre map, its controls and drawing tools, and telling
// the person when map data fails or is loading.

import {$} from './dom.js';
import {currentKey, keyRefused} from './api.js';
import {signedRequest} from './auth.js';
import {toastOnce} from './toast.js';
import {Draw} from './draw.js';

const CJK_FONTS = "'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";

/**
 * createMap makes the map in #map with style, fitted to bounds [west,
 * south, east, north] (the district's, from TileJSON) with room around
 * them for the panels. metrics.tileRequests counts tile requests. Tile
 * requests carry the page's API key as a header (transformRequest); a
 * refused key signs the page out.
 */
export function createMap({style, bounds: b, metrics}) {
  const pad = Math.max(b[2] - b[0], b[3] - b[1]) * 1.5; // room for the panels beside the district
  const map = new maplibregl.Map({
    container: 'map',
    style,
    bounds: [[b[0], b[1]], [b[2], b[3]]],
    fitBoundsOptions: {padding: 24},
    maxBounds: [[b[0] - pad, b[1] - pad], [b[2] + pad, b[3] + pad]],
    maxZoom: 19.5,
    localIdeographFontFamily: CJK_FONTS,
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    cooperativeGestures: false,
    fadeDuration: 0, // labels appear at once, and the map is idle sooner
    transformRequest: (url, type) => {
      if (type === 'Tile') metrics.tileRequests++;
      return signedRequest(url, window.location.origin, currentKey());
    },
  });
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new maplibregl.NavigationControl({showCompass: false}), 'top-right');
  map.addControl(new maplibregl.ScaleControl({maxWidth: 120, unit: 'metric'}), 'bottom-left');
  map.on('error', (e) => {
    const err = e.error || {};
    if (err.status === 401) {
      keyRefused('The server refused the API key for the map tiles.');
      return;
    }
    const src = e.sourceId ? ` (${e.sourceId})` : '';
    let words = err.message || 'unknown error';
    if (err.status) words = `the server answered HTTP ${err.status}`;
    toastOnce(`Map data${src} could not be loaded: ${words}`);
  });
  return map;
}

/**
 * setupDrawTools wires the box, polygon and clear buttons to a Draw tool on
 * map and returns it. onDone(area) receives a finished box or polygon;
 * onClear() hears the clear button.
 */
export function setupDrawTools(map, {onDone, onClear}) {
  const draw = new Draw(map, {
    onDone,
    onModeChange: (mode) => {
      $('#tool-box').setAttribute('aria-pressed', String(mode === 'box'));
      $('#tool-polygon').setAttribute('aria-pressed', String(mode === 'polygon'));
      const hint = $('#draw-hint');
      hint.hidden = !mode;
      hint.textContent = mode === 'box' ? 'Press and drag to draw a box. Esc cancels.'
        : mode === 'polygon' ? 'Click the corners; double-click, Enter or a click on the first corner finishes. Backspace undoes, Esc cancels.' : '';
    },
  });
  $('#tool-box').addEventListener('click', () => draw.begin('box'));
  $('#tool-polygon').addEventListener('click', () => draw.begin('polygon'));
  $('#tool-clear').addEventListener('click', () => {
    draw.clear();
    onClear();
  });
  return draw;
}

/** setMapStatus shows words over the map (empty: hides it). */
export function setMapStatus(words) {
  const el = $('#map-status');
  el.textContent = words;
  el.hidden = !words;
}
