/**
 * The audit area: an append-only log in which every event carries the SHA-256 of the previous one, so that
 * editing, deleting or reordering rows breaks the chain. Events are written in the caller's transaction,
 * with the change they describe: the change and its record commit or roll back together.
 *
 * The chain proves integrity of what is there, not that nothing was cut off the end: `verify` returns the
 * head hash and count so that an operator can anchor them elsewhere (`audit:verify --expect-head`).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Db } from '../store/database.js';
import type { Transactor } from '../store/transaction.js';
import { canonicalJson, type JsonValue } from './canonical.js';

export type ActorType = 'applicant' | 'staff' | 'system' | 'anonymous' | 'customer' | 'partner';

export interface Actor {
  type: ActorType;
  id: string | null;
  /** An e-mail or a name, for display. */
  label?: string;
}

export interface AuditInput {
  actor: Actor;
  /** Dotted, stable: `auth.login.succeeded`, `application.submitted`. */
  action: string;
  subject?: { type: string; id: string } | null;
  /** JSON-safe facts. Keys that look like secrets are redacted before hashing, whatever the caller passes. */
  data?: Record<string, unknown>;
  ip?: string | null;
}

export interface AuditEvent {
  seq: number;
  id: string;
  at: string;
  actor: Actor;
  action: string;
  subject: { type: string; id: string } | null;
  data: Record<string, JsonValue>;
  ip: string | null;
  prevHash: string;
  hash: string;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  firstBadSeq: number | null;
  problem: string | null;
  headHash: string;
}

export interface AuditFilter {
  subjectType?: string;
  subjectId?: string;
  actorId?: string;
  action?: string;
  limit?: number;
}

export interface AuditService {
  record(input: AuditInput): Promise<AuditEvent>;
  list(filter?: AuditFilter): Promise<AuditEvent[]>;
  verify(): Promise<AuditVerification>;
  /**
   * Calls `listener` with each event once `record` has written it: after the commit when the event is its own
   * transaction, at the end of its savepoint when the caller's transaction is still open (a rollback after that
   * is rare and not reported). For counters (src/ops/metrics.ts); a listener that throws is ignored. Returns
   * the unsubscribe function.
   */
  onRecorded(listener: (event: AuditEvent) => void): () => void;
}

export const GENESIS_HASH = '0'.repeat(64);
const ACTOR_TYPES: ReadonlySet<string> = new Set(['applicant', 'staff', 'system', 'anonymous', 'customer', 'partner']);
const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const SECRET_KEY = /pass(word|phrase)|secret|token|private_?key|totp_?code|otp$/i;

/** A row of audit_events as SQLite returns it (src/audit/search.ts reads the same table). */
export interface AuditRow {
  seq: number;
  id: string;
  at: string;
  actor_type: string;
  actor_id: string | null;
  actor_label: string | null;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  data: string;
  ip: string | null;
  prev_hash: string;
  hash: string;
}

/** The bytes an event's hash covers: every column but the hash itself, in canonical form. */
export function eventHash(prevHash: string, e: Omit<AuditEvent, 'hash' | 'prevHash'>): string {
  const body = canonicalJson({
    seq: e.seq,
    id: e.id,
    at: e.at,
    actor: { type: e.actor.type, id: e.actor.id, label: e.actor.label ?? null },
    action: e.action,
    subject: e.subject,
    data: e.data,
    ip: e.ip,
  });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

function redact(value: unknown, depth = 0): unknown {
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

export function fromRow(r: AuditRow): AuditEvent {
  return {
    seq: r.seq,
    id: r.id,
    at: r.at,
    actor: { type: r.actor_type as ActorType, id: r.actor_id, ...(r.actor_label === null ? {} : { label: r.actor_label }) },
    action: r.action,
    subject: r.subject_type !== null && r.subject_id !== null ? { type: r.subject_type, id: r.subject_id } : null,
    data: JSON.parse(r.data) as Record<string, JsonValue>,
    ip: r.ip,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

export function createAuditService(deps: { db: Db; tx: Transactor; now?: () => Date }): AuditService {
  const { db, tx } = deps;
  const now = deps.now ?? (() => new Date());
  const listeners = new Set<(event: AuditEvent) => void>();
  const head = db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  const insert = db.prepare(`INSERT INTO audit_events
    (seq, id, at, actor_type, actor_id, actor_label, action, subject_type, subject_id, data, ip, prev_hash, hash)
    VALUES (@seq, @id, @at, @actor_type, @actor_id, @actor_label, @action, @subject_type, @subject_id, @data, @ip, @prev_hash, @hash)`);

  return {
    async record(input) {
      if (!ACTOR_TYPES.has(input.actor.type)) throw new TypeError(`audit: unknown actor type ${input.actor.type}`);
      if (!ACTION.test(input.action)) throw new TypeError(`audit: action must be dotted lower-case: ${input.action}`);
      const data = JSON.parse(canonicalJson(redact(input.data ?? {}))) as Record<string, JsonValue>;
      // Reading the head and inserting must be atomic: inside the caller's transaction, or our own.
      const recorded = await tx.run(async () => {
        const last = head.get() as { seq: number; hash: string } | undefined;
        const base = {
          seq: (last?.seq ?? 0) + 1,
          id: randomUUID(),
          at: now().toISOString(),
          actor: { type: input.actor.type, id: input.actor.id, ...(input.actor.label ? { label: input.actor.label } : {}) },
          action: input.action,
          subject: input.subject ?? null,
          data,
          ip: input.ip ?? null,
        };
        const prevHash = last?.hash ?? GENESIS_HASH;
        const event: AuditEvent = { ...base, prevHash, hash: eventHash(prevHash, base) };
        insert.run({
          seq: event.seq,
          id: event.id,
          at: event.at,
          actor_type: event.actor.type,
          actor_id: event.actor.id,
          actor_label: event.actor.label ?? null,
          action: event.action,
          subject_type: event.subject?.type ?? null,
          subject_id: event.subject?.id ?? null,
          data: canonicalJson(event.data),
          ip: event.ip,
          prev_hash: event.prevHash,
          hash: event.hash,
        });
        return event;
      });
      for (const listener of listeners) {
        try {
          listener(recorded);
        } catch {
          // Observers never undo or fail the audited change.
        }
      }
      return recorded;
    },

    onRecorded(listener) {
      // A wrapper per call: the same function subscribed twice is two subscriptions, each removed once.
      const entry = (event: AuditEvent) => listener(event);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },

    async list(filter = {}) {
      const where: string[] = [];
      const params: Record<string, unknown> = {};
      if (filter.subjectType) {
        where.push('subject_type = @subjectType');
        params.subjectType = filter.subjectType;
      }
      if (filter.subjectId) {
        where.push('subject_id = @subjectId');
        params.subjectId = filter.subjectId;
      }
      if (filter.actorId) {
        where.push('actor_id = @actorId');
        params.actorId = filter.actorId;
      }
      if (filter.action) {
        where.push('action = @action');
        params.action = filter.action;
      }
      params.limit = Math.min(Math.max(filter.limit ?? 500, 1), 10_000);
      const sql = `SELECT * FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT @limit`;
      return (db.prepare(sql).all(params) as AuditRow[]).map(fromRow);
    },

    async verify() {
      let prevHash = GENESIS_HASH;
      let expectedSeq = 1;
      let checked = 0;
      const fail = (seq: number, problem: string): AuditVerification => ({
        ok: false,
        checked,
        firstBadSeq: seq,
        problem,
        headHash: prevHash,
      });
      for (const row of db.prepare('SELECT * FROM audit_events ORDER BY seq').iterate() as IterableIterator<AuditRow>) {
        if (row.seq !== expectedSeq) return fail(row.seq, `sequence gap: expected ${expectedSeq}, found ${row.seq}`);
        if (row.prev_hash !== prevHash) return fail(row.seq, 'previous-hash link broken (a row was removed, reordered or edited)');
        let event: AuditEvent;
        try {
          event = fromRow(row);
        } catch {
          return fail(row.seq, 'event data is not valid JSON');
        }
        if (eventHash(prevHash, event) !== row.hash) return fail(row.seq, 'hash mismatch (the row was edited)');
        prevHash = row.hash;
        expectedSeq += 1;
        checked += 1;
      }
      return { ok: true, checked, firstBadSeq: null, problem: null, headHash: prevHash };
    },
  };
}
