// The Secrets page (SPEC §14): table with filters and masked values, New secret / edit, Reveal
// (hides again after 30 s), History with changes and Rollback, Delete and restore.
import { call } from './api.js';
import { $, busy, el, fail, may, say } from './dom.js';

const REVEAL_MS = 30_000;
const MAX_ROWS = 20_000;
let identity = null;
let rows = [];          // the listed metadata (no values)
let editing = null;     // the secret being edited, or null for a new one
const hideTimers = new Set();

const q = (scope) => `?scope=${encodeURIComponent(scope)}`;
const secretPath = (name) => `/api/v1/admin/secrets/${encodeURIComponent(name)}`;
const kindOf = (scope) => scope.split(':')[0];
const when = (t) => (t === null || t === undefined || t === '' ? '—' : String(t));

export function showSecrets(who) {
  identity = who;
  $('#new-secret').hidden = !may(identity, 'write');
  return load();
}

export function forgetSecrets() {
  for (const t of hideTimers) clearTimeout(t);
  hideTimers.clear();
  rows = [];
  $('#secret-table tbody').replaceChildren();
  $('#deleted').hidden = true;
}

async function load() {
  const params = new URLSearchParams({ limit: '1000' });
  const ns = $('#f-ns').value.trim();
  const tag = $('#f-tag').value.trim();
  if (ns) params.set('namespace', ns);
  if (tag) params.set('tag', tag);
  const table = $('#secret-table');
  table.setAttribute('aria-busy', 'true');
  const all = await busy(null, 'Loading secrets', async () => {
    const out = [];
    let cursor = null;
    do {  // every page, 1,000 at a time (at most MAX_ROWS)
      if (cursor) params.set('cursor', cursor);
      const data = await call('GET', `/api/v1/admin/secrets?${params}`);
      out.push(...data.secrets);
      cursor = data.next_cursor;
    } while (cursor && out.length < MAX_ROWS);
    return { secrets: out, more: !!cursor };
  });
  table.removeAttribute('aria-busy');
  if (!all) return;
  rows = all.secrets;
  render();
  if (all.more) say(`Showing the first ${MAX_ROWS} secrets; narrow the filters to see the others.`);
}

function render() {
  const kind = $('#f-kind').value;
  const name = $('#f-name').value.trim().toLowerCase();
  const shown = rows.filter((s) => (!kind || kindOf(s.scope) === kind) &&
                                  (!name || s.name.toLowerCase().includes(name)));
  const body = document.createDocumentFragment();
  for (const s of shown) body.append(row(s));
  $('#secret-table tbody').replaceChildren(body);
  $('#count').textContent = `${shown.length} of ${rows.length} secrets`;
}

function cell(label, text, cls) { return el('td', { 'data-label': label, class: cls, text }); }

function row(s) {
  const value = el('span', { class: 'masked', text: '••••••••' });
  const actions = el('td', { class: 'actions', 'data-label': 'Actions' });
  const tr = el('tr', { 'data-name': s.name, 'data-scope': s.scope },
    el('td', { 'data-label': 'Name' }, el('span', { class: 'mono', text: s.name }),
      s.description ? el('div', { class: 'hint', text: s.description }) : null),
    cell('Scope', s.scope, 'mono'), cell('Version', String(s.version)),
    cell('Fingerprint', s.fingerprint, 'mono'), cell('Tags', (s.tags || []).join(', ')),
    cell('Expires', when(s.expires_at)), el('td', { 'data-label': 'Value', class: 'mono' }, value), actions);
  if (may(identity, 'reveal', s.scope)) {
    const b = el('button', { type: 'button', class: 'secondary', text: 'Reveal' });
    b.addEventListener('click', () => toggleReveal(b, value, s));
    actions.append(b);
  }
  if (may(identity, 'write', s.scope)) {
    actions.append(el('button', { type: 'button', class: 'secondary', text: 'Edit', onclick: () => openEdit(s) }));
  }
  actions.append(el('button', { type: 'button', class: 'secondary', text: 'History', onclick: () => openHistory(s) }));
  if (may(identity, 'delete', s.scope)) {
    const d = el('button', { type: 'button', class: 'danger', text: 'Delete' });
    d.addEventListener('click', () => remove(d, s));
    actions.append(d);
  }
  return tr;
}

function mask(button, value) {
  value.textContent = '••••••••';
  value.className = 'masked';
  button.textContent = 'Reveal';
}

async function toggleReveal(button, value, s) {
  if (button.textContent === 'Hide') return mask(button, value);
  const data = await busy(button, `Revealing ${s.name}`,
    () => call('GET', `${secretPath(s.name)}/value${q(s.scope)}`));
  if (!data) return;
  value.textContent = data.value;   // text, never HTML
  value.className = 'revealed';
  button.textContent = 'Hide';
  const timer = setTimeout(() => { hideTimers.delete(timer); mask(button, value); }, REVEAL_MS);
  hideTimers.add(timer);
  say(`${s.name} is shown for 30 seconds (the reveal is in the audit log).`);
}

async function remove(button, s) {
  const done = await busy(button, `Deleting ${s.name}`,
    () => call('DELETE', `${secretPath(s.name)}${q(s.scope)}`));
  if (!done) return;
  const box = $('#deleted');
  const restore = el('button', { type: 'button', class: 'secondary', text: 'Restore' });
  restore.addEventListener('click', () => restoreSecret(restore, s));
  box.replaceChildren(el('span', { text: `Deleted ${s.name} (${s.scope}).` }), restore);
  box.hidden = false;
  await load();
}

// Restore: roll back to the newest version that is not the tombstone.
async function restoreSecret(button, s) {
  const done = await busy(button, `Restoring ${s.name}`, async () => {
    const h = await call('GET', `${secretPath(s.name)}/history${q(s.scope)}`);
    const live = h.versions.filter((v) => !v.tombstone).map((v) => v.version);
    return call('POST', `${secretPath(s.name)}/rollback${q(s.scope)}`,
      { version: Math.max(...live) });
  });
  if (!done) return;
  $('#deleted').hidden = true;
  say(`Restored ${s.name}.`);
  await load();
}

function openEdit(s) {
  editing = s || null;
  $('#edit-title').textContent = s ? `Edit ${s.name}` : 'New secret';
  $('#e-name').value = s ? s.name : '';
  $('#e-name').readOnly = !!s;
  $('#e-scope').value = s ? s.scope : 'global';
  $('#e-scope').readOnly = !!s;
  $('#e-value').value = '';
  $('#e-value').required = !s;
  $('#e-value-hint').hidden = !s;
  $('#e-desc').value = s ? s.description || '' : '';
  $('#e-tags').value = s ? (s.tags || []).join(', ') : '';
  $('#e-expires').value = s && s.expires_at ? String(s.expires_at) : '';
  $('#edit-error').hidden = true;
  $('#edit-dialog').showModal();
  (s ? $('#e-value') : $('#e-name')).focus();
}

async function save(event) {
  event.preventDefault();
  const tags = $('#e-tags').value.split(',').map((t) => t.trim()).filter(Boolean);
  const body = { description: $('#e-desc').value, tags };
  const expires = $('#e-expires').value.trim();
  if (expires) body.expires_at = expires;
  else if (editing) body.expires_at = null;
  const value = $('#e-value').value;
  let request;
  if (editing) {
    if (value) body.value = value;
    body.expected_version = editing.version;
    request = () => call('PUT', `${secretPath(editing.name)}${q(editing.scope)}`, body);
  } else {
    Object.assign(body, { name: $('#e-name').value.trim(), value, scope: $('#e-scope').value.trim() });
    request = () => call('POST', '/api/v1/admin/secrets', body);
  }
  const errorBox = $('#edit-error');
  try {
    errorBox.hidden = true;
    say('Saving…');
    $('#e-save').disabled = true;
    await request();
    $('#e-value').value = '';
    $('#edit-dialog').close();
    say(`Saved ${editing ? editing.name : body.name}.`);
    await load();
  } catch (err) {
    say('');
    errorBox.textContent = err.message;
    errorBox.hidden = false;
  } finally {
    $('#e-save').disabled = false;
  }
}

function changes(v, older) {
  if (v.tombstone) return 'deleted';
  if (!older) return 'created';
  const out = [];
  if (older.tombstone) out.push('restored');
  if (v.fingerprint !== older.fingerprint) out.push('value changed');
  if ((v.description || '') !== (older.description || '')) out.push('description changed');
  return out.length ? out.join(', ') : 'metadata only';
}

async function openHistory(s) {
  const data = await busy(null, `Loading the history of ${s.name}`,
    () => call('GET', `${secretPath(s.name)}/history${q(s.scope)}`));
  if (!data) return;
  const versions = [...data.versions].sort((a, b) => b.version - a.version);
  const newest = versions.length ? versions[0].version : 0;
  const body = $('#history-table tbody');
  body.replaceChildren();
  versions.forEach((v, i) => {
    const actions = el('td', { class: 'actions' });
    if (v.version !== newest && !v.tombstone && may(identity, 'write', s.scope)) {
      const b = el('button', { type: 'button', class: 'secondary', text: 'Rollback' });
      b.addEventListener('click', () => rollback(b, s, v.version));
      actions.append(b);
    }
    body.append(el('tr', {}, el('td', { text: String(v.version) }), el('td', { text: when(v.created_at) }),
      el('td', { text: v.actor || '' }), el('td', { class: 'mono', text: v.fingerprint || '' }),
      el('td', { text: changes(v, versions[i + 1]) }), actions));
  });
  $('#history-title').textContent = `History of ${s.name}`;
  $('#history-error').hidden = true;
  $('#history-dialog').showModal();
}

async function rollback(button, s, version) {
  try {
    button.disabled = true;
    say(`Rolling ${s.name} back to version ${version}…`);
    await call('POST', `${secretPath(s.name)}/rollback${q(s.scope)}`, { version });
    $('#history-dialog').close();
    say(`Rolled ${s.name} back to version ${version}.`);
    await load();
  } catch (err) {
    say('');
    $('#history-error').textContent = err.message;
    $('#history-error').hidden = false;
  } finally {
    button.disabled = false;
  }
}

export function wireSecrets() {
  $('#new-secret').addEventListener('click', () => openEdit(null));
  $('#edit-form').addEventListener('submit', save);
  $('#e-cancel').addEventListener('click', () => { $('#e-value').value = ''; $('#edit-dialog').close(); });
  $('#edit-dialog').addEventListener('close', () => { $('#e-value').value = ''; });  // Escape too
  $('#h-close').addEventListener('click', () => $('#history-dialog').close());
  $('#filters').addEventListener('submit', (e) => { e.preventDefault(); load().catch(fail); });
  $('#f-kind').addEventListener('change', render);
  $('#f-name').addEventListener('input', render);
}
