// The console's only door to the server: fetch on the same origin with the session cookie, and
// the CSRF header on every state-changing request. The CSRF token lives in this module's memory
// only (never in storage); the API token is sent once, to sign in, and then forgotten.
let csrf = null;
let onSignedOut = () => {};

const PLAIN = {
  bad_request: 'The server could not accept this',
  unauthorized: 'You are not signed in, or your session has ended',
  forbidden: 'Your token’s role does not allow this',
  not_found: 'Not found',
  conflict: 'Someone changed it in the meantime; reload and try again',
  payload_too_large: 'That is too large',
  unsupported_media_type: 'The server could not read the request',
  too_many_requests: 'Too many failed attempts; wait a minute and try again',
  internal: 'The server hit an internal error',
  unavailable: 'The server is busy or unavailable; try again shortly',
};

export class ApiError extends Error {
  constructor(status, code, detail) {
    const base = PLAIN[code] || `The server answered ${status}`;
    super(detail ? `${base}: ${detail}.` : `${base}.`);
    this.status = status;
    this.code = code;
  }
}

export function whenSignedOut(callback) { onSignedOut = callback; }
export function signedIn() { return csrf !== null; }

export async function call(method, path, body) {
  const headers = {};
  // Every request of a session carries the CSRF header, reads too: the cookie alone authorises
  // nothing (browsers send it to every port of this host).
  headers['X-Lockbox-CSRF'] = csrf || '';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'unavailable', 'no answer from the server');
  }
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) {
    const err = data && data.error ? data.error : {};
    const failure = new ApiError(response.status, err.code || '', err.message || '');
    if (response.status === 401 && path !== '/api/v1/session') {
      failure.sessionEnded = true;
      csrf = null;
      onSignedOut(failure);
    }
    throw failure;
  }
  return data;
}

export async function signIn(token) {
  const data = await call('POST', '/api/v1/session', { token });
  csrf = data.csrf_token;
  return data.identity;
}

export async function signOut() {
  try { await call('DELETE', '/api/v1/session'); } finally { csrf = null; }
}

// For the browser test of the CSRF rule: a state-changing request without the header.
export async function callWithoutCsrf(method, path, body) {
  const saved = csrf;
  csrf = null;
  try { return await call(method, path, body); } finally { csrf = saved; }
}
