// The console's entry point: sign in / sign out and the page switch.
import { signIn, signOut, whenSignedOut } from './api.js';
import { $, busy, clearError, fail, say } from './dom.js';
import { forgetSecrets, showSecrets, wireSecrets } from './secrets.js';
import { forgetAdmin, showAudit, showKeys, showTokens, wireAdmin } from './admin.js';

const VIEWS = ['secrets', 'resolve', 'audit', 'keys', 'tokens'];
let identity = null;

function showView(view) {
  clearError();
  for (const v of VIEWS) {
    $(`#${v}`).hidden = v !== view;
    const button = $(`#nav-${v}`);
    if (v === view) button.setAttribute('aria-current', 'page'); else button.removeAttribute('aria-current');
  }
  if (view === 'secrets') return showSecrets(identity);
  if (view === 'resolve') return $('#r-ns').focus();
  if (view === 'audit') return showAudit();
  if (view === 'keys') return showKeys(identity);
  return showTokens();
}

function showSignIn(reason) {
  identity = null;
  forgetSecrets();
  forgetAdmin();
  for (const d of document.querySelectorAll('dialog[open]')) d.close();
  $('#nav').hidden = true;
  for (const v of VIEWS) $(`#${v}`).hidden = true;
  $('#signin').hidden = false;
  $('#who').textContent = '';
  delete document.body.dataset.ready;
  if (reason) fail(reason);
  $('#token').focus();
}

async function onSignIn(event) {
  event.preventDefault();
  const input = $('#token');
  const token = input.value.trim();
  input.value = '';  // the page keeps no copy of the token
  const who = await busy(event.submitter || null, 'Signing in', () => signIn(token));
  if (!who) return;
  identity = who;
  $('#signin').hidden = true;
  $('#nav').hidden = false;
  // Audit and tokens span every scope: admin only, as in the API.
  $('#nav-audit').hidden = !who.admin;
  $('#nav-tokens').hidden = !who.admin;
  $('#nav-resolve').hidden = !(who.permissions.resolve || []).length;
  $('#who').textContent = `${who.token} (${who.role})`;
  await showView('secrets');
  window.lockboxReady = performance.now();
  document.body.dataset.ready = 'secrets';
}

async function onSignOut() {
  await busy($('#sign-out'), 'Signing out', () => signOut());
  clearError();
  say('Signed out.');
  showSignIn(null);
}

whenSignedOut(() => showSignIn(new Error('Your session has expired or was signed out. Sign in again.')));
$('#signin-form').addEventListener('submit', onSignIn);
$('#signin-submit').disabled = false;  // only now: a submit before this line would be a plain form post
$('#sign-out').addEventListener('click', onSignOut);
for (const v of VIEWS) $(`#nav-${v}`).addEventListener('click', () => showView(v));
wireSecrets();
wireAdmin();
$('#token').focus();
