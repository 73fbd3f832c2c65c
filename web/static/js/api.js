// API access: every request goes through here, so that failures become
// sentences a person can act on and the loading bar knows what is pending.

let pending = 0;
const listeners = new Set();

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
 * the server's problem detail, or what a network failure means.
 */
export async function request(path, options = {}) {
  const {json, headers = {}, raw = false, signal, method = json === undefined ? 'GET' : 'POST'} = options;
  const init = {method, headers: {Accept: 'application/json, application/geo+json;q=0.9, */*;q=0.5', ...headers}, signal};
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
