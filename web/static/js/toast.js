// Toasts: short messages in the corner of the page.

import {h, $} from './dom.js';

/**
 * toast shows a message; kind is ok, info, warn or error (errors stay until
 * closed). action, if given, is {label, onclick}: a button that also
 * dismisses the toast.
 */
export function toast(message, kind = 'info', action = null) {
  const box = $('#toasts');
  const el = h('div.toast', {class: `toast-${kind}`, role: kind === 'error' ? 'alert' : 'status'},
    h('span.toast-msg', message),
    action ? h('button.link', {type: 'button', onclick: () => { action.onclick(); el.remove(); }}, action.label) : null,
    h('button.toast-close', {type: 'button', 'aria-label': 'Dismiss', onclick: () => el.remove()}, '×'));
  box.append(el);
  while (box.children.length > 4) box.firstChild.remove();
  if (kind !== 'error') setTimeout(() => el.remove(), kind === 'warn' ? 9000 : 4500);
}

const shown = new Map(); // message → when it was last shown (ms)

/** toastOnce shows an error, unless the same one was shown in the last 15 s (a failing source fails tile after tile). */
export function toastOnce(message) {
  if (Date.now() - (shown.get(message) || 0) < 15000) return;
  shown.set(message, Date.now());
  toast(message, 'error');
}
