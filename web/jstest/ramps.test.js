import {test} from 'node:test';
import assert from 'node:assert/strict';
import {niceCeil, quantile, quantileAbs, rampLevel} from '../static/js/ramps.js';

test('niceCeil', async (t) => {
  const cases = [
    [0, 4], [3.9, 4], [4, 4], [4.1, 5], [7, 8], [9, 10], [10, 10], [11, 15], [16, 20], [21, 25], [26, 30],
    [31, 40], [41, 50], [51, 60], [61, 80], [81, 100], [101, 150], [2400, 2500], [999999, 1000000],
  ];
  for (const [v, want] of cases) await t.test(`${v}`, () => assert.equal(niceCeil(v), want));
});

test('quantile', async (t) => {
  const cases = [
    {name: 'none', values: [], q: 0.95, want: 0},
    {name: 'one', values: [7], q: 0.95, want: 7},
    {name: 'unsorted input', values: [5, 1, 4, 2, 3], q: 0.5, want: 3},
    {name: 'the lower value, no interpolation', values: [1, 2, 3, 4], q: 0.5, want: 3},
    {name: 'q=1 is the largest', values: [1, 2, 3], q: 1, want: 3},
    {name: 'q=0 is the smallest', values: [3, 1, 2], q: 0, want: 1},
    {name: '95th of 1..100', values: Array.from({length: 100}, (_, i) => i + 1), q: 0.95, want: 96},
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(quantile(c.values, c.q), c.want));
  await t.test('leaves its input alone', () => {
    const v = [3, 1, 2];
    quantile(v, 0.5);
    assert.deepEqual(v, [3, 1, 2]);
  });
  await t.test('quantileAbs', () => assert.equal(quantileAbs([-10, 2, -3, 4], 0.98), 10));
});

test('rampLevel', async (t) => {
  const order = ['district', 'street', 'community', 'grid'];
  const cases = [
    {name: 'the district under its streets is land', levels: ['district', 'street'], want: 'street'},
    {name: 'order in the list does not matter', levels: ['street', 'district'], want: 'street'},
    {name: 'one level', levels: ['community'], want: 'community'},
    {name: 'unit grids', levels: ['grid'], want: 'grid'},
    {name: 'an unknown level counts as deepest', levels: ['grid', 'block'], want: 'block'},
    {name: 'none', levels: [], want: null},
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(rampLevel(c.levels, order), c.want));
});
