// Signing in: the form that asks a person for a user name and password
// (or, for kiosks and scripts, an API key) when the page has no credential
// or the server refused the one it had, and the header's line saying who
// the page speaks as, with the way out. The page only calls askToSignIn
// and showAccount.

import {h, fill, $} from './dom.js';
import {cleanKey, cleanSignIn, readSignIn, storeKey, roleWords, scopeWords} from './auth.js';
import {get, request, setKey, setSession} from './api.js';

/** MODES name the form's two ways in: the fields each shows, the other way's button label. */
const MODES = {
  user: {box: '#signin-by-user', focus: '#signin-user', other: 'Sign in with an API key'},
  key: {box: '#signin-by-key', focus: '#signin-key', other: 'Sign in with a user name'},
};

/**
 * askToSignIn shows the sign-in form in mode ('user' or 'key') with
 * message (the server's words on a refused credential, or none).
 * tryUser({user, password}) and tryKey(key) are called with what is
 * entered; each resolves to null when it signed in, which closes the form,
 * or to the words to show under the fields.
 */
/**
 * offerProvider shows, under the form, the way to the city's identity
 * provider (OpenID Connect) when the server offers it.
 */
export function offerProvider(on) {
  // The address is set here, not in the page: the page names only its
  // own assets.
  if (on) $('#signin-oidc-link').href = '/v1/oidc/login';
  $('#signin-oidc').hidden = !on;
}

export function askToSignIn(message, mode, {tryUser, tryKey}) {
  const box = $('#signin');
  const form = $('#signin-form');
  const msg = $('#signin-msg');
  const button = $('#signin-form button[type=submit]');
  const say = (words, late) => {
    msg.textContent = words;
    msg.classList.toggle('late', late);
  };
  const show = (m) => {
    mode = m;
    form.dataset.mode = m;
    for (const [name, w] of Object.entries(MODES)) $(w.box).hidden = name !== m;
    $('#signin-switch').textContent = MODES[m].other;
    $(MODES[m].focus).focus();
  };
  box.hidden = false;
  document.body.classList.add('signed-out');
  $('#who').hidden = true;
  for (const id of ['#signin-key', '#signin-password']) $(id).value = '';
  $('#signin-switch').onclick = () => {
    say('', false);
    show(mode === 'user' ? 'key' : 'user');
  };
  // A property, not a listener: asking again replaces what a submit does.
  form.onsubmit = async (e) => {
    e.preventDefault();
    const typed = mode === 'key' ? cleanKey($('#signin-key').value) : cleanSignIn($('#signin-user').value, $('#signin-password').value);
    if (typed.error) {
      say(typed.error, true);
      $(MODES[mode].focus).focus();
      return;
    }
    button.disabled = true;
    say(mode === 'key' ? 'Checking the key…' : 'Signing in…', false);
    let words;
    try {
      words = await (mode === 'key' ? tryKey(typed.key) : tryUser(typed.body));
    } catch (err) {
      words = err.message;
    } finally {
      button.disabled = false;
    }
    if (words === null) {
      box.hidden = true;
      document.body.classList.remove('signed-out');
      for (const id of ['#signin-key', '#signin-password']) $(id).value = '';
      say('', false);
      return;
    }
    say(words, true);
    if (mode === 'key') $('#signin-key').select();
    else $('#signin-password').select();
  };
  show(mode === 'key' ? 'key' : 'user');
  say(message || '', !!message);
}

/**
 * signInAgain shows the form (askToSignIn) and signs in with what is
 * entered: a user name and password by POST /v1/session (the page then
 * speaks by cookie and CSRF token), or a key, checked by GET /v1/me and
 * kept for the tab. signedIn(meBody) hears of success, with GET /v1/me's
 * answer.
 */
export function signInAgain(message, mode, signedIn) {
  askToSignIn(message, mode, {
    tryUser: async (body) => {
      let me;
      try {
        me = readSignIn((await request('/v1/session', {json: body, key: null})).body);
      } catch (err) {
        return err.message;
      }
      setSession(me.csrf_token);
      return signedIn(me);
    },
    tryKey: async (key) => {
      let body;
      try {
        body = await get('/v1/me', {key});
      } catch (err) {
        return err.message;
      }
      storeKey(sessionStorage, key);
      setKey(key);
      return signedIn(body);
    },
  });
}

/**
 * showAccount puts who the page speaks as into the header: me's role and
 * scope (nameOf(code) names a grid, or null while the names load) and the
 * sign-out control, which calls onSignOut.
 */
export function showAccount(me, nameOf, onSignOut) {
  const who = $('#who');
  const all = me.scope ? me.scope.map((c) => (nameOf(c) ? `${nameOf(c)} (${c})` : c)).join(', ') : 'the whole district';
  const role = roleWords(me.role);
  const as = me.user ? `Signed in as ${me.user.displayName ? `${me.user.displayName} (${me.user.name})` : me.user.name}` : `Signed in with the key “${me.name || me.keyID}”`;
  const title = [as, `role ${me.role}${role.zh ? ` (${role.zh})` : ''}`, `scope: ${all}`,
    me.unit ? `unit ${me.unit}` : '', me.expiresAt ? `expires ${me.expiresAt}` : ''].filter(Boolean).join('; ');
  fill(who,
    me.user ? h('span.who-user', {id: 'who-user'}, me.user.displayName || me.user.name) : null,
    h('span.who-role', {dataset: {role: me.role}}, role.label),
    h('span.who-scope', {id: 'who-scope'}, scopeWords(me.scope, nameOf)),
    h('button.who-out', {type: 'button', id: 'sign-out', onclick: onSignOut}, 'Sign out'));
  who.title = title;
  who.dataset.role = me.role;
  who.dataset.by = me.user ? 'session' : 'key';
  who.hidden = false;
}
