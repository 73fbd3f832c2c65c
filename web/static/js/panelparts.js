// Pieces the panels are built of: badges, facts, names of units and
// categories, a case's deadline and history, its action buttons, rows of
// case lists. Each takes what it shows as arguments; data is the reference
// data of the page ({catByCode, unitByCode, …}).

import {h, fmtTime, fmtDuration, fmtClock} from './dom.js';
import {statusLook, actionLabel, actionLook} from './model.js';

export function statusBadge(status) {
  const s = statusLook(status);
  return h('span.badge', {style: {'--c': s.color}, dataset: {status}}, h('span.dot', {'aria-hidden': 'true'}), s.label);
}

export function statusWord(s) {
  return statusLook(s).label;
}

/** fact is one term and its value in a dl.facts list. */
export function fact(label, ...value) {
  return [h('dt', label), h('dd', ...value)];
}

/** unitLabel shows a unit code as its name with the code. */
export function unitLabel(data, code) {
  if (!code) return h('span.muted', 'No unit');
  const u = data.unitByCode[code];
  return u ? h('span', h('span.owner-name', u.name), ' ', h('span.code', code)) : h('span.code', code);
}

export function categoryLabel(data, code) {
  const c = data.catByCode[code];
  return c ? h('span', c.name_zh, ' ', h('span.muted', c.name_en), ' ', h('span.code', code)) : h('span.code', code);
}

/** categoryTitle is a category's Chinese name, or its code when the page does not know it. */
export function categoryTitle(data, code) {
  const c = data.catByCode[code];
  return c ? c.name_zh : code;
}

/** deadline says when case properties p are due and how that stands now. */
export function deadline(p) {
  const left = new Date(p.due_at).getTime() - Date.now();
  let rel;
  if (p.closed_at) rel = h('span.muted', `closed ${fmtTime(p.closed_at)}`);
  else if (p.paused) rel = h('span.muted', 'clock stopped (parked)');
  else if (left < 0) rel = h('span.late', `overdue by ${fmtDuration(-left)}`);
  else rel = h('span.ok', `${fmtDuration(left)} left`);
  return [fmtTime(p.due_at), ' · ', rel];
}

const EVENT_WORDS = {create: 'Reported', status: 'Status', assign: 'Re-assigned', extend: 'Deadline extended', pause: 'Parked', resume: 'Resumed', merge: 'Merged'};

/** historyList shows a case's history events, newest first. */
export function historyList(events) {
  if (!events.length) return h('p.muted', 'No events yet.');
  return h('ol.timeline', events.slice().reverse().map((e) => h('li',
    h('div.when', fmtTime(e.at)),
    h('div.what', eventWords(e)),
    e.actor ? h('div.who', 'by ', e.actor) : null,
    e.note ? h('div.note', e.note) : null)));
}

function eventWords(e) {
  if (e.kind === 'status') return [h('strong', statusWord(e.to)), e.from ? h('span.muted', ` from ${statusWord(e.from)}`) : null];
  if (e.kind === 'create') return [h('strong', 'Reported'), e.to && e.to !== 'reported' ? h('span.muted', ` (entered as ${statusWord(e.to)})`) : null];
  return h('strong', EVENT_WORDS[e.kind] || e.kind);
}

/**
 * caseActions is the "Next step" section of case properties p: a button
 * for each of buttons (caseButtons': what the server lets this caller do
 * to the case now), a field for working days when one asks for them, a
 * note, and whose name the change is recorded under (the key's: actorName).
 * move({button, days, note}) makes the change and resolves to an error
 * message to show, or null. Without
 * buttons, the section says why, or is left out when the caller may
 * change no case (canUpdate false).
 */
export function caseActions(p, buttons, move, {canUpdate, actorName = ''}) {
  if (!buttons.length) {
    if (!canUpdate) return null;
    const why = p.status === 'closed' ? 'This case is closed.'
      : p.status === 'rejected' ? 'No further steps: the case was not accepted.'
        : 'Nothing for you to do on this case now.';
    return h('section.actions', h('h3', 'Next step'), h('p.muted', why));
  }
  const note = h('textarea', {id: 'action-note', rows: 2, maxlength: 2000, placeholder: 'What was done, or why'});
  const days = buttons.some((b) => b.days)
    ? h('input', {id: 'action-days', type: 'number', min: 1, max: 365, step: 1, value: 1, inputmode: 'numeric'})
    : null;
  const msg = h('p.action-msg', {role: 'status', 'aria-live': 'polite'});
  const els = buttons.map((b) => {
    const look = b.action ? actionLook(b.action) : null;
    const quiet = look ? look.quiet : b.to === 'rejected' || (b.to === 'dispatched' && p.status !== 'accepted');
    return h('button.btn', {
      type: 'button', class: quiet ? 'btn-quiet' : 'btn-primary', title: look && look.zh ? look.zh : null,
      dataset: b.to ? {action: b.action || b.to, to: b.to} : {action: b.action},
      onclick: async (ev) => {
        const btn = ev.currentTarget;
        els.forEach((e) => { e.disabled = true; });
        btn.classList.add('busy');
        msg.textContent = 'Saving…';
        msg.classList.remove('late');
        const failed = await move({button: b, days: days ? Number(days.value) : undefined, note: note.value.trim()});
        if (failed === null) return; // the panel shows the case afresh
        els.forEach((e) => { e.disabled = false; });
        btn.classList.remove('busy');
        msg.textContent = failed;
        if (failed) msg.classList.add('late');
      },
    }, look ? look.label : actionLabel(p.status, b.to));
  });
  return h('section.actions', {'aria-labelledby': 'actions-h'},
    h('h3#actions-h', 'Next step'),
    h('div.btn-row', els),
    days ? h('label.field.inline', h('span', 'Working days'), days) : null,
    h('label.field', h('span', 'Note'), note),
    actorName ? h('p.muted.small', 'Recorded as ', h('strong', actorName), ', the name of your key.') : null,
    msg);
}

/**
 * shownTitle is what a case is called in lists and panels: the reporter's
 * title where the caller may read reporters' free text (free), else the
 * category's name.
 */
export function shownTitle(data, p, free) {
  return (free && p.title) || categoryTitle(data, p.category);
}

/** caseRow is one case of a list; onOpen(id) opens it; free: reporters' titles may show. */
export function caseRow(data, f, onOpen, free) {
  const p = f.properties;
  const s = statusLook(p.status);
  return h('li', h('button.case-row', {type: 'button', dataset: {caseId: p.id}, onclick: () => onOpen(p.id)},
    h('span.dot', {style: {background: s.color}, 'aria-hidden': 'true'}),
    h('span.row-main', h('span.row-title', shownTitle(data, p, free)), h('span.row-sub', `#${p.id} · ${s.label} · ${fmtTime(p.reported_at)}`)),
    p.overdue_now ? h('span.tag.tag-overdue', 'Overdue') : null));
}

/** liveRow is one live event of the activity list; onOpen(id) opens its case; free: reporters' titles may show. */
export function liveRow(data, ev, onOpen, free) {
  const s = statusLook(ev.status);
  return h('li', h('button.live-row', {type: 'button', onclick: () => onOpen(ev.id)},
    h('span.dot', {style: {background: s.color}, 'aria-hidden': 'true'}),
    h('span.row-main', h('span.row-title', shownTitle(data, ev, free)), h('span.row-sub', `#${ev.id} · ${s.label}`)),
    h('span.row-time', fmtClock(ev.at))));
}

/** describeFilters says in words which filters (as query parameters) apply. */
export function describeFilters(data, f) {
  const parts = [];
  parts.push(f.status ? f.status.split(',').map(statusWord).join(', ') : 'All statuses');
  if (f.category) parts.push(categoryTitle(data, f.category));
  if (f.source) parts.push(`via ${f.source}`);
  if (f.unit) parts.push(data.unitByCode[f.unit] ? data.unitByCode[f.unit].name : f.unit);
  if (f.from || f.to) parts.push(`${f.from ? fmtTime(f.from) : 'start'} – ${f.to ? fmtTime(f.to) : 'now'}`);
  return parts.join(' · ');
}

/** ruleWords says which ownership rule a locate answer applied. */
export function ruleWords(rule) {
  const where = rule.grid ? ` of ${rule.level} ${rule.grid}` : '';
  if (rule.kind === 'category') return `the category rule ${rule.prefix || ''}${where}`;
  return `the default unit${where}`;
}
