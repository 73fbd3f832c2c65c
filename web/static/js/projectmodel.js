// The battle map's pain-point projects and disputed cases, as words and
// colours: pure functions of what the API answers (GET /v1/projects/{id},
// /progress, /v1/disputes), tested under node --test.

/** STATUS_COLORS colour a project's area by its status. */
export const STATUS_COLORS = {planned: '#4c78a8', in_progress: '#f58518', done: '#54a24b', suspended: '#8c8c8c'};

/** LATE_COLOR marks a project with a late milestone. */
export const LATE_COLOR = '#d62728';

/** STATUS_WORDS name the statuses as a person reads them. */
export const STATUS_WORDS = {planned: 'Planned', in_progress: 'In progress', done: 'Done', suspended: 'Suspended'};

/** projectFill is the MapLibre expression colouring an area by status. */
export function projectFill() {
  const m = ['match', ['get', 'status']];
  for (const [status, color] of Object.entries(STATUS_COLORS)) m.push(status, color);
  m.push('#999999');
  return m;
}

/** projectOutline is red for a late project, else the status colour. */
export function projectOutline() {
  return ['case', ['==', ['get', 'late'], true], LATE_COLOR, projectFill()];
}

/** projectLabel is the label on the map: the name, the leader, and a mark when late. */
export function projectLabel(p) {
  const late = p.late === true || p.late === 'true';
  return `${p.name}\n${p.leader || ''}${late ? ` · ⚠ ${p.late_milestones || 1} late` : ''}`;
}

/** projectLabelExpr is projectLabel as a MapLibre expression. */
export function projectLabelExpr() {
  return ['concat', ['get', 'name'], '\n', ['get', 'leader'],
    ['case', ['==', ['get', 'late'], true], ['concat', ' · ⚠ ', ['to-string', ['get', 'late_milestones']], ' late'], '']];
}

/** projectsTileURL is the projects layer's tile template. */
export function projectsTileURL(origin) {
  return `${origin}/tiles/projects/{z}/{x}/{y}.mvt`;
}

/**
 * milestoneRows turns a project's milestones into rows: the span of
 * working days, and whether each is done, late or open.
 */
export function milestoneRows(milestones) {
  return (milestones || []).map((m) => {
    const state = m.done ? 'done' : (m.late ? 'late' : 'open');
    const words = {done: 'Done', late: 'Late', open: 'Open'}[state];
    return {name: m.name, span: m.start === m.due ? m.due : `${m.start} – ${m.due}`, days: `${m.working_days} working day${m.working_days === 1 ? '' : 's'}`, state, words};
  });
}

/** yuan writes an amount in CNY ("1250000.50") with thousands separators. */
export function yuan(amount) {
  const [whole, frac = '00'] = String(amount).split('.');
  return `¥${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${frac.padEnd(2, '0')}`;
}

/** progressWords sums up a project's progress in three lines. */
export function progressWords(pr) {
  const m = pr.milestones;
  const c = pr.cases;
  const lines = [
    `${m.done} of ${m.total} milestone${m.total === 1 ? '' : 's'} done${m.late ? `, ${m.late} late` : ''}`,
    `${c.linked} linked case${c.linked === 1 ? '' : 's'}: ${c.closed} closed, ${c.open} open`,
  ];
  const share = Number(pr.money.budget_cny) > 0 ? ` (${Math.round(pr.money.share * 100)}%)` : '';
  lines.push(`${yuan(pr.money.spent_cny)} of ${yuan(pr.money.budget_cny)} spent${share}`);
  return lines;
}

/** leaderWords names a project's leader: the person and the unit (or that it is a user). */
export function leaderWords(leader, unitName) {
  if (leader.user) return `${leader.name} (user ${leader.user})`;
  return `${leader.name}, ${unitName || leader.unit}`;
}

/** REASON_WORDS say why a case is disputed. */
export const REASON_WORDS = {
  no_unit_grid: 'No unit grid covers it',
  unit_border: 'On the border of another unit',
  returned_twice: 'Returned twice',
};

/** disputeRows turns GET /v1/disputes into list rows, newest first as the server sends them. */
export function disputeRows(fc) {
  return (fc.features || []).map((f) => {
    const p = f.properties;
    return {
      id: p.id,
      category: p.category,
      status: p.status,
      unit: p.unit,
      reasons: p.reasons.map((r) => REASON_WORDS[r] || r),
      candidates: p.units || [],
      returns: p.returns || 0,
    };
  });
}
