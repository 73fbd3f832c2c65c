import {test} from 'node:test';
import assert from 'node:assert/strict';
import {actionPatch, statusActionFor, caseButtons, buttonPatch, EXTENSION_UNIT} from '../static/js/actions.js';
import {parseActions} from '../static/js/rules.js';

// The action names of GET /v1/statuses, as the server gives them.
const moves = parseActions({actions: [
  {action: 'accept', from: ['reported'], to: 'accepted'},
  {action: 'reject', from: ['reported'], to: 'rejected'},
  {action: 'dispatch', from: ['accepted'], to: 'dispatched'},
  {action: 'start', from: ['dispatched'], to: 'in_progress'},
  {action: 'resolve', from: ['in_progress'], to: 'resolved'},
  {action: 'verify', from: ['resolved'], to: 'verified'},
  {action: 'send_back', from: ['resolved'], to: 'dispatched'},
  {action: 'rework', from: ['verified'], to: 'dispatched'},
  {action: 'close', from: ['verified'], to: 'closed'},
  {action: 'return', from: ['dispatched', 'in_progress'], to: 'accepted'},
  {action: 'reassign', from: [], to: null},
  {action: 'merge', from: [], to: null},
  {action: 'extend', from: [], to: null},
  {action: 'pause', from: [], to: null},
  {action: 'resume', from: [], to: null},
  {action: 'request_extension', from: [], to: null},
  {action: 'request_pause', from: [], to: null},
  {action: 'approve', from: [], to: null},
  {action: 'decline', from: [], to: null},
]});

test('actionPatch: each action is one PATCH body', async (t) => {
  const cases = [
    {action: 'accept', status: 'reported', want: {status: 'accepted'}},
    {action: 'reject', status: 'reported', want: {status: 'rejected'}},
    {action: 'dispatch', status: 'accepted', want: {status: 'dispatched'}},
    {action: 'start', status: 'dispatched', want: {status: 'in_progress'}},
    {action: 'resolve', status: 'in_progress', want: {status: 'resolved'}},
    {action: 'verify', status: 'resolved', want: {status: 'verified'}},
    {action: 'send_back', status: 'resolved', want: {status: 'dispatched'}},
    {action: 'rework', status: 'verified', want: {status: 'dispatched'}},
    {action: 'close', status: 'verified', want: {status: 'closed'}},
    {action: 'return', status: 'dispatched', want: {status: 'accepted', returned: true}},
    {action: 'return', status: 'in_progress', want: {status: 'accepted', returned: true}},
    {action: 'request_pause', status: 'in_progress', want: {request_pause: true}},
    {action: 'pause', status: 'accepted', want: {pause: true}},
    {action: 'resume', status: 'accepted', want: {pause: false}},
    {action: 'request_extension', status: 'in_progress', days: 2, want: {request_extension: {value: 2, unit: EXTENSION_UNIT}}},
    {action: 'extend', status: 'dispatched', days: 3, want: {extend: {value: 3, unit: EXTENSION_UNIT}}},
    {action: 'approve', status: 'in_progress', pending: {event: '912', kind: 'extension'}, want: {approve: '912'}},
    {action: 'decline', status: 'in_progress', pending: {event: '913', kind: 'pause'}, want: {decline: '913'}},
    {name: 'a status action from another status', action: 'close', status: 'resolved', want: null},
    {name: 'an extension without days', action: 'request_extension', status: 'in_progress', want: null},
    {name: 'an extension of no days', action: 'request_extension', status: 'in_progress', days: 0, want: null},
    {name: 'an extension of half a day', action: 'extend', status: 'in_progress', days: 1.5, want: null},
    {name: 'a decision with no request', action: 'approve', status: 'in_progress', want: null},
    {name: 'a re-assignment: it needs a target', action: 'reassign', status: 'accepted', want: null},
    {name: 'a merge: it needs a target', action: 'merge', status: 'accepted', want: null},
    {name: 'an action the page does not know', action: 'teleport', status: 'accepted', want: null},
  ];
  for (const c of cases) {
    await t.test(c.name || `${c.action} from ${c.status}`, () => {
      assert.deepEqual(actionPatch(c.action, {status: c.status, pending_request: c.pending || null}, moves, {days: c.days}), c.want);
    });
  }
  await t.test('return without the lifecycle: back to accepted, as the API defines it', () => {
    assert.deepEqual(actionPatch('return', {status: 'dispatched'}, null), {status: 'accepted', returned: true});
  });
  await t.test('a status action without the lifecycle: no guess', () => {
    assert.equal(actionPatch('accept', {status: 'reported'}, null), null);
  });
});

test('statusActionFor', () => {
  assert.equal(statusActionFor(moves, 'resolved', 'dispatched'), 'send_back');
  assert.equal(statusActionFor(moves, 'verified', 'dispatched'), 'rework');
  assert.equal(statusActionFor(moves, 'in_progress', 'accepted'), null, 'a return is asked for by name, never found from the statuses');
  assert.equal(statusActionFor(null, 'reported', 'accepted'), null);
});

const dispatcher = {canUpdate: true, caseActions: ['accept', 'reject', 'dispatch', 'rework', 'close', 'reassign', 'merge', 'extend', 'pause', 'resume', 'approve', 'decline']};

test('caseButtons', async (t) => {
  await t.test('the case\'s actions, in its order, those a button can send', () => {
    const p = {status: 'in_progress', next_statuses: ['resolved'], actions: ['resolve', 'return', 'reassign', 'request_extension', 'request_pause']};
    assert.deepEqual(caseButtons(p, {moves}, {canUpdate: true, caseActions: null}), [
      {action: 'resolve', to: 'resolved', days: false},
      {action: 'return', to: 'accepted', days: false},
      {action: 'request_extension', to: null, days: true},
      {action: 'request_pause', to: null, days: false},
    ]);
  });
  await t.test('the case\'s actions win over the role\'s list and the next statuses', () => {
    const p = {status: 'resolved', next_statuses: ['verified', 'dispatched'], actions: ['verify']};
    assert.deepEqual(caseButtons(p, {moves}, dispatcher), [{action: 'verify', to: 'verified', days: false}]);
  });
  await t.test('no actions now: no buttons, whatever the lifecycle allows', () => {
    assert.deepEqual(caseButtons({status: 'reported', next_statuses: ['accepted', 'rejected'], actions: []}, {moves}, dispatcher), []);
  });
  await t.test('actions given as objects, repeated once', () => {
    const p = {status: 'reported', actions: [{action: 'accept'}, {name: 'reject'}, 'accept', null]};
    assert.deepEqual(caseButtons(p, {moves}, dispatcher).map((b) => b.action), ['accept', 'reject']);
  });
  await t.test('approve and decline only with the request they decide', () => {
    const p = {status: 'in_progress', actions: ['approve', 'decline']};
    assert.deepEqual(caseButtons(p, {moves}, dispatcher), []);
    assert.deepEqual(caseButtons({...p, pending_request: {event: '5', kind: 'pause'}}, {moves}, dispatcher).map((b) => b.action), ['approve', 'decline']);
  });
  await t.test('without cases.update: none', () => {
    assert.deepEqual(caseButtons({status: 'reported', next_statuses: ['accepted'], actions: ['accept']}, {moves}, {canUpdate: false, caseActions: null}), []);
    assert.deepEqual(caseButtons({status: 'reported', next_statuses: ['accepted']}, {moves}, {canUpdate: false, caseActions: null}), []);
  });
  await t.test('no actions on the case: its next statuses, cut to the role\'s actions', () => {
    const p = {status: 'resolved', next_statuses: ['verified', 'dispatched']};
    assert.deepEqual(caseButtons(p, {moves}, dispatcher), []);
    assert.deepEqual(caseButtons(p, {moves}, {canUpdate: true, caseActions: ['verify', 'send_back']}), [
      {action: 'verify', to: 'verified', days: false},
      {action: 'send_back', to: 'dispatched', days: false},
    ]);
  });
  await t.test('no actions anywhere: every next status (the server judges)', () => {
    const p = {status: 'reported', next_statuses: ['accepted', 'rejected']};
    assert.deepEqual(caseButtons(p, {moves: null}, {canUpdate: true, caseActions: ['verify']}), [
      {action: null, to: 'accepted', days: false},
      {action: null, to: 'rejected', days: false},
    ]);
  });
});

test('buttonPatch', () => {
  const p = {status: 'in_progress'};
  assert.deepEqual(buttonPatch({action: null, to: 'resolved'}, p, null), {status: 'resolved'});
  assert.deepEqual(buttonPatch({action: 'resolve', to: 'resolved'}, p, moves), {status: 'resolved'});
  assert.deepEqual(buttonPatch({action: 'request_extension', to: null, days: true}, p, moves, 4), {request_extension: {value: 4, unit: EXTENSION_UNIT}});
  assert.equal(buttonPatch({action: 'request_extension', to: null, days: true}, p, moves, NaN), null);
});
