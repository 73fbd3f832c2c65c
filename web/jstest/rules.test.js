import {test} from 'node:test';
import assert from 'node:assert/strict';
import {parseStatuses, parseActions, parseCatalogue, levelsAt} from '../static/js/rules.js';

test('parseStatuses', async (t) => {
  await t.test('keeps the lifecycle order', () => {
    const body = {statuses: [
      {status: 'reported', open: true, next: ['accepted', 'rejected']},
      {status: 'accepted', open: true, next: ['dispatched']},
      {status: 'resolved', open: false, next: ['verified']},
      {status: 'closed', open: false, next: []},
    ]};
    assert.deepEqual(parseStatuses(body), {all: ['reported', 'accepted', 'resolved', 'closed'], open: ['reported', 'accepted'], finished: ['resolved', 'closed']});
  });
  const bad = [
    {name: 'no body', body: null},
    {name: 'no statuses', body: {}},
    {name: 'empty', body: {statuses: []}},
    {name: 'not a list', body: {statuses: {reported: true}}},
    {name: 'no open flag', body: {statuses: [{status: 'reported'}]}},
    {name: 'open as a string', body: {statuses: [{status: 'reported', open: 'yes'}]}},
    {name: 'no name', body: {statuses: [{open: true}]}},
  ];
  for (const c of bad) await t.test(`refuses ${c.name}`, () => assert.throws(() => parseStatuses(c.body), /statuses/));
});

test('parseCatalogue', async (t) => {
  const levels = [['district', 'street'], ['community'], ['grid']];
  const body = {layers: [
    {name: 'grids', tilejson: 'x', levels_by_zoom: levels},
    {name: 'cases', point_zoom: 15, cluster_res: [0, 0, 0, 0, 0, 1]},
    {name: 'hotspots'},
  ], point_zoom: 15};
  await t.test('takes the point zoom and the levels', () => assert.deepEqual(parseCatalogue(body), {pointZoom: 15, levelsByZoom: levels}));
  const bad = [
    {name: 'no layers', body: {point_zoom: 14}, re: /point_zoom/},
    {name: 'point zoom only at the top', body: {point_zoom: 14, layers: [{name: 'cases'}, {name: 'grids', levels_by_zoom: levels}]}, re: /point_zoom/},
    {name: 'a fractional point zoom', body: {layers: [{name: 'cases', point_zoom: 14.5}, {name: 'grids', levels_by_zoom: levels}]}, re: /point_zoom/},
    {name: 'no levels', body: {layers: [{name: 'cases', point_zoom: 14}, {name: 'grids'}]}, re: /levels_by_zoom/},
    {name: 'empty levels', body: {layers: [{name: 'cases', point_zoom: 14}, {name: 'grids', levels_by_zoom: []}]}, re: /levels_by_zoom/},
    {name: 'levels not lists', body: {layers: [{name: 'cases', point_zoom: 14}, {name: 'grids', levels_by_zoom: ['street']}]}, re: /levels_by_zoom/},
  ];
  for (const c of bad) await t.test(`refuses ${c.name}`, () => assert.throws(() => parseCatalogue(c.body), c.re));
});

test('levelsAt', async (t) => {
  const levels = [['district', 'street'], ['district', 'street'], ['community'], ['grid']];
  const cases = [
    {z: 0, want: ['district', 'street']},
    {z: 2, want: ['community']},
    {z: 3, want: ['grid']},
    {z: 22, want: ['grid'], name: 'past the list: the last'},
    {z: -1, want: ['district', 'street'], name: 'below 0: the first'},
    {z: 2.7, want: ['community'], name: 'a fractional zoom is floored'},
  ];
  for (const c of cases) await t.test(c.name || `z${c.z}`, () => assert.deepEqual(levelsAt(levels, c.z), c.want));
});

test('parseActions', async (t) => {
  await t.test('reads each action\'s moves', () => {
    const body = {statuses: [], actions: [
      {action: 'accept', from: ['reported'], to: 'accepted'},
      {action: 'return', from: ['dispatched', 'in_progress'], to: 'accepted'},
      {action: 'pause', from: [], to: null},
    ]};
    assert.deepEqual(parseActions(body), {
      accept: {from: ['reported'], to: 'accepted'},
      return: {from: ['dispatched', 'in_progress'], to: 'accepted'},
      pause: {from: [], to: null},
    });
  });
  await t.test('a server that names no actions: null', () => assert.equal(parseActions({statuses: []}), null));
  const bad = [
    {name: 'not a list', body: {actions: {accept: 'accepted'}}},
    {name: 'no name', body: {actions: [{from: ['reported'], to: 'accepted'}]}},
    {name: 'no from', body: {actions: [{action: 'accept', to: 'accepted'}]}},
    {name: 'a target that is no status', body: {actions: [{action: 'accept', from: ['reported'], to: 3}]}},
  ];
  for (const c of bad) await t.test(`refuses ${c.name}`, () => assert.throws(() => parseActions(c.body), /actions?/));
});
