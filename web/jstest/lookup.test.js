import {test} from 'node:test';
import assert from 'node:assert/strict';
import {parseSearch, cleanCoordinate, nearest, deepestGrid} from '../static/js/lookup.js';

test('parseSearch', async (t) => {
  const district = '370203';
  const cases = [
    {name: 'blank', q: '   ', want: {kind: 'none'}},
    {name: 'hash and digits', q: '#1024', want: {kind: 'case', id: '1024'}},
    {name: 'digits', q: '1024', want: {kind: 'case', id: '1024'}},
    {name: 'spaces around', q: '  #77 ', want: {kind: 'case', id: '77'}},
    {name: 'digits under the district code are a grid', q: '370203005', want: {kind: 'grid', code: '370203005'}},
    {name: 'the district itself', q: '370203', want: {kind: 'grid', code: '370203'}},
    {name: 'a hash forces a case', q: '#370203005', want: {kind: 'case', id: '370203005'}},
    {name: 'letters are a grid code', q: 'SB-01', want: {kind: 'grid', code: 'SB-01'}},
    {name: 'a hash with letters', q: '#abc', want: {kind: 'invalid', message: 'A case ID is a number, such as #1024.'}},
    {name: 'too long for an id', q: '#1234567890123456789', want: {kind: 'invalid', message: 'A case ID is a number, such as #1024.'}},
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual(parseSearch(c.q, district), c.want));
  await t.test('digits before the district is known are a case', () => assert.deepEqual(parseSearch('370203005', ''), {kind: 'case', id: '370203005'}));
});

test('cleanCoordinate', async (t) => {
  const cases = [[' 120.37 ', '120.37'], ['120. 374 5', '120.3745'], ['\t36.09\n', '36.09']];
  for (const [in_, want] of cases) await t.test(JSON.stringify(in_), () => assert.equal(cleanCoordinate(in_), want));
});

test('nearest', async (t) => {
  const d = (x) => Math.abs(x - 10);
  const cases = [
    {name: 'the closest', items: [1, 12, 30], want: 12},
    {name: 'the first of equals', items: [8, 12], want: 8},
    {name: 'none', items: [], want: null},
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(nearest(c.items, d), c.want));
});

test('deepestGrid', async (t) => {
  const order = ['district', 'street', 'community', 'grid'];
  const f = (code, level) => ({properties: {code, level}});
  const cases = [
    {name: 'the unit grid over its community', fs: [f('c', 'community'), f('g', 'grid'), f('d', 'district')], want: 'g'},
    {name: 'the street over the district', fs: [f('d', 'district'), f('s', 'street')], want: 's'},
    {name: 'the first of equals', fs: [f('s1', 'street'), f('s2', 'street')], want: 's1'},
    {name: 'none', fs: [], want: null},
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(deepestGrid(c.fs, order)?.properties.code ?? null, c.want));
});
