import {test} from 'node:test';
import assert from 'node:assert/strict';
import {buildStyle} from '../static/js/style.js';

const tj = {minzoom: 0, maxzoom: 18, bounds: [120.3, 36.0, 120.4, 36.1]};
const urls = {grids: 'g', cases: 'c', hotspots: 'h'};
const layer = (style, id) => style.layers.find((l) => l.id === id);
const zoomStops = (expr) => expr.slice(3).filter((_, i) => i % 2 === 0);

test('buildStyle', async (t) => {
  for (const pz of [12, 14, 16]) {
    await t.test(`case circles grow from the point zoom ${pz}`, () => {
      const s = buildStyle('http://x', tj, urls, {pointZoom: pz});
      assert.deepEqual(zoomStops(layer(s, 'cases-points').paint['circle-radius']), [pz, pz + 2, pz + 4]);
      assert.deepEqual(zoomStops(layer(s, 'cases-halo').paint['circle-radius']), [pz, pz + 4]);
    });
  }
  await t.test('the sources use the TileJSON zooms and bounds and the given templates', () => {
    const s = buildStyle('http://x', tj, urls, {pointZoom: 14});
    for (const [id, url] of Object.entries(urls)) {
      assert.deepEqual(s.sources[id], {type: 'vector', tiles: [url], minzoom: 0, maxzoom: 18, bounds: tj.bounds});
    }
    assert.equal(s.glyphs, 'http://x/fonts/{fontstack}/{range}.pbf');
  });
  await t.test('layer ids are unique', () => {
    const ids = buildStyle('http://x', tj, urls, {pointZoom: 14}).layers.map((l) => l.id);
    assert.equal(new Set(ids).size, ids.length);
  });
});
