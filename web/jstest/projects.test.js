import {test} from 'node:test';
import assert from 'node:assert/strict';
import {STATUS_COLORS, LATE_COLOR, projectFill, projectOutline, projectLabel, milestoneRows, yuan, progressWords, leaderWords, disputeRows, projectsTileURL} from '../static/js/projectmodel.js';

test('projectFill colours every status', () => {
  const m = projectFill();
  for (const [status, color] of Object.entries(STATUS_COLORS)) assert.equal(m[m.indexOf(status) + 1], color);
  assert.equal(m[0], 'match');
});

test('projectOutline marks late projects red', () => {
  const o = projectOutline();
  assert.equal(o[2], LATE_COLOR);
  assert.deepEqual(o[1], ['==', ['get', 'late'], true]);
});

test('projectLabel', async (t) => {
  await t.test('on time', () => assert.equal(projectLabel({name: '背街小巷', leader: '王队长', late: false}), '背街小巷\n王队长'));
  await t.test('late', () => assert.equal(projectLabel({name: '背街小巷', leader: '王队长', late: true, late_milestones: 2}), '背街小巷\n王队长 · ⚠ 2 late'));
});

test('milestoneRows', () => {
  const rows = milestoneRows([
    {name: '摸排', working_days: 1, start: '2027-01-04', due: '2027-01-04', done: true, late: false},
    {name: '施工', working_days: 20, start: '2027-01-05', due: '2027-02-01', done: false, late: true},
    {name: '验收', working_days: 3, start: '2027-02-02', due: '2027-02-04', done: false, late: false},
  ]);
  assert.deepEqual(rows.map((r) => [r.span, r.state, r.days]), [
    ['2027-01-04', 'done', '1 working day'],
    ['2027-01-05 – 2027-02-01', 'late', '20 working days'],
    ['2027-02-02 – 2027-02-04', 'open', '3 working days'],
  ]);
  assert.deepEqual(milestoneRows(null), []);
});

test('yuan', async (t) => {
  for (const [v, want] of [['1250000.50', '¥1,250,000.50'], ['0.00', '¥0.00'], ['999', '¥999.00'], [1000.5, '¥1,000.50']]) {
    await t.test(String(v), () => assert.equal(yuan(v), want));
  }
});

test('progressWords', () => {
  const words = progressWords({
    milestones: {total: 3, done: 1, late: 1},
    cases: {linked: 2, auto: 1, manual: 1, open: 2, closed: 0},
    money: {budget_cny: '1250000.50', spent_cny: '300000.00', share: 0.24},
  });
  assert.deepEqual(words, ['1 of 3 milestones done, 1 late', '2 linked cases: 0 closed, 2 open', '¥300,000.00 of ¥1,250,000.50 spent (24%)']);
  const none = progressWords({milestones: {total: 1, done: 0, late: 0}, cases: {linked: 1, open: 0, closed: 1}, money: {budget_cny: '0.00', spent_cny: '0.00', share: 0}});
  assert.deepEqual(none, ['0 of 1 milestone done', '1 linked case: 1 closed, 0 open', '¥0.00 of ¥0.00 spent']);
});

test('leaderWords', () => {
  assert.equal(leaderWords({name: '王队长', unit: 'U1'}, '城管局'), '王队长, 城管局');
  assert.equal(leaderWords({name: '王队长', unit: 'U1'}), '王队长, U1');
  assert.equal(leaderWords({user: 'wang', name: '王队长'}), '王队长 (user wang)');
});

test('disputeRows', () => {
  const rows = disputeRows({features: [{properties: {id: '7', category: 'E0101', status: 'accepted', unit: 'U1', reasons: ['unit_border', 'returned_twice'], units: ['U1', 'U2'], returns: 2}}]});
  assert.deepEqual(rows, [{id: '7', category: 'E0101', status: 'accepted', unit: 'U1', reasons: ['On the border of another unit', 'Returned twice'], candidates: ['U1', 'U2'], returns: 2}]);
  assert.deepEqual(disputeRows({}), []);
});

test('projectsTileURL', () => assert.equal(projectsTileURL('http://x'), 'http://x/tiles/projects/{z}/{x}/{y}.mvt'));
