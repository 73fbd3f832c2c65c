// Who the page speaks as: the API key this tab keeps, the header that
// carries it, the stream ticket that stands in for it where a header
// cannot go, and what GET /v1/me says the key may do, read into the views
// and controls the page shows. What a role may do is the API's word
// (permissions, case_actions); nothing here restates it. Pure: the storage
// is passed in, so that Node can test all of it.

/** KEY_ITEM is the sessionStorage item that holds the key: gone with the tab, never in a URL. */
export const KEY_ITEM = 'citygrid.key';

/** storedKey returns the key kept in storage, or null. */
export function storedKey(storage) {
  try {
    const k = storage.getItem(KEY_ITEM);
    return k && k.trim() ? k.trim() : null;
  } catch {
    return null; // storage refused (privacy settings): the form asks each time
  }
}

export function storeKey(storage, key) {
  try {
    storage.setItem(KEY_ITEM, key);
  } catch {
    // the key still works for this page; a reload asks again
  }
}

export function forgetKey(storage) {
  try {
    storage.removeItem(KEY_ITEM);
  } catch {
    // nothing kept, nothing to forget
  }
}

/**
 * cleanKey reads what a person typed or pasted into the key field: a key,
 * a "Bearer …" header value or a line of .citygrid/demo-keys.env
 * (CG_ADMIN_KEY=cg_…). It returns {key} or {error} in words. Whether the
 * key is valid is the server's to say.
 */
export function cleanKey(typed) {
  let k = String(typed || '').trim();
  k = k.replace(/^(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*=/, '').replace(/^bearer(?:\s+|$)/i, '').trim();
  k = k.replace(/^(['"])(.*)\1$/, '$2');
  if (!k) return {error: 'Enter an API key.'};
  // A header value must be visible ASCII; anything else would fail in fetch, not at the server.
  if (!/^[\x21-\x7e]+$/.test(k)) return {error: 'An API key has no spaces and only plain letters, digits and signs.'};
  return {key: k};
}

/** authHeaders are the headers that carry key (none without one). */
export function authHeaders(key) {
  return key ? {Authorization: `Bearer ${key}`} : {};
}

/**
 * needsKey tells whether a request to url (absolute, or relative to
 * origin) carries the key: the API's own routes, never another origin and
 * never the page's public files (the page, /static/, /fonts/).
 */
export function needsKey(url, origin) {
  let u;
  try {
    u = new URL(url, origin);
  } catch {
    return false;
  }
  if (u.origin !== origin) return false;
  const p = u.pathname;
  return !(p === '/' || p === '/index.html' || p.startsWith('/static/') || p.startsWith('/fonts/'));
}

/** signedRequest is MapLibre's transformRequest answer for url: the key as a header where it belongs. */
export function signedRequest(url, origin, key) {
  return key && needsKey(url, origin) ? {url, headers: authHeaders(key)} : {url};
}

/** readTicket reads POST /v1/events/ticket ({ticket, expires_at}) into the ticket. */
export function readTicket(body) {
  if (!body || typeof body.ticket !== 'string' || !body.ticket) {
    throw new Error('the server gave no stream ticket (POST /v1/events/ticket has no "ticket")');
  }
  return body.ticket;
}

/** streamURL is the event stream's address for a ticket: one ticket, one connection. */
export function streamURL(ticket) {
  return `/v1/events?ticket=${encodeURIComponent(ticket)}`;
}

/** BACKOFF_MAX_MS caps the wait before reconnecting the stream. */
export const BACKOFF_MAX_MS = 30000;

/**
 * backoff is how long to wait before reconnect attempt n (0 first): one
 * second, doubling up to BACKOFF_MAX_MS, spread ±25% by random (0–1) so
 * that pages a restart dropped do not come back all at once.
 */
export function backoff(n, random) {
  const base = Math.min(BACKOFF_MAX_MS, 1000 * 2 ** Math.max(0, n));
  return Math.round(base * (0.75 + 0.5 * random));
}

/**
 * readMe reads GET /v1/me: {key_id, name, role, scope (null: the whole
 * district, else grid codes), unit, source, expires_at, permissions,
 * case_actions, sees_free_text}. It throws a sentence when the shape the
 * page relies on is missing.
 */
export function readMe(body) {
  if (!body || typeof body.role !== 'string' || !Array.isArray(body.permissions)) {
    throw new Error('GET /v1/me gives no role and permissions');
  }
  return {
    keyID: body.key_id || '',
    name: body.name || '',
    role: body.role,
    scope: Array.isArray(body.scope) && body.scope.length ? body.scope.slice() : null,
    unit: body.unit || null,
    source: body.source || null,
    expiresAt: body.expires_at || null,
    permissions: new Set(body.permissions),
    caseActions: Array.isArray(body.case_actions) ? body.case_actions.slice() : null,
    seesFreeText: body.sees_free_text === true,
    // A person's session: who (user name, display name) and the token its page sends with each change.
    user: body.user && typeof body.user.name === 'string' ? {name: body.user.name, displayName: body.user.display_name || ''} : null,
    csrf: typeof body.csrf_token === 'string' && body.csrf_token ? body.csrf_token : null,
  };
}

/**
 * cleanSignIn reads the sign-in form's user name and password into the
 * body of POST /v1/session ({user, password}), or {error} in words. The
 * password is sent as typed: spaces may be part of it.
 */
export function cleanSignIn(user, password) {
  const u = String(user || '').trim();
  const p = String(password || '');
  if (!u) return {error: 'Enter your user name.'};
  if (!p) return {error: 'Enter your password.'};
  return {body: {user: u, password: p}};
}

/**
 * readSignIn reads POST /v1/session's answer ({csrf_token, me}) into the
 * body of GET /v1/me with the token in it, as a reload would get it.
 */
export function readSignIn(body) {
  if (!body || typeof body.csrf_token !== 'string' || !body.csrf_token || !body.me) {
    throw new Error('the server signed in without a CSRF token (POST /v1/session has no "csrf_token")');
  }
  return {...body.me, csrf_token: body.csrf_token};
}

/** CHANGES are the methods the server checks the CSRF token on. */
const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * credentialHeaders are the headers a request by method carries: the key
 * (Bearer) when the page has one, else, for a change made by the session
 * cookie, its CSRF token. A GET by session needs nothing: the browser sends
 * the cookie.
 */
export function credentialHeaders(method, key, csrf) {
  if (key) return authHeaders(key);
  if (csrf && CHANGES.has(String(method || 'GET').toUpperCase())) return {'X-CSRF-Token': csrf};
  return {};
}

/**
 * streamSource is how the live stream is opened: by session, the cookie
 * goes along by itself ({url: '/v1/events'}); by key, a ticket is asked
 * for first ({ticket: true}; EventSource cannot send a header).
 */
export function streamSource(bySession) {
  return bySession ? {url: '/v1/events'} : {ticket: true};
}

/**
 * viewsOf says which views and controls the page shows for me (readMe's):
 * map (the page at all: tiles and the live stream), plan (the planning
 * tab: hotspots or indicators), hotspots (hotspot layer and analysis),
 * stats (indicators), cases (case panels, area lists, CSV), caseUpdate
 * (a case's action buttons), freeText (reporters' titles and descriptions).
 */
export function viewsOf(me) {
  const can = (p) => me.permissions.has(p);
  return {
    map: can('map.read'),
    plan: can('hotspots.read') || can('stats.read'),
    hotspots: can('hotspots.read'),
    stats: can('stats.read'),
    cases: can('cases.read'),
    caseUpdate: can('cases.update'),
    freeText: me.seesFreeText,
    grids: can('grids.write'), // grid drafts (issue 19)
  };
}

/** ROLE_WORDS name the roles in the header, in English and Chinese; a role the page does not know shows its name. */
const ROLE_WORDS = {
  admin: ['Admin', '管理员'], dispatcher: ['Dispatcher', '派遣员'], handler: ['Handler', '处置单位'], inspector: ['Inspector', '监督员'],
  planner: ['Planner', '研判'], viewer: ['Viewer', '浏览'], integration: ['Integration', '接口'],
};

/** roleWords is role's name for the header: {label, zh}. */
export function roleWords(role) {
  const w = ROLE_WORDS[role];
  return w ? {label: w[0], zh: w[1]} : {label: role, zh: ''};
}

/**
 * scopeWords says where me may look: the whole district, or its scope's
 * grids by name (nameOf(code) → name or null), the first two and how many
 * more.
 */
export function scopeWords(scope, nameOf = () => null) {
  if (!scope || !scope.length) return 'Whole district';
  const names = scope.map((c) => nameOf(c) || c);
  const shown = names.slice(0, 2).join(', ');
  return names.length > 2 ? `${shown} +${names.length - 2} more` : shown;
}

/**
 * signInMethods reads how the server lets people sign in from a refusal
 * (a 401's `sign_in`: "key", "password", "oidc"); none listed: key and
 * password, the page's own form.
 */
export function signInMethods(problem) {
  const list = problem && Array.isArray(problem.sign_in) ? problem.sign_in.filter((m) => typeof m === 'string') : [];
  return list.length ? list : ['key', 'password'];
}
