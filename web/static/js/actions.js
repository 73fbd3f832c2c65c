// A case's action buttons: which to offer and the PATCH body each sends.
// The server says what this caller may do to the case now (the case's
// `actions`); the lifecycle (GET /v1/statuses, parseActions) says where a
// status action moves it. A server that sends no `actions` gets the old
// buttons, one per next_statuses entry, left out where the lifecycle names
// the step and GET /v1/me does not list it for the role. Whoever may do
// what stays the API's rule: a refused PATCH is shown in its words. Pure.

/** EXTENSION_UNIT is the unit of the days a person types for an extension. */
export const EXTENSION_UNIT = 'working_days';

/** DAYS_ACTIONS take a number of working days from the person. */
const DAYS_ACTIONS = new Set(['request_extension', 'extend']);

/** actionName reads one entry of a case's actions: a name, or an object naming it ({action} or {name}). */
function actionName(a) {
  if (typeof a === 'string') return a;
  return a && typeof a === 'object' ? a.action || a.name || null : null;
}

/**
 * actionPatch returns the PATCH body (without the note) that takes
 * action on the case whose properties are p, or null when one button
 * cannot send it. moves is parseActions' (or null); days the working days
 * typed for an extension.
 *   - a status action: {status: to}, where the lifecycle moves p's status by it;
 *   - return (退单): {status: to, returned: true} (to: accepted);
 *   - request_pause: {request_pause: true}; pause, resume: {pause: true | false};
 *   - request_extension, extend: {<action>: {value: days, unit: working_days}}, days a whole number above 0;
 *   - approve, decline: {<action>: the pending request's event id (p.pending_request.event)};
 *   - anything else (reassign, merge: they need a target the panel does not ask for): null.
 */
export function actionPatch(action, p, moves, {days} = {}) {
  switch (action) {
    case 'request_pause':
      return {request_pause: true};
    case 'pause':
      return {pause: true};
    case 'resume':
      return {pause: false};
    case 'request_extension':
    case 'extend':
      return Number.isInteger(days) && days > 0 ? {[action]: {value: days, unit: EXTENSION_UNIT}} : null;
    case 'approve':
    case 'decline': {
      const ev = p.pending_request && p.pending_request.event;
      return ev ? {[action]: String(ev)} : null;
    }
  }
  const m = moves && moves[action];
  if (action === 'return') return {status: m && m.to ? m.to : 'accepted', returned: true};
  if (m && m.to && m.from.includes(p.status)) return {status: m.to};
  return null;
}

/** statusActionFor names the lifecycle's action that moves a case from status from to status to, or null. */
export function statusActionFor(moves, from, to) {
  if (!moves) return null;
  for (const [action, m] of Object.entries(moves)) {
    if (action !== 'return' && m.to === to && m.from.includes(from)) return action;
  }
  return null;
}

/**
 * caseButtons lists the buttons of case properties p: {action (a name, or
 * null when the lifecycle names no actions), to (the status it moves the
 * case to, or null), days (whether it asks for working days)}. lifecycle
 * carries moves; me is {canUpdate (cases.update), caseActions (GET /v1/me's
 * case_actions, or null)}. Without cases.update there are none.
 */
export function caseButtons(p, lifecycle, me) {
  if (!me.canUpdate) return [];
  const moves = lifecycle.moves || null;
  if (Array.isArray(p.actions)) {
    const out = [];
    for (const entry of p.actions) {
      const action = actionName(entry);
      if (!action || out.some((b) => b.action === action)) continue;
      const days = DAYS_ACTIONS.has(action);
      const patch = actionPatch(action, p, moves, {days: 1});
      if (!patch) continue;
      out.push({action, to: patch.status || null, days});
    }
    return out;
  }
  return (p.next_statuses || [])
    .map((to) => ({action: statusActionFor(moves, p.status, to), to, days: false}))
    .filter((b) => !b.action || !me.caseActions || me.caseActions.includes(b.action));
}

/** buttonPatch is the PATCH body of button b (caseButtons') on case p; days as typed. Null: days are missing. */
export function buttonPatch(b, p, moves, days) {
  return b.action ? actionPatch(b.action, p, moves, {days}) : {status: b.to};
}
