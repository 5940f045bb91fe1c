/**
 * Reading the audit log by what it concerns: the events of one partner (for evidence packs and the staff
 * search) and the staff search itself (partner, actor, action prefix, time range; newest first, keyset pages).
 *
 * Every value reaches SQLite as a bound parameter; the SQL text is assembled only from fixed fragments and
 * parameter names of our own. Page sizes are bounded and bad input is refused (400, `audit.search.*`), never
 * clamped silently. Searching the log is itself recorded (`audit.searched`): access to audit logs is an event
 * a bank must be able to show (PCI DSS v4 10.2.1.3).
 */
import type { Db } from '../store/database.js';
import { AppError, ForbiddenError } from '../errors.js';
import type { ActorRef } from '../partners/types.js';
import type { JsonValue } from './canonical.js';
import { type AuditEvent, type AuditRow, type AuditService, fromRow, GENESIS_HASH } from './service.js';

// --- what concerns a partner ---------------------------------------------------------------------------

/**
 * The ids through which audit events concern one partner. Built by the evidence area from the partners,
 * OAuth and registration services, then widened by `expandSelection` with ids only the log still knows
 * (deleted clients, monitor alerts).
 */
export interface AuditSelection {
  /** Events whose subject is one of these (`partner`, `application`, `oauth_client`, `software`, `certificate`, `monitor_alert`). */
  subjects: { type: string; ids: string[] }[];
  /** Events by a `partner` actor with one of these ids: the partner in its client events, its clients in consent requests. */
  partnerActorIds: string[];
  /** Events by a `partner` actor without an id under one of these labels: registrations refused for the organisation's certificate. */
  partnerActorLabels: string[];
  /** Events whose data names the partner (`data.partnerId`): monitor alerts, statements issued, and more. */
  dataPartnerIds: string[];
}

const uniq = (xs: string[]) => [...new Set(xs.filter((x) => typeof x === 'string' && x !== ''))].sort();

/** The selection with duplicates and empties removed, subject types merged and sorted (stable text in manifests). */
export function normaliseSelection(sel: AuditSelection): AuditSelection {
  const byType = new Map<string, string[]>();
  for (const s of sel.subjects) byType.set(s.type, [...(byType.get(s.type) ?? []), ...s.ids]);
  return {
    subjects: [...byType.entries()]
      .map(([type, ids]) => ({ type, ids: uniq(ids) }))
      .filter((s) => s.ids.length > 0)
      .sort((a, b) => a.type.localeCompare(b.type)),
    partnerActorIds: uniq(sel.partnerActorIds),
    partnerActorLabels: uniq(sel.partnerActorLabels),
    dataPartnerIds: uniq(sel.dataPartnerIds),
  };
}

/** The selection as one parenthesised OR of parameterised terms; params are added to `params`. Null: matches nothing. */
export function selectionWhere(sel: AuditSelection, params: Record<string, unknown>, prefix = 'sel'): string | null {
  const terms: string[] = [];
  sel.subjects.forEach((s, i) => {
    if (s.ids.length === 0) return;
    params[`${prefix}_st${i}`] = s.type;
    params[`${prefix}_si${i}`] = JSON.stringify(s.ids);
    terms.push(`(subject_type = @${prefix}_st${i} AND subject_id IN (SELECT value FROM json_each(@${prefix}_si${i})))`);
  });
  if (sel.partnerActorIds.length) {
    params[`${prefix}_ai`] = JSON.stringify(sel.partnerActorIds);
    terms.push(`(actor_id IN (SELECT value FROM json_each(@${prefix}_ai)) AND actor_type = 'partner')`);
  }
  if (sel.partnerActorLabels.length) {
    params[`${prefix}_al`] = JSON.stringify(sel.partnerActorLabels);
    terms.push(`(actor_label IN (SELECT value FROM json_each(@${prefix}_al)) AND actor_type = 'partner' AND actor_id IS NULL)`);
  }
  if (sel.dataPartnerIds.length) {
    params[`${prefix}_dp`] = JSON.stringify(sel.dataPartnerIds);
    // The same expression and condition as the partial index of 0015_audit_search.sql, so that it is used.
    terms.push(`(json_valid(data) AND json_extract(data, '$.partnerId') IN (SELECT value FROM json_each(@${prefix}_dp)))`);
  }
  return terms.length ? `(${terms.join(' OR ')})` : null;
}

/** The selection in words, for the pack's manifest and the docs. */
export function selectionText(sel: AuditSelection): string[] {
  return [
    ...sel.subjects.map((s) => `subject ${s.type} in [${s.ids.join(', ')}]`),
    ...(sel.partnerActorIds.length ? [`actor type partner with id in [${sel.partnerActorIds.join(', ')}]`] : []),
    ...(sel.partnerActorLabels.length ? [`actor type partner without id, labelled [${sel.partnerActorLabels.join(', ')}]`] : []),
    ...(sel.dataPartnerIds.length ? [`data.partnerId in [${sel.dataPartnerIds.join(', ')}]`] : []),
  ];
}

/** Every event of the selection, oldest first, up to `upToSeq` when given. */
export function eventsConcerning(db: Db, sel: AuditSelection, opts: { upToSeq?: number } = {}): AuditEvent[] {
  const params: Record<string, unknown> = {};
  const where = selectionWhere(normaliseSelection(sel), params);
  if (!where) return [];
  let sql = `SELECT * FROM audit_events WHERE ${where}`;
  if (opts.upToSeq !== undefined) {
    params.upTo = opts.upToSeq;
    sql += ' AND seq <= @upTo';
  }
  return (db.prepare(`${sql} ORDER BY seq`).all(params) as AuditRow[]).map(fromRow);
}

/** Subject types whose ids the log itself reveals (a client deleted since, an alert the monitor opened). */
const DISCOVERED_SUBJECTS = ['oauth_client', 'monitor_alert'] as const;

/**
 * Widens a selection with ids found in the events it matches: clients that no longer exist (their events
 * remain) and monitor alerts about the partner (their later events name only the alert). One round is
 * enough: those events lead to no further ids.
 */
export function expandSelection(db: Db, sel: AuditSelection): AuditSelection {
  const base = normaliseSelection(sel);
  const found = new Map<string, string[]>();
  const clientIds: string[] = [];
  for (const e of eventsConcerning(db, base)) {
    if (e.subject && (DISCOVERED_SUBJECTS as readonly string[]).includes(e.subject.type)) {
      found.set(e.subject.type, [...(found.get(e.subject.type) ?? []), e.subject.id]);
      if (e.subject.type === 'oauth_client') clientIds.push(e.subject.id);
    }
  }
  return normaliseSelection({
    ...base,
    subjects: [...base.subjects, ...[...found.entries()].map(([type, ids]) => ({ type, ids }))],
    // A client acts in the log under its own id (consent requests): a deleted client's too.
    partnerActorIds: [...base.partnerActorIds, ...clientIds],
  });
}

/** The newest event of the whole log (seq 0 and the genesis hash when empty). */
export function chainHead(db: Db): { seq: number; hash: string } {
  const row = db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
  return row ?? { seq: 0, hash: GENESIS_HASH };
}

// --- staff search --------------------------------------------------------------------------------------

export const AUDIT_FILTERS = ['partner', 'actor', 'action', 'from', 'to', 'before', 'pageSize'] as const;
export type AuditFilterName = (typeof AUDIT_FILTERS)[number];
export const AUDIT_PAGE_SIZE = { default: 50, max: 200 } as const;

export type AuditSearchErrorCode =
  | 'audit.search.unknown_filter'
  | 'audit.search.invalid_filter'
  | 'audit.search.invalid_date'
  | 'audit.search.invalid_range'
  | 'audit.search.page_size'
  | 'audit.search.unknown_partner';

/** Bad search input: 400 with a stable code, and the filter it is about (the page marks that field). */
export class AuditSearchError extends AppError {
  constructor(
    code: AuditSearchErrorCode,
    message: string,
    readonly filter: AuditFilterName | null,
  ) {
    super(code, 400, message);
  }
}

export interface AuditSearchQuery {
  partner: string | null;
  actor: string | null;
  /** A dotted prefix by whole segments: `application` matches `application` and `application.*`. */
  action: string | null;
  /** Inclusive, ISO UTC. */
  from: string | null;
  /** Exclusive, ISO UTC (a date-only `to` is the end of that day). */
  to: string | null;
  /** Keyset cursor: only events with a smaller seq (the next page). */
  before: number | null;
  pageSize: number;
}

export interface AuditRowView {
  seq: number;
  id: string;
  at: string;
  actor: { type: string; id: string | null; label: string | null };
  action: string;
  subject: { type: string; id: string } | null;
  data: Record<string, JsonValue>;
  ip: string | null;
  hash: string;
}

export interface AuditSearchPage {
  query: AuditSearchQuery;
  rows: AuditRowView[];
  /** The `before` of the next (older) page; null on the last page. */
  nextBefore: number | null;
}

export interface AuditSearch {
  /** Staff only (`auth.forbidden` otherwise). `raw` is the query string as parsed; AuditSearchError on bad input. */
  search(staff: ActorRef, raw: Record<string, unknown>): Promise<AuditSearchPage>;
}

const ID = /^[A-Za-z0-9_.-]{1,100}$/;
const ACTION_PREFIX = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?$/;

/** One query-string value: absent or blank → null; repeated (`a=1&a=2`) or nested (`a[b]=`) → refused. */
function single(raw: Record<string, unknown>, name: AuditFilterName): string | null {
  const v = raw[name];
  if (v === undefined) return null;
  if (typeof v !== 'string') throw new AuditSearchError('audit.search.invalid_filter', `Give ${name} once, as plain text.`, name);
  const t = v.trim();
  return t === '' ? null : t;
}

/** Calendar-checked (no 30 February: Date would roll it over to March), offset-aware; no offset means UTC. */
function parseInstant(value: string, name: 'from' | 'to'): string {
  const bad = () =>
    new AuditSearchError('audit.search.invalid_date', `${name} must be a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM, optionally with seconds and an offset).`, name);
  const d = DATE_ONLY.exec(value);
  const t = d ? null : DATE_TIME.exec(value);
  const m = d ?? t;
  if (!m) throw bad();
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = t ? [Number(t[4]), Number(t[5]), Number(t[6] ?? 0)] : [0, 0, 0];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (year < 1970 || year > 9999 || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) throw bad();
  if (d) {
    // A date-only upper bound means "through that day".
    return new Date(probe.getTime() + (name === 'to' ? 86_400_000 : 0)).toISOString();
  }
  const offset = t![8];
  const iso = `${m[1]}-${m[2]}-${m[3]}T${t![4]}:${t![5]}:${t![6] ?? '00'}.${(t![7] ?? '0').padEnd(3, '0')}${offset ?? 'Z'}`;
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) throw bad();
  return at.toISOString();
}

/** The query string → a validated query. Unknown filters, repeated values and out-of-range numbers are refused. */
export function parseAuditQuery(raw: Record<string, unknown>): AuditSearchQuery {
  const unknown = Object.keys(raw).filter((k) => !(AUDIT_FILTERS as readonly string[]).includes(k));
  if (unknown.length) {
    throw new AuditSearchError(
      'audit.search.unknown_filter',
      `Unknown filter ${unknown.slice(0, 3).map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}: use ${AUDIT_FILTERS.join(', ')}.`,
      null,
    );
  }
  const partner = single(raw, 'partner');
  if (partner !== null && !ID.test(partner)) throw new AuditSearchError('audit.search.invalid_filter', 'partner must be a partner id.', 'partner');
  const actor = single(raw, 'actor');
  // eslint-disable-next-line no-control-regex
  if (actor !== null && (actor.length > 254 || /[\u0000-\u001f\u007f]/.test(actor))) {
    throw new AuditSearchError('audit.search.invalid_filter', 'actor must be an id or an e-mail address (at most 254 characters).', 'actor');
  }
  let action = single(raw, 'action');
  if (action !== null) {
    action = action.replace(/\.$/, '');
    if (action.length > 100 || !ACTION_PREFIX.test(action)) {
      throw new AuditSearchError('audit.search.invalid_filter', 'action must be a dotted event type or its first segments, such as application or partner.suspended.', 'action');
    }
  }
  const fromRaw = single(raw, 'from');
  const toRaw = single(raw, 'to');
  const from = fromRaw === null ? null : parseInstant(fromRaw, 'from');
  const to = toRaw === null ? null : parseInstant(toRaw, 'to');
  if (from !== null && to !== null && from >= to) throw new AuditSearchError('audit.search.invalid_range', 'from must be before to.', 'from');
  const beforeRaw = single(raw, 'before');
  if (beforeRaw !== null && (!/^\d{1,15}$/.test(beforeRaw) || Number(beforeRaw) < 1)) {
    throw new AuditSearchError('audit.search.invalid_filter', 'before must be a positive event number.', 'before');
  }
  const sizeRaw = single(raw, 'pageSize');
  let pageSize: number = AUDIT_PAGE_SIZE.default;
  if (sizeRaw !== null) {
    if (!/^\d{1,6}$/.test(sizeRaw) || Number(sizeRaw) < 1 || Number(sizeRaw) > AUDIT_PAGE_SIZE.max) {
      throw new AuditSearchError('audit.search.page_size', `pageSize must be a whole number from 1 to ${AUDIT_PAGE_SIZE.max}.`, 'pageSize');
    }
    pageSize = Number(sizeRaw);
  }
  return { partner, actor, action, from, to, before: beforeRaw === null ? null : Number(beforeRaw), pageSize };
}

/** Shaped on purpose: the event's columns by name, nothing else of the row. */
export function auditRowView(e: AuditEvent): AuditRowView {
  return {
    seq: e.seq,
    id: e.id,
    at: e.at,
    actor: { type: e.actor.type, id: e.actor.id, label: e.actor.label ?? null },
    action: e.action,
    subject: e.subject,
    data: e.data,
    ip: e.ip,
    hash: e.hash,
  };
}

/** The filters actually given (for the `audit.searched` record and for page links). */
export function givenFilters(q: AuditSearchQuery): Partial<Record<AuditFilterName, string | number>> {
  const out: Partial<Record<AuditFilterName, string | number>> = {};
  for (const k of AUDIT_FILTERS) {
    const v = q[k];
    if (v !== null && !(k === 'pageSize' && v === AUDIT_PAGE_SIZE.default)) out[k] = v;
  }
  return out;
}

export function createAuditSearch(deps: {
  db: Db;
  audit: Pick<AuditService, 'record'>;
  /** The partner's selection (evidence area); null for an unknown partner. */
  selectionFor(partnerId: string): Promise<AuditSelection | null>;
}): AuditSearch {
  const { db, audit } = deps;
  return {
    async search(staff, raw) {
      if (staff?.kind !== 'staff') throw new ForbiddenError('auth.forbidden', 'The audit log is for bank staff.');
      const q = parseAuditQuery(raw ?? {});
      const params: Record<string, unknown> = {};
      const where: string[] = [];
      if (q.partner !== null) {
        const sel = await deps.selectionFor(q.partner);
        if (!sel) throw new AuditSearchError('audit.search.unknown_partner', 'No such partner.', 'partner');
        const clause = selectionWhere(normaliseSelection(sel), params);
        where.push(clause ?? '0');
      }
      if (q.actor !== null) {
        params.actor = q.actor;
        params.actorLower = q.actor.toLowerCase();
        where.push('(actor_id = @actor OR actor_label = @actor OR actor_label = @actorLower)');
      }
      if (q.action !== null) {
        // Whole segments, as a range so the (action, seq) index serves it: `a.b` or `a.b.` up to `a.b/`.
        params.action = q.action;
        params.actionLo = `${q.action}.`;
        params.actionHi = `${q.action}/`;
        where.push('(action = @action OR (action >= @actionLo AND action < @actionHi))');
      }
      if (q.from !== null) {
        params.from = q.from;
        where.push('at >= @from');
      }
      if (q.to !== null) {
        params.to = q.to;
        where.push('at < @to');
      }
      if (q.before !== null) {
        params.before = q.before;
        where.push('seq < @before');
      }
      params.limit = q.pageSize + 1;
      const sql = `SELECT * FROM audit_events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
      const rows = (db.prepare(sql).all(params) as AuditRow[]).map(fromRow);
      const more = rows.length > q.pageSize;
      const page = rows.slice(0, q.pageSize);
      await audit.record({
        actor: { type: 'staff', id: staff.id, label: staff.label },
        action: 'audit.searched',
        data: { filters: givenFilters(q), results: page.length },
        ip: staff.ip ?? null,
      });
      return { query: q, rows: page.map(auditRowView), nextBefore: more ? page.at(-1)!.seq : null };
    },
  };
}
