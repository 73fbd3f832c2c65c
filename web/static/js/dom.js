// Small DOM and formatting helpers. Text from the API is only ever set as
// text (never parsed as HTML).

/**
 * h creates an element: h('button.primary', {onclick, 'aria-label': 'x'},
 * 'text', child). Attribute values of false/null/undefined are skipped.
 */
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') {
      for (const [prop, val] of Object.entries(v)) {
        if (prop.startsWith('--')) el.style.setProperty(prop, val);
        else el.style[prop] = val;
      }
    }
    else if (k === 'class') el.className += (el.className ? ' ' : '') + v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** $ finds one element by selector. */
export const $ = (sel, root = document) => root.querySelector(sel);

/** clear empties el and appends children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let timeZone = 'Asia/Shanghai';

/** setTimeZone sets the zone times are shown in (the working calendar's). */
export function setTimeZone(tz) {
  try {
    new Intl.DateTimeFormat('en-GB', {timeZone: tz});
    timeZone = tz;
  } catch {
    // keep the default
  }
}

/** fmtTime shows an RFC 3339 time as "25 Nov 2026, 17:05" in the calendar's zone. */
export function fmtTime(iso) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat('en-GB', {timeZone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit'}).format(new Date(iso));
}

/** fmtDate shows a Date as "25 Nov 2026". */
export function fmtDate(d) {
  return new Intl.DateTimeFormat('en-GB', {timeZone, day: 'numeric', month: 'short', year: 'numeric'}).format(d);
}

/** fmtClock shows an RFC 3339 time as "17:05". */
export function fmtClock(iso) {
  return new Intl.DateTimeFormat('en-GB', {timeZone, hour: '2-digit', minute: '2-digit'}).format(new Date(iso));
}

/** fmtDuration says how long ms is: "45 min", "5 h", "3 d". */
export function fmtDuration(ms) {
  const m = Math.abs(ms) / 60000;
  if (m < 60) return `${Math.max(1, Math.round(m))} min`;
  const hrs = m / 60;
  if (hrs < 48) return `${Math.round(hrs)} h`;
  return `${Math.round(hrs / 24)} d`;
}

/** fmtInt formats an integer with thousands separators. */
export const fmtInt = (n) => (n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));

/** fmtPct formats a 0–1 rate as "71.2%", or a dash for null. */
export const fmtPct = (r) => (r === null || r === undefined ? '—' : `${(r * 100).toFixed(1)}%`);

/** fmtShort formats counts compactly: 950, 1.2k, 34k. */
export function fmtShort(n) {
  if (n < 1000) return String(n);
  if (n < 10000) return `${(n / 1000).toFixed(1)}k`;
  return `${Math.round(n / 1000)}k`;
}

/** debounce delays fn until calls stop for ms. */
export function debounce(fn, ms) {
  let t = null;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}
