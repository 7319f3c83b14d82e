// Building the page from data: text only (textContent), never HTML from a value or a name.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);  // strings become text nodes
  }
  return node;
}

export const $ = (selector) => document.querySelector(selector);

const status = () => $('#status');
const error = () => $('#error');

export function say(text) { status().textContent = text; }
export function fail(err) {
  const box = error();
  box.textContent = err && err.message ? err.message : String(err);
  box.hidden = false;
}
export function clearError() { error().hidden = true; error().textContent = ''; }

// Runs a slow action with visible progress: the button is disabled and the status line says so.
export async function busy(button, label, action) {
  if (button) button.disabled = true;
  say(`${label}…`);
  clearError();
  try {
    const result = await action();
    say('');
    return result;
  } catch (err) {
    say('');
    if (!err || err.status !== 401 || !err.sessionEnded) fail(err);  // the sign-in page says why
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// A scope pattern of the role (SPEC §8): "*" all, else '*' matches within one segment.
export function matches(pattern, scope) {
  if (pattern === '*') return true;
  const re = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/:]*');
  return new RegExp(`^${re}$`).test(scope);
}
export function may(identity, permission, scope) {
  const list = (identity && identity.permissions && identity.permissions[permission]) || [];
  return scope === undefined ? list.length > 0 : list.some((p) => matches(p, scope));
}
