import {test} from 'node:test';
import assert from 'node:assert/strict';
import {draftLayers, draftChoices, changeCounts, draftSummary, CHANGE_COLOURS} from '../static/js/drafts.js';

test('draftLayers fill the changed grids only and dash the retired ones', () => {
  const [fill, line, removed] = draftLayers('draft');
  assert.deepEqual(fill.filter, ['!=', ['get', 'change'], 'unchanged']);
  assert.deepEqual(removed.filter, ['==', ['get', 'change'], 'removed']);
  assert.equal(line.source, 'draft');
  const match = fill.paint['fill-color'];
  for (const [change, colour] of Object.entries(CHANGE_COLOURS)) assert.equal(match[match.indexOf(change) + 1], colour);
});

test('draftChoices keeps drafts and the scheduled version', () => {
  const got = draftChoices([
    {id: '9', status: 'draft', note: 'north re-division', rejected: []},
    {id: '8', status: 'scheduled', note: '', rejected: []},
    {id: '7', status: 'active', note: ''},
    {id: '6', status: 'draft', note: '', rejected: [{index: 3}]},
  ]);
  assert.deepEqual(got.map((c) => c.id), ['9', '8', '6']);
  assert.match(got[0].label, /north re-division/);
  assert.match(got[2].label, /1 rejected/);
});

test('changeCounts and draftSummary say what activation would do', () => {
  const fc = {features: [{properties: {change: 'added'}}, {properties: {change: 'removed'}}, {properties: {change: 'removed'}}, {properties: {change: 'unchanged'}}]};
  assert.deepEqual(changeCounts(fc), {added: 1, removed: 2, unchanged: 1});
  const s = draftSummary({
    moved: 2, open_cases: 5,
    unit_matrix: [{from: 'U1', to: 'U2', cases: 2}],
    street_matrix: [{from: 'S1', to: 'S2', cases: 1}],
    blocking: [{kind: 'key', name: 'east', code: 'G4', successor: ''}],
  });
  assert.deepEqual(s.lines, ['2 of 5 open cases change grid or unit', 'unit U1 → U2: 2', 'street S1 → S2: 1']);
  assert.equal(s.canActivate, false);
  assert.match(s.blocking[0], /key east still names G4/);
});
