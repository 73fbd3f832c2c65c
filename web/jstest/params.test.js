import {test} from 'node:test';
import assert from 'node:assert/strict';
import {
  DAY, SLIDER_MIN, defaultFilters, isoHour, filterParams, query, tileURL, filtersBody, areaParams,
  caseFilters, analysisWindow, toggleStatus, statusPreset, sliderRange, presetRange, categoryTree,
} from '../static/js/params.js';

// A lifecycle as GET /v1/statuses would give it (parseStatuses' shape); the
// names are made up so that nothing here leans on the real ones.
const lifecycle = {all: ['new', 'doing', 'done', 'dropped'], open: ['new', 'doing'], finished: ['done', 'dropped']};
const NOW = Date.parse('2026-03-10T08:30:00Z');

test('defaultFilters', async (t) => {
  await t.test('dispatch: open cases of any age', () => {
    assert.deepEqual(defaultFilters('dispatch', lifecycle), {statuses: new Set(['new', 'doing']), category: '', source: '', unit: '', fromDays: SLIDER_MIN, toDays: 0});
  });
  await t.test('plan: everything of the last 90 days', () => {
    assert.deepEqual(defaultFilters('plan', lifecycle), {statuses: new Set(lifecycle.all), category: '', source: '', unit: '', fromDays: -90, toDays: 0});
  });
  await t.test('each call is a fresh set', () => {
    const a = defaultFilters('dispatch', lifecycle);
    a.statuses.add('done');
    assert.equal(defaultFilters('dispatch', lifecycle).statuses.has('done'), false);
  });
});

test('isoHour', async (t) => {
  const cases = [
    {name: 'truncates to the hour', ms: Date.parse('2026-03-10T08:59:59.999Z'), want: '2026-03-10T08:00:00Z'},
    {name: 'a whole hour stays', ms: Date.parse('2026-03-10T08:00:00Z'), want: '2026-03-10T08:00:00Z'},
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(isoHour(c.ms), c.want));
});

test('filterParams', async (t) => {
  const base = {statuses: new Set(lifecycle.all), category: '', source: '', unit: '', fromDays: SLIDER_MIN, toDays: 0};
  const cases = [
    {name: 'everything', f: {}, want: {status: '', category: '', source: '', unit: '', from: '', to: ''}},
    {name: 'some statuses, in lifecycle order', f: {statuses: new Set(['dropped', 'new'])}, want: {status: 'new,dropped', category: '', source: '', unit: '', from: '', to: ''}},
    {name: 'one status', f: {statuses: new Set(['new'])}, want: {status: 'new', category: '', source: '', unit: '', from: '', to: ''}},
    {name: 'category, source, unit', f: {category: 'E01', source: 'hotline', unit: 'U7'}, want: {status: '', category: 'E01', source: 'hotline', unit: 'U7', from: '', to: ''}},
    {name: 'the last 7 days', f: {fromDays: -7}, want: {status: '', category: '', source: '', unit: '', from: '2026-03-03T08:00:00Z', to: ''}},
    {name: 'until 2 days ago, rounded up to the hour', f: {fromDays: -30, toDays: -2}, want: {status: '', category: '', source: '', unit: '', from: '2026-02-08T08:00:00Z', to: '2026-03-08T09:00:00Z'}},
    {name: 'the slider end is open', f: {fromDays: SLIDER_MIN, toDays: -1}, want: {status: '', category: '', source: '', unit: '', from: '', to: '2026-03-09T09:00:00Z'}},
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual(filterParams({...base, ...c.f}, lifecycle.all, NOW), c.want));
});

test('query', async (t) => {
  const cases = [
    {name: 'skips empty values', params: {a: '', b: null, c: undefined, d: [], e: 'x'}, want: 'e=x'},
    {name: 'joins arrays', params: {status: ['new', 'done']}, want: 'status=new%2Cdone'},
    {name: 'keeps zero and false', params: {k: 0, on: false}, want: 'k=0&on=false'},
    {name: 'escapes', params: {from: '2026-03-03T08:00:00Z', q: 'a b&c'}, want: 'from=2026-03-03T08%3A00%3A00Z&q=a+b%26c'},
    {name: 'nothing', params: {}, want: ''},
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(query(c.params), c.want));
});

test('tileURL', async (t) => {
  const o = 'http://127.0.0.1:8080';
  const p = {status: 'new', category: '', source: 'app', unit: '', from: '', to: ''};
  const cases = [
    {name: 'grids take no case filters', args: ['grids', p], want: `${o}/tiles/grids/{z}/{x}/{y}.mvt`},
    {name: 'cases with filters', args: ['cases', p], want: `${o}/tiles/cases/{z}/{x}/{y}.mvt?status=new&source=app`},
    {name: 'cases unfiltered', args: ['cases', {}], want: `${o}/tiles/cases/{z}/{x}/{y}.mvt`},
    {name: 'hotspots at the default res and k', args: ['hotspots', p, {res: '', k: 1}], want: `${o}/tiles/hotspots/{z}/{x}/{y}.mvt?status=new&source=app`},
    {name: 'hotspots with res and k', args: ['hotspots', p, {res: '9', k: 2}], want: `${o}/tiles/hotspots/{z}/{x}/{y}.mvt?status=new&source=app&res=9&k=2`},
    {name: 'cases ignore res and k', args: ['cases', {}, {res: '9', k: 2}], want: `${o}/tiles/cases/{z}/{x}/{y}.mvt`},
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(tileURL(o, ...c.args), c.want));
  await t.test('the params are not changed', () => {
    const q = {status: 'new'};
    tileURL(o, 'hotspots', q, {res: '9', k: 3});
    assert.deepEqual(q, {status: 'new'});
  });
});

test('filtersBody', async (t) => {
  const cases = [
    {name: 'statuses become a list', p: {status: 'new,done', category: '', unit: '', source: '', from: '', to: ''}, want: {status: ['new', 'done']}},
    {name: 'only what is set', p: {status: '', category: 'E01', unit: '', source: 'app', from: '2026-01-01T00:00:00Z', to: ''}, want: {category: 'E01', source: 'app', from: '2026-01-01T00:00:00Z'}},
    {name: 'nothing', p: {status: '', category: '', unit: '', source: '', from: '', to: ''}, want: {}},
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual(filtersBody(c.p), c.want));
});

test('areaParams', async (t) => {
  const cases = [
    {name: 'bbox at 7 decimals', area: {kind: 'bbox', bbox: [120.1, 36.05, 120.123456789, 36.1]}, want: {bbox: '120.1000000,36.0500000,120.1234568,36.1000000'}},
    {name: 'h3 cell', area: {kind: 'h3', cell: '8830e1d8a1fffff'}, want: {h3: '8830e1d8a1fffff'}},
    {name: 'grid', area: {kind: 'grid', code: '370203005', name: 'x'}, want: {grid: '370203005'}},
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual(areaParams(c.area), c.want));
});

test('caseFilters drops the time window', () => {
  assert.deepEqual(caseFilters({status: 'new', category: 'E', unit: 'U', source: 's', from: 'a', to: 'b'}), {status: 'new', category: 'E', unit: 'U', source: 's'});
});

test('analysisWindow', async (t) => {
  const cases = [
    {name: 'the filter window', p: {from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z'}, want: ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z']},
    {name: 'no window: 30 days to the next hour', p: {from: '', to: ''}, want: ['2026-02-08T09:00:00.000Z', '2026-03-10T09:00:00.000Z']},
    {name: 'only a start', p: {from: '2026-03-01T00:00:00Z', to: ''}, want: ['2026-03-01T00:00:00.000Z', '2026-03-10T09:00:00.000Z']},
    {name: 'only an end: 30 days before it', p: {from: '', to: '2026-03-01T00:00:00Z'}, want: ['2026-01-30T00:00:00.000Z', '2026-03-01T00:00:00.000Z']},
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const {from, to} = analysisWindow(c.p, NOW);
      assert.deepEqual([from.toISOString(), to.toISOString()], c.want);
    });
  }
});

test('toggleStatus', async (t) => {
  const cases = [
    {name: 'adds', chosen: ['new'], id: 'done', want: ['new', 'done']},
    {name: 'removes', chosen: ['new', 'done'], id: 'done', want: ['new']},
    {name: 'the last one off means all', chosen: ['new'], id: 'new', want: lifecycle.all},
  ];
  for (const c of cases) {
    await t.test(c.name, () => assert.deepEqual([...toggleStatus(new Set(c.chosen), c.id, lifecycle.all)].sort(), [...c.want].sort()));
  }
  await t.test('leaves its argument alone', () => {
    const s = new Set(['new']);
    toggleStatus(s, 'done', lifecycle.all);
    assert.deepEqual([...s], ['new']);
  });
});

test('statusPreset', async (t) => {
  const cases = [
    {which: 'open', want: ['new', 'doing']},
    {which: 'finished', want: ['done', 'dropped']},
    {which: 'all', want: lifecycle.all},
  ];
  for (const c of cases) await t.test(c.which, () => assert.deepEqual([...statusPreset(c.which, lifecycle)], c.want));
});

test('sliderRange', async (t) => {
  const cases = [
    {name: 'apart: as dragged', args: [-30, -2, 'from'], want: {fromDays: -30, toDays: -2}},
    {name: 'from pushed past to stops a day before it', args: [-1, -3, 'from'], want: {fromDays: -4, toDays: -3}},
    {name: 'to pushed before from stops a day after it', args: [-10, -12, 'to'], want: {fromDays: -10, toDays: -9}},
    {name: 'equal is too close', args: [-5, -5, 'to'], want: {fromDays: -5, toDays: -4}},
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual(sliderRange(...c.args), c.want));
});

test('presetRange', async (t) => {
  const cases = [
    {days: '1', want: {fromDays: -1, toDays: 0}},
    {days: '90', want: {fromDays: -90, toDays: 0}},
    {days: 'all', want: {fromDays: SLIDER_MIN, toDays: 0}},
  ];
  for (const c of cases) await t.test(c.days, () => assert.deepEqual(presetRange(c.days), c.want));
});

test('categoryTree', async (t) => {
  const cats = [{code: 'E'}, {code: 'E01'}, {code: 'E0101'}, {code: 'E0102'}, {code: 'F01'}, {code: 'E02'}, {code: 'F0101'}];
  const {roots, children, codes} = categoryTree(cats);
  const codesOf = (list) => (list || []).map((c) => c.code);
  await t.test('roots have no prefix among the codes', () => assert.deepEqual(codesOf(roots), ['E', 'F01']));
  await t.test('children under the longest prefix', () => {
    assert.deepEqual(codesOf(children.E), ['E01', 'E02']);
    assert.deepEqual(codesOf(children.E01), ['E0101', 'E0102']);
    assert.deepEqual(codesOf(children.F01), ['F0101']);
  });
  await t.test('leaves have no children', () => assert.equal(children.E0101, undefined));
  await t.test('codes', () => assert.equal(codes.size, cats.length));
  await t.test('DAY is a day in ms', () => assert.equal(DAY, 24 * 3600 * 1000));
});
