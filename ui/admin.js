// The Audit (filters, chain status), Keys (status; rotate for admins) and Tokens (admins: list,
// create shown once, revoke) pages of SPEC §14. Text only, never HTML.
import { call } from './api.js';
import { $, busy, el, say } from './dom.js';

const td = (text, cls) => el('td', { text: text === null || text === undefined ? '—' : String(text), class: cls });

export async function showAudit() {
  const params = new URLSearchParams();
  for (const [id, key] of [['#a-action', 'action'], ['#a-target', 'target'], ['#a-since', 'since']]) {
    const v = $(id).value.trim();
    if (v) params.set(key, v);
  }
  const data = await busy(null, 'Loading the audit trail', () => call('GET', `/api/v1/admin/audit?${params}`));
  if (!data) return;
  const c = data.chain;
  $('#chain').textContent = c.ok
    ? `Chain verified: ${c.records} records, newest #${c.last_seq}.`
    : `Chain BROKEN at record #${c.first_bad_seq}: ${c.problem}`;
  $('#chain').className = c.ok ? 'notice' : 'notice error';
  const rows = data.records.map((r) => el('tr', {}, td(r.seq), td(r.time), td(r.actor, 'mono'), td(r.action),
    td(r.target, 'mono'), td(r.outcome), td(r.detail)));
  $('#audit-table tbody').replaceChildren(...rows);
}

export async function showKeys(identity) {
  const data = await busy(null, 'Loading key status', () => call('GET', '/api/v1/admin/keys'));
  if (!data) return;
  $('#rotate-key').hidden = !(identity && identity.admin);
  $('#keys-summary').textContent = `Active data key v${data.active_version} since ${data.active_created_at}; ` +
    `master key generation ${data.master_key_generation}; ${data.quarantined} quarantined versions.`;
  $('#keys-table tbody').replaceChildren(...data.keys.map((k) => el('tr', {}, td(`v${k.version}`), td(k.state),
    td(k.created_at), td(`${k.encryptions} of ${k.max_encryptions}`), td(k.versions_encrypted))));
}

async function rotate() {
  const done = await busy($('#rotate-key'), 'Rotating the data key', () => call('POST', '/api/v1/admin/keys/rotate', {}));
  if (done) { say(`Rotated: the active data key is now v${done.active_version}.`); await showKeys({ admin: true }); }
}

export async function showTokens() {
  const data = await busy(null, 'Loading tokens', () => call('GET', '/api/v1/admin/tokens'));
  if (!data) return;
  $('#tokens-table tbody').replaceChildren(...data.tokens.map((t) => {
    const actions = el('td', { class: 'actions' });
    if (t.state === 'live') {
      const b = el('button', { type: 'button', class: 'danger', text: 'Revoke' });
      b.addEventListener('click', async () => {
        const ok = await busy(b, `Revoking ${t.name}`, () => call('DELETE', `/api/v1/admin/tokens/${encodeURIComponent(t.name)}`));
        if (ok) { say(`Revoked ${t.name}.`); await showTokens(); }
      });
      actions.append(b);
    }
    return el('tr', { 'data-name': t.name }, td(t.name, 'mono'), td(t.role), td(t.created_at), td(t.expires_at), td(t.state), actions);
  }));
}

async function createToken(event) {
  event.preventDefault();
  const body = { name: $('#t-name').value.trim(), role: $('#t-role').value.trim() };
  const ttl = $('#t-ttl').value.trim();
  if (ttl) body.ttl = ttl;
  const made = await busy(event.submitter || null, 'Creating the token', () => call('POST', '/api/v1/admin/tokens', body));
  if (!made) return;
  const box = $('#new-token');
  const hide = el('button', { type: 'button', class: 'secondary', text: 'Hide token' });
  hide.addEventListener('click', () => { box.replaceChildren(); box.hidden = true; });
  box.replaceChildren(el('span', { text: `Token ${made.info.name} — shown only this once, copy it now: ` }),
    el('code', { class: 'mono', text: made.token }), hide);
  box.hidden = false;
  $('#t-name').value = '';
  await showTokens();
}

async function preview(event) {
  event.preventDefault();
  const body = {};
  for (const [id, key] of [['#r-ns', 'namespace'], ['#r-fn', 'function'], ['#r-group', 'group'], ['#r-apikey', 'apikey']]) {
    const v = $(id).value.trim();
    if (v) body[key] = v;
  }
  const data = await busy(event.submitter || null, 'Resolving', () => call('POST', '/api/v1/resolve/preview', body));
  if (!data) return;
  let text = `Scopes in order: ${data.chain.join(' → ')}.`;
  if (data.left_out.length) text += ` Left out (your role may not resolve them): ${data.left_out.join(', ')}.`;
  if (data.warnings.length) text += ` Warnings: ${data.warnings.join('; ')}`;
  $('#resolve-chain').textContent = text;
  $('#resolve-table tbody').replaceChildren(...data.secrets.map((v) => el('tr', { 'data-name': v.name },
    td(v.env, 'mono'), td(v.name, 'mono'), td(v.scope, 'mono'), td(v.version))));
}

export function forgetAdmin() {
  $('#resolve-table tbody').replaceChildren();
  $('#resolve-chain').textContent = '';
  $('#new-token').replaceChildren();
  $('#new-token').hidden = true;
  for (const id of ['#audit-table', '#keys-table', '#tokens-table']) $(`${id} tbody`).replaceChildren();
}

export function wireAdmin() {
  $('#audit-filters').addEventListener('submit', (e) => { e.preventDefault(); showAudit(); });
  $('#rotate-key').addEventListener('click', rotate);
  $('#token-form').addEventListener('submit', createToken);
  $('#resolve-form').addEventListener('submit', preview);
}
