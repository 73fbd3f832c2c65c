import {test} from 'node:test';
import assert from 'node:assert/strict';
import {bboxOf, ringArea, pointInPolygon, edgeDistance, inBBox, inArea, tileX, tileY, tileWindow} from '../static/js/geometry.js';

const square = [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]; // counter-clockwise
const hole = [[1, 1], [1, 3], [3, 3], [3, 1], [1, 1]];

test('bboxOf', async (t) => {
  const cases = [
    {name: 'point', geometry: {type: 'Point', coordinates: [120.1, 36.2]}, want: [120.1, 36.2, 120.1, 36.2]},
    {name: 'polygon', geometry: {type: 'Polygon', coordinates: [square]}, want: [0, 0, 4, 4]},
    {name: 'multipolygon', geometry: {type: 'MultiPolygon', coordinates: [[square], [[[-2, 5], [-1, 5], [-1, 7], [-2, 5]]]]}, want: [-2, 0, 4, 7]},
    {name: 'bare coordinates', geometry: {coordinates: [[1, 2], [3, -4]]}, want: [1, -4, 3, 2]},
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual(bboxOf(c.geometry), c.want));
});

test('ringArea', async (t) => {
  const cases = [
    {name: 'counter-clockwise is positive', ring: square, want: 16},
    {name: 'clockwise is negative', ring: square.slice().reverse(), want: -16},
    {name: 'degenerate', ring: [[0, 0], [1, 1], [0, 0]], want: 0},
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(ringArea(c.ring), c.want));
});

test('pointInPolygon', async (t) => {
  const cases = [
    {name: 'inside', p: [0.5, 0.5], rings: [square], want: true},
    {name: 'outside', p: [5, 2], rings: [square], want: false},
    {name: 'left of it', p: [-1, 2], rings: [square], want: false},
    {name: 'in the hole', p: [2, 2], rings: [square, hole], want: false},
    {name: 'between ring and hole', p: [0.5, 2], rings: [square, hole], want: true},
    {name: 'inside a concave notch', p: [2, 3], rings: [[[0, 0], [4, 0], [4, 4], [2, 2], [0, 4], [0, 0]]], want: false},
    {name: 'open ring counts the same', p: [1, 1], rings: [[[0, 0], [4, 0], [4, 4], [0, 4]]], want: true},
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(pointInPolygon(c.p, c.rings), c.want));
});

test('edgeDistance', async (t) => {
  const near = (got, want) => assert.ok(Math.abs(got - want) < 1e-9, `got ${got}, want ${want}`);
  const k2 = Math.cos((2 * Math.PI) / 180); // longitudes at 2°N
  await t.test('centre of a square near the equator: the sides, shrunk, are nearest', () => near(edgeDistance([2, 2], [square]), 2 * k2));
  await t.test('on an edge', () => near(edgeDistance([4, 2], [square]), 0));
  await t.test('nearer the outer ring than the hole', () => near(edgeDistance([0.5, 2], [square, hole]), 0.5 * k2));
  await t.test('a hole is an edge too', () => near(edgeDistance([2, 1.2], [square, hole]), 0.2));
  await t.test('past a corner', () => near(edgeDistance([5, 5], [square]), Math.hypot(Math.cos((5 * Math.PI) / 180), 1)));
  await t.test('longitudes shrink with latitude', () => {
    const ring = [[0, 60], [2, 60], [2, 62], [0, 62], [0, 60]];
    // at 61°N a degree of longitude is about half a degree of latitude: the sides are nearer than the top and bottom
    near(edgeDistance([1, 61], [ring]), Math.cos((61 * Math.PI) / 180));
  });
});

test('inBBox and inArea', async (t) => {
  const polygon = {type: 'Polygon', coordinates: [square, hole]};
  const cases = [
    {name: 'bbox inside', p: [1, 1], area: {kind: 'bbox', bbox: [0, 0, 2, 2]}, want: true},
    {name: 'bbox edge counts', p: [2, 0], area: {kind: 'bbox', bbox: [0, 0, 2, 2]}, want: true},
    {name: 'bbox outside', p: [2.1, 1], area: {kind: 'bbox', bbox: [0, 0, 2, 2]}, want: false},
    {name: 'polygon inside', p: [0.5, 0.5], area: {kind: 'polygon', polygon}, want: true},
    {name: 'polygon hole', p: [2, 2], area: {kind: 'polygon', polygon}, want: false},
    {name: 'grid: always ask again', p: [99, 99], area: {kind: 'grid', code: '370203'}, want: true},
    {name: 'cell: always ask again', p: [99, 99], area: {kind: 'h3', cell: '88309a'}, want: true},
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(inArea(c.p, c.area), c.want));
  await t.test('inBBox directly', () => assert.equal(inBBox([3, 3], [0, 0, 2, 2]), false));
});

test('tileX and tileY', async (t) => {
  // Expected values from the server's projection (geo.Projector, XYZ with y southwards).
  const cases = [
    {name: 'Shibei market z14', lng: 120.3655, lat: 36.089, z: 14, want: [13669, 6428]},
    {name: 'Shibei market z18', lng: 120.3655, lat: 36.089, z: 18, want: [218719, 102860]},
    {name: 'Berlin z10', lng: 13.4, lat: 52.5, z: 10, want: [550, 335]},
    {name: 'null island z1', lng: 0, lat: 0, z: 1, want: [1, 1]},
    {name: 'z0 is one tile', lng: 120.3655, lat: 36.089, z: 0, want: [0, 0]},
    {name: 'clamped north-west', lng: -180, lat: 89, z: 3, want: [0, 0]},
    {name: 'clamped south-east', lng: 180, lat: -89, z: 3, want: [7, 7]},
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual([tileX(c.lng, c.z), tileY(c.lat, c.z)], c.want));
});

test('tileWindow', async (t) => {
  const market = [120.3655, 36.089, 120.3655, 36.089];
  const cases = [
    {name: 'a point', bounds: market, z: 14, margin: 0, want: {z: 14, x: [13669, 13669], y: [6428, 6428]}},
    {name: 'with a margin', bounds: market, z: 14, margin: 1, want: {z: 14, x: [13668, 13670], y: [6427, 6429]}},
    {name: 'north is the smaller y', bounds: [13.0, 52.0, 13.8, 53.0], z: 10, margin: 0, want: {z: 10, x: [548, 551], y: [333, 338]}},
    {name: 'clamped to the world', bounds: [-180, -85, 180, 85], z: 1, margin: 2, want: {z: 1, x: [0, 1], y: [0, 1]}},
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual(tileWindow(c.bounds, c.z, c.margin), c.want));
});
