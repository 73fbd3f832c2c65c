import {test} from 'node:test';
import assert from 'node:assert/strict';
import {
  KEY_ITEM, storedKey, storeKey, forgetKey, cleanKey, authHeaders, needsKey, signedRequest,
  readTicket, streamURL, backoff, BACKOFF_MAX_MS, readMe, viewsOf, roleWords, scopeWords,
  cleanSignIn, readSignIn, credentialHeaders, streamSource, signInMethods,
} from '../static/js/auth.js';

const origin = 'http://127.0.0.1:8080';
const KEY = 'cg_' + 'A'.repeat(43);

/** memory is a Storage with what the page uses of it. */
function memory() {
  const m = new Map();
  return {getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k), m};
}

test('the key is kept in the storage given, and forgotten', () => {
  const s = memory();
  assert.equal(storedKey(s), null);
  storeKey(s, KEY);
  assert.equal(s.m.get(KEY_ITEM), KEY);
  assert.equal(storedKey(s), KEY);
  forgetKey(s);
  assert.equal(storedKey(s), null);
  s.setItem(KEY_ITEM, '   ');
  assert.equal(storedKey(s), null, 'blank is no key');
  const refusing = {getItem() { throw new Error('denied'); }, setItem() { throw new Error('denied'); }, removeItem() { throw new Error('denied'); }};
  assert.equal(storedKey(refusing), null);
  storeKey(refusing, KEY);
  forgetKey(refusing);
});

test('cleanKey', async (t) => {
  const good = [
    {name: 'a key', typed: KEY},
    {name: 'with spaces around', typed: `  ${KEY}\n`},
    {name: 'a header value', typed: `Bearer ${KEY}`},
    {name: 'a line of demo-keys.env', typed: `CG_ADMIN_KEY=${KEY}`},
    {name: 'an exported, quoted line', typed: `export CG_PLANNER_KEY="${KEY}"`},
    {name: 'something the server must judge', typed: 'cg_wrong', want: 'cg_wrong'},
  ];
  for (const c of good) await t.test(c.name, () => assert.deepEqual(cleanKey(c.typed), {key: c.want || KEY}));
  for (const typed of ['', '   ', 'Bearer ', 'cg_a b', 'cg_ключ', null]) {
    await t.test(`refuses ${JSON.stringify(typed)}`, () => assert.ok(cleanKey(typed).error));
  }
});

test('authHeaders', () => {
  assert.deepEqual(authHeaders(KEY), {Authorization: `Bearer ${KEY}`});
  assert.deepEqual(authHeaders(null), {});
  assert.deepEqual(authHeaders(''), {});
});

test('needsKey and signedRequest: the key goes to the API only', async (t) => {
  const cases = [
    {url: '/v1/me', want: true},
    {url: '/v1/cases?bbox=1,2,3,4', want: true},
    {url: `${origin}/tiles/cases/14/13700/6300.mvt?status=reported`, want: true},
    {url: `${origin}/tiles/grids.json`, want: true, name: 'TileJSON'},
    {url: '/v1/events/ticket', want: true},
    {url: '/metrics', want: true},
    {url: '/', want: false},
    {url: '/static/js/main.js', want: false},
    {url: `${origin}/fonts/Go%20Regular/0-255.pbf`, want: false, name: 'glyphs'},
    {url: 'https://tiles.example.com/v1/cases', want: false, name: 'another origin'},
    {url: 'http://127.0.0.1:9090/v1/me', want: false, name: 'another port'},
  ];
  for (const c of cases) {
    await t.test(c.name || c.url, () => {
      assert.equal(needsKey(c.url, origin), c.want);
      const r = signedRequest(c.url, origin, KEY);
      assert.equal(r.url, c.url);
      assert.deepEqual(r.headers, c.want ? {Authorization: `Bearer ${KEY}`} : undefined);
    });
  }
  await t.test('no key, no header', () => assert.deepEqual(signedRequest('/v1/me', origin, null), {url: '/v1/me'}));
});

test('stream tickets', async (t) => {
  await t.test('readTicket', () => {
    assert.equal(readTicket({ticket: 'abc_-1', expires_at: '2026-01-01T00:00:00Z'}), 'abc_-1');
    for (const b of [null, {}, {ticket: ''}, {ticket: 7}]) assert.throws(() => readTicket(b), /ticket/);
  });
  await t.test('streamURL carries the ticket, escaped, and never a key', () => {
    assert.equal(streamURL('abc_-1'), '/v1/events?ticket=abc_-1');
    assert.equal(streamURL('a+b/c='), '/v1/events?ticket=a%2Bb%2Fc%3D');
  });
});

test('backoff', async (t) => {
  await t.test('doubles from a second, then stays at the cap', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10, 50].map((n) => backoff(n, 0.5)), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
  });
  await t.test('jitter stays within ±25%', () => {
    for (const n of [0, 3, 20]) {
      const base = Math.min(BACKOFF_MAX_MS, 1000 * 2 ** n);
      assert.equal(backoff(n, 0), base * 0.75);
      assert.equal(backoff(n, 1), base * 1.25);
    }
  });
  await t.test('a negative attempt is the first', () => assert.equal(backoff(-3, 0.5), 1000));
});

const me = (over = {}) => ({
  key_id: '7', name: 'planner demo', role: 'planner', scope: null, unit: null, source: null, expires_at: null,
  permissions: ['grids.read', 'cases.read', 'stats.read', 'hotspots.read', 'map.read', 'self'], case_actions: [], sees_free_text: false, ...over,
});

test('readMe', async (t) => {
  await t.test('reads every field', () => {
    const m = readMe(me({scope: ['370203005'], unit: 'U1', expires_at: '2027-01-01T00:00:00Z'}));
    assert.equal(m.keyID, '7');
    assert.equal(m.name, 'planner demo');
    assert.equal(m.role, 'planner');
    assert.deepEqual(m.scope, ['370203005']);
    assert.equal(m.unit, 'U1');
    assert.equal(m.expiresAt, '2027-01-01T00:00:00Z');
    assert.ok(m.permissions.has('stats.read'));
    assert.deepEqual(m.caseActions, []);
    assert.equal(m.seesFreeText, false);
  });
  await t.test('an empty scope is the whole district', () => assert.equal(readMe(me({scope: []})).scope, null));
  await t.test('free text only when the server says so', () => {
    assert.equal(readMe(me({sees_free_text: true})).seesFreeText, true);
    assert.equal(readMe(me({sees_free_text: undefined})).seesFreeText, false);
  });
  for (const [name, body] of [['no body', null], ['no role', me({role: undefined})], ['no permissions', me({permissions: undefined})]]) {
    await t.test(`refuses ${name}`, () => assert.throws(() => readMe(body), /\/v1\/me/));
  }
});

test('viewsOf follows the permissions, whatever the role is called', async (t) => {
  const all = ['grids.read', 'grids.write', 'cases.read', 'cases.update', 'stats.read', 'hotspots.read', 'map.read'];
  const cases = [
    {name: 'everything', perms: all, free: true, want: {map: true, plan: true, hotspots: true, stats: true, cases: true, caseUpdate: true, freeText: true, grids: true}},
    {name: 'a planner', perms: ['grids.read', 'cases.read', 'stats.read', 'hotspots.read', 'map.read'], want: {map: true, plan: true, hotspots: true, stats: true, cases: true, caseUpdate: false, freeText: false, grids: false}},
    {name: 'stats without hotspots', perms: ['cases.read', 'cases.update', 'stats.read', 'map.read'], free: true, want: {map: true, plan: true, hotspots: false, stats: true, cases: true, caseUpdate: true, freeText: true, grids: false}},
    {name: 'a viewer', perms: ['grids.read', 'cases.read', 'map.read'], want: {map: true, plan: false, hotspots: false, stats: false, cases: true, caseUpdate: false, freeText: false, grids: false}},
    {name: 'no map', perms: ['grids.read', 'cases.read', 'cases.bulk'], free: true, want: {map: false, plan: false, hotspots: false, stats: false, cases: true, caseUpdate: false, freeText: true, grids: false}},
  ];
  for (const c of cases) {
    await t.test(c.name, () => assert.deepEqual(viewsOf(readMe(me({role: 'whatever', permissions: c.perms, sees_free_text: !!c.free}))), c.want));
  }
});

test('roleWords and scopeWords', () => {
  assert.deepEqual(roleWords('dispatcher'), {label: 'Dispatcher', zh: '派遣员'});
  assert.deepEqual(roleWords('auditor'), {label: 'auditor', zh: ''});
  assert.equal(scopeWords(null), 'Whole district');
  assert.equal(scopeWords([]), 'Whole district');
  const names = {370203005: '辽宁路街道', 370203005001: '某社区'};
  const nameOf = (c) => names[c] || null;
  assert.equal(scopeWords(['370203005'], nameOf), '辽宁路街道');
  assert.equal(scopeWords(['370203005', '370203999'], nameOf), '辽宁路街道, 370203999');
  assert.equal(scopeWords(['370203005', '370203005001', 'a', 'b'], nameOf), '辽宁路街道, 某社区 +2 more');
});

test('readMe reads a session: the user and the CSRF token', () => {
  const base = {role: 'dispatcher', permissions: ['map.read'], key_id: '0', name: 'li.wei'};
  const me = readMe({...base, user: {id: '7', name: 'li.wei', display_name: '李伟'}, csrf_token: 'tok'});
  assert.deepEqual(me.user, {name: 'li.wei', displayName: '李伟'});
  assert.equal(me.csrf, 'tok');
  const key = readMe(base);
  assert.equal(key.user, null);
  assert.equal(key.csrf, null);
  assert.equal(readMe({...base, csrf_token: ''}).csrf, null);
});

test('cleanSignIn', async (t) => {
  const cases = [
    {name: 'a name and password', user: 'li.wei', password: 'correct horse', want: {body: {user: 'li.wei', password: 'correct horse'}}},
    {name: 'the name trimmed, the password as typed', user: '  li.wei\n', password: ' pass word ', want: {body: {user: 'li.wei', password: ' pass word '}}},
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual(cleanSignIn(c.user, c.password), c.want));
  for (const [user, password] of [['', 'x'], ['  ', 'x'], ['li.wei', ''], [null, null]]) {
    await t.test(`refuses ${JSON.stringify([user, password])}`, () => assert.ok(cleanSignIn(user, password).error));
  }
});

test('readSignIn gives GET /v1/me with the token', () => {
  const me = {role: 'handler', permissions: []};
  assert.deepEqual(readSignIn({csrf_token: 'tok', me}), {...me, csrf_token: 'tok'});
  for (const bad of [null, {}, {me}, {csrf_token: '', me}, {csrf_token: 'tok'}]) assert.throws(() => readSignIn(bad));
});

test('credentialHeaders: a key, or the CSRF token on changes', async (t) => {
  const cases = [
    {name: 'a key, GET', method: 'GET', key: KEY, csrf: null, want: {Authorization: `Bearer ${KEY}`}},
    {name: 'a key wins over a token', method: 'PATCH', key: KEY, csrf: 'tok', want: {Authorization: `Bearer ${KEY}`}},
    {name: 'session, GET: the cookie alone', method: 'GET', key: null, csrf: 'tok', want: {}},
    {name: 'session, HEAD', method: 'HEAD', key: null, csrf: 'tok', want: {}},
    {name: 'session, PATCH', method: 'PATCH', key: null, csrf: 'tok', want: {'X-CSRF-Token': 'tok'}},
    {name: 'session, post (lower case)', method: 'post', key: null, csrf: 'tok', want: {'X-CSRF-Token': 'tok'}},
    {name: 'session, PUT', method: 'PUT', key: null, csrf: 'tok', want: {'X-CSRF-Token': 'tok'}},
    {name: 'session, DELETE', method: 'DELETE', key: null, csrf: 'tok', want: {'X-CSRF-Token': 'tok'}},
    {name: 'nothing', method: 'POST', key: null, csrf: null, want: {}},
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual(credentialHeaders(c.method, c.key, c.csrf), c.want));
});

test('streamSource: the cookie, or a ticket', () => {
  assert.deepEqual(streamSource(true), {url: '/v1/events'});
  assert.deepEqual(streamSource(false), {ticket: true});
});

test('signInMethods reads a refusal', () => {
  assert.deepEqual(signInMethods({sign_in: ['key', 'password', 'oidc']}), ['key', 'password', 'oidc']);
  assert.deepEqual(signInMethods({sign_in: ['key']}), ['key']);
  assert.deepEqual(signInMethods({}), ['key', 'password']);
  assert.deepEqual(signInMethods(null), ['key', 'password']);
  assert.deepEqual(signInMethods({sign_in: [1, 'oidc']}), ['oidc']);
});
