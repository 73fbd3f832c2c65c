// The map style: citygrid's vector tiles are the whole map (no base map).
// Grids are the base, coloured by their case load; cases on top, as
// clusters at low zoom and points from the server's point zoom; hotspots
// as H3 cells.

import {STATUSES, GI_CLASSES, PATTERNS, OVERDUE} from './model.js';

export const EMPTY = {type: 'FeatureCollection', features: []};

/** Layer ids by the toggle that shows them. */
export const LAYER_GROUPS = {
  grids: [], // the grid fill stays (it is the land); the toggle changes its colour

  cases: ['cases-halo', 'cases-points', 'cases-clusters', 'cases-cluster-count', 'cases-selected'],
  hotspots: ['hotspots-fill', 'hotspots-line'],
};

/** The fonts served by citygrid (web/fonts); CJK is drawn locally. */
const FONT = ['Go Regular'];
const FONT_MEDIUM = ['Go Medium'];
const FONT_BOLD = ['Go Bold'];

const statusColor = ['match', ['get', 'status'], ...STATUSES.flatMap((s) => [s.id, s.color]), '#888'];

/** LAND is the colour of the district where no case load is shown. */
export const LAND = '#fbfcfd';

/**
 * gridLoadColor colours grids by prop ('open' or 'overdue_now') with stops for
 * [0, max]; the district polygon under its streets stays land-coloured.
 * One fill layer draws both the land and the load: each extra fill layer
 * costs a software-rendered browser a noticeable part of a second.
 */
export function gridLoadColor(prop, max) {
  const ramp = prop === 'overdue_now'
    ? ['#fff5f0', '#fcbba1', '#fb6a4a', '#cb181d']
    : ['#f7fbff', '#c6dbef', '#6baed6', '#2171b5'];
  const m = Math.max(max, 4);
  return ['case', ['==', ['get', 'level'], 'district'], LAND, ['interpolate', ['linear'], ['to-number', ['get', prop], 0],
    0, ramp[0], m / 4, ramp[1], m / 2, ramp[2], m, ramp[3]]];
}

/** densityColor colours hotspot cells by cases per km², up to max. */
export function densityColor(max) {
  const m = Math.max(max, 10);
  return ['interpolate', ['linear'], ['to-number', ['get', 'density_km2'], 0],
    0, 'rgba(255,255,204,0)', m * 0.05, '#ffffcc', m * 0.25, '#fed976', m * 0.5, '#fd8d3c', m * 0.75, '#e31a1c', m, '#800026'];
}

export const giColor = ['match', ['get', 'gi_class'], ...GI_CLASSES.flatMap((c) => [c.id, c.color]), 'rgba(0,0,0,0)'];

export const patternColor = ['match', ['get', 'pattern'], ...PATTERNS.flatMap((p) => [p.id, p.color]), 'rgba(0,0,0,0)'];

/** changeColor is a diverging ramp on the change in case count, ±max. */
export function changeColor(max) {
  const m = Math.max(max, 2);
  return ['interpolate', ['linear'], ['to-number', ['get', 'change'], 0],
    -m, '#2166ac', -m / 3, '#92c5de', 0, 'rgba(247,247,247,0.15)', m / 3, '#f4a582', m, '#b2182b'];
}

/** clusterShort renders a cluster's count compactly (950, 1.2k, 34k). */
const clusterShort = ['case',
  ['>=', ['get', 'count'], 10000], ['concat', ['to-string', ['round', ['/', ['get', 'count'], 1000]]], 'k'],
  ['>=', ['get', 'count'], 1000], ['concat', ['to-string', ['/', ['round', ['/', ['get', 'count'], 100]], 10]], 'k'],
  ['to-string', ['get', 'count']]];

const isCluster = ['==', ['get', 'cluster'], true];

/**
 * buildStyle returns the style: tiles from the templates in urls, with the
 * zooms and bounds of the TileJSON tj; pointZoom (the catalogue's) is the
 * zoom from which the cases tiles hold single cases, where their circles
 * start to grow.
 */
export function buildStyle(origin, tj, urls, {pointZoom}) {
  const pz = pointZoom;
  const vector = (url) => ({type: 'vector', tiles: [url], minzoom: tj.minzoom, maxzoom: tj.maxzoom, bounds: tj.bounds});
  return {
    version: 8,
    name: 'citygrid battle map',
    glyphs: `${origin}/fonts/{fontstack}/{range}.pbf`,
    sources: {
      grids: vector(urls.grids),
      cases: vector(urls.cases),
      hotspots: vector(urls.hotspots),
      labels: {type: 'geojson', data: EMPTY},
      analysis: {type: 'geojson', data: EMPTY},
      draw: {type: 'geojson', data: EMPTY},
      marks: {type: 'geojson', data: EMPTY},
    },
    layers: [
      {id: 'background', type: 'background', paint: {'background-color': '#e9edf2'}},
      // The district's land: every grid, coloured by its case load.
      {id: 'grids-load', type: 'fill', source: 'grids', 'source-layer': 'grids',
        paint: {'fill-color': gridLoadColor('open', 100), 'fill-opacity': 0.62}},
      {id: 'hotspots-fill', type: 'fill', source: 'hotspots', 'source-layer': 'hotspots',
        layout: {visibility: 'none'},
        paint: {'fill-color': giColor, 'fill-opacity': 0.68}},
      {id: 'hotspots-line', type: 'line', source: 'hotspots', 'source-layer': 'hotspots',
        layout: {visibility: 'none'}, filter: ['!=', ['get', 'gi_class'], 'none'],
        paint: {'line-color': '#ffffff', 'line-width': 0.4, 'line-opacity': 0.6}},
      {id: 'analysis-fill', type: 'fill', source: 'analysis', layout: {visibility: 'none'},
        paint: {'fill-color': patternColor, 'fill-opacity': 0.72}},
      {id: 'analysis-line', type: 'line', source: 'analysis', layout: {visibility: 'none'},
        paint: {'line-color': '#ffffff', 'line-width': 0.5, 'line-opacity': 0.7}},
      {id: 'grids-line', type: 'line', source: 'grids', 'source-layer': 'grids',
        layout: {'line-join': 'round'},
        paint: {
          'line-color': ['match', ['get', 'level'], 'district', '#243447', 'street', '#3d5168', 'community', '#6b7f96', '#97a6b8'],
          'line-width': ['match', ['get', 'level'], 'district', 2.4, 'street', 1.5, 'community', 1, 0.6],
          'line-opacity': 0.85,
        }},
      {id: 'grids-selected', type: 'line', source: 'grids', 'source-layer': 'grids',
        filter: ['==', ['get', 'code'], ''],
        paint: {'line-color': '#0b7285', 'line-width': 3.5}},
      {id: 'draw-fill', type: 'fill', source: 'draw', filter: ['==', ['geometry-type'], 'Polygon'],
        paint: {'fill-color': '#0b7285', 'fill-opacity': 0.1}},
      {id: 'draw-line', type: 'line', source: 'draw',
        paint: {'line-color': '#0b7285', 'line-width': 2, 'line-dasharray': [2, 1.5]}},
      {id: 'draw-vertex', type: 'circle', source: 'draw', filter: ['==', ['geometry-type'], 'Point'],
        paint: {'circle-radius': 4, 'circle-color': '#ffffff', 'circle-stroke-color': '#0b7285', 'circle-stroke-width': 2}},
      // Cases. Below the point zoom the tiles hold clusters (one per H3 cell).
      {id: 'cases-clusters', type: 'circle', source: 'cases', 'source-layer': 'cases', filter: isCluster,
        paint: {
          'circle-radius': ['interpolate', ['linear'], ['sqrt', ['get', 'count']], 1, 5, 10, 12, 40, 22, 100, 30],
          'circle-color': ['interpolate', ['linear'], ['/', ['to-number', ['get', 'overdue_now'], 0], ['max', ['get', 'count'], 1]],
            0, '#3b6fd8', 0.5, '#8a5cc9', 0.9, '#d0443c'],
          'circle-opacity': 0.82,
          'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.2,
        }},
      {id: 'cases-cluster-count', type: 'symbol', source: 'cases', 'source-layer': 'cases',
        filter: ['all', isCluster, ['>=', ['get', 'count'], 2]],
        layout: {'text-field': clusterShort, 'text-font': FONT_BOLD, 'text-size': 11, 'text-allow-overlap': true, 'text-ignore-placement': true},
        paint: {'text-color': '#ffffff'}},
      {id: 'cases-halo', type: 'circle', source: 'cases', 'source-layer': 'cases',
        filter: ['all', ['!', isCluster], ['==', ['get', 'overdue_now'], true]],
        paint: {
          'circle-radius': ['interpolate', ['linear'], ['zoom'], pz, 7, pz + 4, 12],
          'circle-color': OVERDUE, 'circle-opacity': 0.16, 'circle-blur': 0.5,
        }},
      {id: 'cases-points', type: 'circle', source: 'cases', 'source-layer': 'cases', filter: ['!', isCluster],
        paint: {
          'circle-radius': ['interpolate', ['linear'], ['zoom'], pz, 4, pz + 2, 5.5, pz + 4, 8],
          'circle-color': statusColor,
          'circle-stroke-color': ['case', ['==', ['get', 'overdue_now'], true], OVERDUE, '#ffffff'],
          'circle-stroke-width': ['case', ['==', ['get', 'overdue_now'], true], 1.8, 1.2],
        }},
      {id: 'cases-selected', type: 'circle', source: 'cases', 'source-layer': 'cases',
        filter: ['==', ['id'], -1],
        paint: {'circle-radius': 12, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#0b7285', 'circle-stroke-width': 3}},
      {id: 'marks-pulse', type: 'circle', source: 'marks', filter: ['==', ['get', 'kind'], 'pulse'],
        paint: {'circle-radius': 16, 'circle-color': 'rgba(11,114,133,0.12)', 'circle-stroke-color': '#0b7285', 'circle-stroke-width': 2}},
      {id: 'marks-locate', type: 'circle', source: 'marks', filter: ['==', ['get', 'kind'], 'locate'],
        paint: {'circle-radius': 7, 'circle-color': '#0b7285', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 3}},
      // Labels from /v1/grids, one per grid at a point well inside it
      // (a polygon label from the tiles would repeat in every tile the
      // polygon crosses): streets and communities, and unit grids near the
      // view when zoomed in.
      {id: 'labels-street', type: 'symbol', source: 'labels', filter: ['==', ['get', 'level'], 'street'], maxzoom: 14,
        layout: {'text-field': ['get', 'name'], 'text-font': FONT_MEDIUM, 'text-size': ['interpolate', ['linear'], ['zoom'], 11, 12, 14, 15],
          'text-max-width': 8, 'text-padding': 4},
        paint: {'text-color': '#1f2d3d', 'text-halo-color': 'rgba(255,255,255,0.92)', 'text-halo-width': 1.6}},
      {id: 'labels-community', type: 'symbol', source: 'labels', filter: ['==', ['get', 'level'], 'community'], minzoom: 13, maxzoom: 16,
        layout: {'text-field': ['get', 'name'], 'text-font': FONT, 'text-size': 12, 'text-max-width': 7, 'text-padding': 3},
        paint: {'text-color': '#3d4f63', 'text-halo-color': 'rgba(255,255,255,0.9)', 'text-halo-width': 1.4}},
      {id: 'labels-grid', type: 'symbol', source: 'labels', filter: ['==', ['get', 'level'], 'grid'], minzoom: 16,
        layout: {'text-field': ['get', 'name'], 'text-font': FONT, 'text-size': 11, 'text-padding': 2},
        paint: {'text-color': '#5c6b7c', 'text-halo-color': 'rgba(255,255,255,0.85)', 'text-halo-width': 1.2}},
    ],
  };
}
