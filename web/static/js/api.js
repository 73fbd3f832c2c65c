// API access: every request goes through here, so that each carries the
// page's credential (the API key, or for a person's session the CSRF
// token on each change; the browser sends the cookie), failures become sentences a person can act on, a refused key
// sends the person back to the sign-in form, and the loading bar knows
// what is pending.

import {credentialHeaders, needsKey} from './auth.js';

let pending = 0;
const listeners = new Set();

/** key is the API key requests carry (null: none yet). */
let key = null;
const refusedListeners = new Set();

/** csrf is the session's CSRF token (null: not signed in by session). */
let csrf = null;

/** setKey sets the key every request carries from now on (null: none). */
export function setKey(k) {
  key = k || null;
}

/** setSession makes the page speak by session cookie, with its CSRF token (null: not). */
export function setSession(token) {
  csrf = token || null;
}

/** bySession tells whether the page speaks by session cookie. */
export function bySession() {
  return !key && !!csrf;
}

/** currentKey is the key requests carry, for what does not go through request (map tiles). */
export function currentKey() {
  return key;
}

/**
 * onRefused registers fn(message) to hear that the server refused the
 * page's key (HTTP 401), with the server's words; keyRefused tells them.
 */
export function onRefused(fn) {
  refusedListeners.add(fn);
}

export function keyRefused(message) {
  for (const fn of refusedListeners) fn(message);
}

/** onPending registers fn(count) to hear how many requests are in flight. */
export function onPending(fn) {
  listeners.add(fn);
}

function changed(delta) {
  pending += delta;
  for (const fn of listeners) fn(pending);
}

/** APIError carries the problem+json detail of a failed request. */
export class APIError extends Error {
  constructor(message, status, problem) {
    super(message);
    this.name = 'APIError';
    this.status = status;
    this.problem = problem || null;
  }
}

/**
 * request fetches path and returns {body, response}. JSON bodies are parsed;
 * failures throw an APIError whose message says what went wrong in words:
 * the server's problem detail, or what a network failure means. The page's
 * key goes along, unless options.key names another (a key being tried at
 * sign-in: its refusal is the form's to show, not the page's).
 */
export async function request(path, options = {}) {
  const {json, headers = {}, raw = false, signal, method = json === undefined ? 'GET' : 'POST'} = options;
  const tried = options.key !== undefined;
  const sent = tried ? options.key : key;
  const token = csrf;
  const auth = needsKey(path, window.location.origin) ? credentialHeaders(method, sent, tried ? null : token) : {};
  const init = {method, headers: {Accept: 'application/json, application/geo+json;q=0.9, */*;q=0.5', ...auth, ...headers}, signal};
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  changed(+1);
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    changed(-1);
    if (err.name === 'AbortError') throw err;
    throw new APIError('citygrid did not answer: the server may be down or the network unreachable.', 0);
  }
  try {
    if (!response.ok) {
      let problem = null;
      try {
        problem = await response.json();
      } catch {
        // not problem+json; fall back to the status line
      }
      const detail = problem && (problem.detail || problem.title);
      // Only a refusal of the credential in use now signs the page out: a late reply to one since replaced says nothing.
      if (response.status === 401 && !tried && sent && sent === key) keyRefused(detail || 'The server refused the API key.');
      if (response.status === 401 && !tried && !sent && token && token === csrf && !key) keyRefused(detail || 'Your session has ended: sign in again.');
      throw new APIError(detail ? `${detail} (HTTP ${response.status})` : `The server answered HTTP ${response.status} ${response.statusText}.`, response.status, problem);
    }
    if (raw) return {body: await response.blob(), response};
    const type = response.headers.get('Content-Type') || '';
    const body = type.includes('json') ? await response.json() : await response.text();
    return {body, response};
  } finally {
    changed(-1);
  }
}

/** get returns the parsed body of a GET. */
export async function get(path, options) {
  return (await request(path, options)).body;
}
