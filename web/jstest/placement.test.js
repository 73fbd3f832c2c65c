import {test} from 'node:test';
import assert from 'node:assert/strict';
import {labelPoint, shortGridName, gridLabel, covered, around} from '../static/js/placement.js';
import {pointInPolygon, edgeDistance} from '../static/js/geometry.js';

const poly = (...rings) => ({type: 'Polygon', coordinates: rings});
const square = [[120, 36], [120.01, 36], [120.01, 36.01], [120, 36.01], [120, 36]];
// An L: a wide bottom bar and a tall left bar; its bounding box's centre is outside it.
const ell = [[120, 36], [120.03, 36], [120.03, 36.01], [120.01, 36.01], [120.01, 36.03], [120, 36.03], [120, 36]];
// A U opening north: the centre of the box is in the gap.
const u = [[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3], [0, 0]];
// A ring with a hole in the middle.
const ring = [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]];
const hole = [[1, 1], [1, 3], [3, 3], [3, 1], [1, 1]];

test('labelPoint lands well inside', async (t) => {
  const cases = [
    // 0.01° of longitude is 0.0081° of latitude at 36°N: the best depth is half that.
    {name: 'square', geometry: poly(square), minDepth: 0.99 * 0.005 * Math.cos((36.005 * Math.PI) / 180)},
    {name: 'L shape', geometry: poly(ell), minDepth: 0.004},
    {name: 'U shape', geometry: poly(u), minDepth: 0.45},
    {name: 'ring around a hole', geometry: poly(ring, hole), minDepth: 0.45},
    {name: 'clockwise ring', geometry: poly(square.slice().reverse()), minDepth: 0.99 * 0.005 * Math.cos((36.005 * Math.PI) / 180)},
    {name: 'a thin triangle', geometry: poly([[0, 0], [1, 0], [1, 1e-6], [0, 0]]), minDepth: 0}, 
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const p = labelPoint(c.geometry);
      const rings = c.geometry.coordinates;
      assert.ok(pointInPolygon(p, rings), `${p} is outside`);
      assert.ok(edgeDistance(p, rings) >= c.minDepth, `${p} is ${edgeDistance(p, rings)} from an edge, want ≥ ${c.minDepth}`);
    });
  }
  await t.test('square: midway between its sides', () => {
    const p = labelPoint(poly(square));
    assert.ok(Math.abs(p[0] - 120.005) < 1e-4, `${p}`);
  });
  await t.test('multipolygon: on the largest part', () => {
    const small = [[121, 37], [121.001, 37], [121.001, 37.001], [121, 37.001], [121, 37]];
    const p = labelPoint({type: 'MultiPolygon', coordinates: [[small], [square]]});
    assert.ok(pointInPolygon(p, [square]), `${p} not on the large part`);
  });
});

test('shortGridName', async (t) => {
  const cases = [
    {name: '台东社区第3网格', want: '第3网格'},
    {name: '第12网格', want: '第12网格'},
    {name: '市场网格', want: '市场网格'},
    {name: '', want: ''},
  ];
  for (const c of cases) await t.test(c.name || 'empty', () => assert.equal(shortGridName(c.name), c.want));
});

test('gridLabel', async (t) => {
  const f = {type: 'Feature', properties: {code: '370203005001', name: '台东社区第3网格', level: 'grid', unit: 'x'}, geometry: poly(square)};
  await t.test('a point feature with name, level and code', () => {
    const l = gridLabel(f, '第3网格');
    assert.deepEqual(l.properties, {name: '第3网格', level: 'grid', code: '370203005001'});
    assert.equal(l.geometry.type, 'Point');
  });
  await t.test('its own name by default', () => assert.equal(gridLabel(f).properties.name, '台东社区第3网格'));
});

test('covered', async (t) => {
  const boxes = [[0, 0, 10, 10], [20, 20, 30, 30]];
  const cases = [
    {name: 'inside one', view: [1, 1, 9, 9], want: true},
    {name: 'the same box', view: [0, 0, 10, 10], want: true},
    {name: 'across two', view: [5, 5, 25, 25], want: false},
    {name: 'sticking out', view: [5, 5, 11, 9], want: false},
    {name: 'outside', view: [40, 40, 41, 41], want: false},
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(covered(boxes, c.view), c.want));
  await t.test('no boxes', () => assert.equal(covered([], [0, 0, 1, 1]), false));
});

test('around grows a view by half on every side', () => {
  assert.deepEqual(around([10, 20, 14, 22]), [8, 19, 16, 23]);
});
