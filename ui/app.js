// The console's entry point: sign in / sign out and the page switch.
import { signIn, signOut, whenSignedOut } from './api.js';
import { $, busy, clearError, fail, say } from './dom.js';
import { forgetSecrets, showSecrets, wireSecrets } from './secrets.js';

function showSignIn(reason) {
  forgetSecrets();
  for (const d of document.querySelectorAll('dialog[open]')) d.close();
  $('#nav').hidden = true;
  $('#secrets').hidden = true;
  $('#signin').hidden = false;
  $('#who').textContent = '';
  if (reason) fail(reason);
  $('#token').focus();
}

async function onSignIn(event) {
  event.preventDefault();
  const input = $('#token');
  const token = input.value.trim();
  input.value = '';  // the page keeps no copy of the token
  const identity = await busy(event.submitter || null, 'Signing in', () => signIn(token));
  if (!identity) return;
  $('#signin').hidden = true;
  $('#nav').hidden = false;
  $('#secrets').hidden = false;
  $('#who').textContent = `${identity.token} (${identity.role})`;
  await showSecrets(identity);
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
$('#sign-out').addEventListener('click', onSignOut);
$('#nav-secrets').addEventListener('click', () => $('#f-name').focus());
wireSecrets();
$('#token').focus();
