// Signing in: the form that asks for an API key when the page has none or
// the server refused the one it had, and the header's line saying who the
// page speaks as, with the way out. People with passwords and sessions
// come later; this is the module that grows for them, and the page only
// calls askForKey and showAccount.

import {h, fill, $} from './dom.js';
import {cleanKey, roleWords, scopeWords} from './auth.js';

/**
 * askForKey shows the sign-in form with message (the server's words on a
 * refused key, or none) and calls tryKey(key) with each key entered.
 * tryKey resolves to null when the key is good, which closes the form, or
 * to the words to show under the field.
 */
export function askForKey(message, tryKey) {
  const box = $('#signin');
  const input = $('#signin-key');
  const msg = $('#signin-msg');
  const button = $('#signin-form button[type=submit]');
  box.hidden = false;
  document.body.classList.add('signed-out');
  $('#who').hidden = true;
  msg.textContent = message || '';
  msg.classList.toggle('late', !!message);
  input.value = '';
  // A property, not a listener: asking again replaces what a submit does.
  $('#signin-form').onsubmit = async (e) => {
    e.preventDefault();
    const typed = cleanKey(input.value);
    if (typed.error) {
      msg.textContent = typed.error;
      msg.classList.add('late');
      input.focus();
      return;
    }
    button.disabled = true;
    msg.textContent = 'Checking the key…';
    msg.classList.remove('late');
    let words;
    try {
      words = await tryKey(typed.key);
    } catch (err) {
      words = err.message;
    } finally {
      button.disabled = false;
    }
    if (words === null) {
      box.hidden = true;
      document.body.classList.remove('signed-out');
      input.value = '';
      msg.textContent = '';
      return;
    }
    msg.textContent = words;
    msg.classList.add('late');
    input.select();
  };
  input.focus();
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
  const title = [`Signed in with the key “${me.name || me.keyID}”`, `role ${me.role}${role.zh ? ` (${role.zh})` : ''}`, `scope: ${all}`,
    me.unit ? `unit ${me.unit}` : '', me.expiresAt ? `expires ${me.expiresAt}` : ''].filter(Boolean).join('; ');
  fill(who,
    h('span.who-role', {dataset: {role: me.role}}, role.label),
    h('span.who-scope', {id: 'who-scope'}, scopeWords(me.scope, nameOf)),
    h('button.who-out', {type: 'button', id: 'sign-out', onclick: onSignOut}, 'Sign out'));
  who.title = title;
  who.dataset.role = me.role;
  who.hidden = false;
}
