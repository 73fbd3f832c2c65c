// The detail panel on the right (a bottom sheet on narrow screens): what
// it shows, the way back to what it showed before, and whether a reply
// that arrives late still belongs to what is shown.

import {h, fill, $} from './dom.js';

/** Panel drives the <aside id="panel"> element. */
export class Panel {
  /**
   * onOpen(kind, {push}) hears every new subject (before it loads); onClose()
   * hears the panel close.
   */
  constructor({onOpen, onClose}) {
    this.onOpen = onOpen;
    this.onClose = onClose;
    this.el = $('#panel');
    this.title = $('#panel-title');
    this.subtitle = $('#panel-subtitle');
    this.body = $('#panel-body');
    this.backBtn = $('#panel-back');
    this.token = 0;
    this.current = null; // {kind, key, reopen}
    this.stack = [];
    $('#panel-close').addEventListener('click', () => this.close());
    this.backBtn.addEventListener('click', () => this.back());
  }

  /**
   * open starts showing a new subject; push keeps the one shown for the
   * back button. reopen(opts) shows the subject again. It returns a token
   * that stays current until something else opens.
   */
  open(kind, key, title, reopen, {push = false} = {}) {
    if (push && this.current) this.stack.push(this.current);
    else if (!push) this.stack = [];
    this.onOpen(kind, {push});
    this.current = {kind, key, reopen};
    this.el.hidden = false;
    this.el.dataset.kind = kind;
    this.el.dataset.state = 'loading';
    document.body.classList.add('panel-open');
    this.title.textContent = title;
    this.subtitle.replaceChildren();
    this.backBtn.hidden = this.stack.length === 0;
    fill(this.body, h('div.skeleton', {role: 'status'}, h('span.spinner', {'aria-hidden': 'true'}), 'Loading…'));
    this.title.focus({preventScroll: true});
    return ++this.token;
  }

  /** isCurrent tells whether token's subject is still the one shown. */
  isCurrent(token) {
    return token === this.token && !this.el.hidden;
  }

  /** show fills the panel for token, unless something else opened since; it reports whether it did. */
  show(token, body, subtitle) {
    if (!this.isCurrent(token)) return false;
    fill(this.body, body);
    if (subtitle !== undefined) fill(this.subtitle, subtitle);
    this.el.dataset.state = 'done';
    return true;
  }

  /** progress replaces the loading message for token. */
  progress(token, words) {
    if (!this.isCurrent(token)) return;
    fill(this.body, h('div.skeleton', {role: 'status'}, h('span.spinner', {'aria-hidden': 'true'}), words));
  }

  fail(token, err) {
    if (!this.isCurrent(token)) return;
    this.el.dataset.state = 'error';
    fill(this.body, h('div.error-box', {role: 'alert'}, h('strong', 'Could not load this. '), err.message));
  }

  /** reopen shows the current subject again, fresh, if it is one of kinds (all when none are given). */
  reopen(...kinds) {
    const cur = this.current;
    if (cur && (!kinds.length || kinds.includes(cur.kind))) cur.reopen({push: this.stack.length > 0});
  }

  /** busy tells whether the person is working in the panel (focus inside it): then it should not change under them. */
  busy() {
    return this.el.contains(document.activeElement);
  }

  back() {
    const prev = this.stack.pop();
    if (prev) {
      this.current = null;
      prev.reopen({push: this.stack.length > 0, fromBack: true});
    }
  }

  close() {
    this.el.hidden = true;
    this.token++;
    this.current = null;
    this.stack = [];
    document.body.classList.remove('panel-open');
    this.onClose();
  }
}
