import {test} from 'node:test';
import assert from 'node:assert/strict';
import {viewWindows, expandRanges, staleTiles} from '../static/js/stale.js';

const ids = (tiles) => tiles.map((t) => `${t.z}/${t.x}/${t.y}`).sort();

test('viewWindows', async (t) => {
  const view = [120.36, 36.08, 120.37, 36.09]; // a street's worth of the demo district
  const cases = [
    {name: 'between zooms: the one below to the one above', zoom: 16.5, opt: {maxZoom: 18}, want: [15, 16, 17]},
    {name: 'a whole zoom', zoom: 14, opt: {maxZoom: 18}, want: [13, 14]},
    {name: 'overzoomed past the data', zoom: 19.5, opt: {maxZoom: 18}, want: [18]},
    {name: 'at the last data zoom', zoom: 18, opt: {maxZoom: 18}, want: [17, 18]},
    {name: 'not below the source minzoom', zoom: 0.3, opt: {minZoom: 0, maxZoom: 18}, want: [0, 1]},
    {name: 'a source minzoom above the map', zoom: 3, opt: {minZoom: 5, maxZoom: 18}, want: [5]},
  ];
  for (const c of cases) {
    await t.test(c.name, () => assert.deepEqual(viewWindows(view, c.zoom, c.opt).map((w) => w.z), c.want));
  }
  await t.test('grown by a tile', () => {
    const [w] = viewWindows([120.3655, 36.089, 120.3655, 36.089], 14, {maxZoom: 14, minZoom: 14});
    assert.deepEqual(w, {z: 14, x: [13668, 13670], y: [6427, 6429]});
  });
});

test('expandRanges', async (t) => {
  const windows = [{z: 14, x: [10, 12], y: [20, 22]}, {z: 15, x: [20, 25], y: [40, 45]}];
  const cases = [
    {name: 'inside the window', ranges: [{z: 14, x: [11, 11], y: [21, 21]}], want: ['14/11/21']},
    {name: 'cut to the window', ranges: [{z: 14, x: [0, 10], y: [22, 99]}], want: ['14/10/22']},
    {name: 'a district-wide range at a deep zoom stays small',
      ranges: [{z: 15, x: [0, 32767], y: [0, 32767]}], want: ids(Array.from({length: 36}, (_, i) => ({z: 15, x: 20 + (i % 6), y: 40 + Math.floor(i / 6)})))},
    {name: 'beside the window', ranges: [{z: 14, x: [13, 20], y: [20, 22]}], want: []},
    {name: 'a zoom not shown', ranges: [{z: 16, x: [40, 50], y: [80, 90]}], want: []},
    {name: 'overlapping ranges, once each', ranges: [{z: 14, x: [10, 11], y: [20, 20]}, {z: 14, x: [11, 12], y: [20, 20]}], want: ['14/10/20', '14/11/20', '14/12/20']},
    {name: 'inclusive ends', ranges: [{z: 14, x: [12, 12], y: [22, 22]}], want: ['14/12/22']},
    {name: 'none', ranges: [], want: []},
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual(ids(expandRanges(c.ranges, windows)), c.want));
  await t.test('keep drops ranges', () => {
    const got = expandRanges([{z: 14, x: [10, 10], y: [20, 20], level: 'street'}, {z: 14, x: [11, 11], y: [20, 20], level: 'grid'}], windows, (r) => r.level === 'grid');
    assert.deepEqual(ids(got), ['14/11/20']);
  });
});

test('staleTiles', async (t) => {
  const windows = [{z: 11, x: [1700, 1701], y: [800, 801]}, {z: 12, x: [3400, 3402], y: [1600, 1602]}];
  // As levels_by_zoom: district and streets to z11, communities z12–14, unit grids from z15.
  const levelsAt = (z) => (z <= 11 ? ['district', 'street'] : z <= 14 ? ['community'] : ['grid']);
  const opt = {sources: ['grids', 'cases', 'hotspots'], levelsAt};
  const one = {
    cases: [{z: 11, x: [1700, 1700], y: [800, 800]}, {z: 12, x: [3401, 3401], y: [1601, 1602]}, {z: 14, x: [13600, 13600], y: [6400, 6400]}],
    grids: [
      {z: 11, x: [1690, 1710], y: [790, 810], level: 'district'},
      {z: 11, x: [1701, 1701], y: [801, 801], level: 'community'},
      {z: 12, x: [3402, 3402], y: [1600, 1600], level: 'community'},
      {z: 12, x: [3400, 3400], y: [1600, 1600], level: 'street'},
    ],
    hotspots: 'all',
    battlemap: 'all',
  };
  const cases = [
    {name: 'one change', events: [one], want: {
      cases: ['11/1700/800', '12/3401/1601', '12/3401/1602'],
      grids: ['11/1700/800', '11/1700/801', '11/1701/800', '11/1701/801', '12/3402/1600'],
      hotspots: 'all'}},
    {name: 'a layer left out is fresh', events: [{cases: [{z: 12, x: [3400, 3400], y: [1600, 1600]}]}], want: {
      cases: ['12/3400/1600'], grids: [], hotspots: []}},
    {name: 'all for one event is all for the batch', events: [{cases: 'all'}, {cases: [{z: 12, x: [3400, 3400], y: [1600, 1600]}]}], want: {
      cases: 'all', grids: [], hotspots: []}},
    {name: 'events merge, once each', events: [
      {cases: [{z: 12, x: [3400, 3401], y: [1600, 1600]}]},
      {cases: [{z: 12, x: [3401, 3402], y: [1600, 1600]}]}], want: {
      cases: ['12/3400/1600', '12/3401/1600', '12/3402/1600'], grids: [], hotspots: []}},
    {name: 'an event without tiles: everything', events: [undefined], want: {cases: 'all', grids: 'all', hotspots: 'all'}},
    {name: 'a grids range without a level counts', events: [{grids: [{z: 12, x: [3400, 3400], y: [1600, 1600]}]}], want: {
      cases: [], grids: ['12/3400/1600'], hotspots: []}},
    {name: 'none', events: [], want: {cases: [], grids: [], hotspots: []}},
  ];
  const norm = (v) => (v === 'all' ? 'all' : ids(v));
  for (const c of cases) {
    await t.test(c.name, () => {
      const got = staleTiles(c.events, windows, opt);
      assert.deepEqual({cases: norm(got.cases), grids: norm(got.grids), hotspots: norm(got.hotspots)}, c.want);
    });
  }
  await t.test('only the sources asked for', () => {
    assert.deepEqual(Object.keys(staleTiles([one], windows, {sources: ['cases'], levelsAt})), ['cases']);
  });
});

