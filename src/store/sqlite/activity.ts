/**
 * better-sqlite3 implementation of the ops area's activity repository (src/ops/repository.ts,
 * migrations/0016_api_activity.sql), and the read-only consent count behind the `portal_consents` gauge.
 * Minutes are `YYYY-MM-DDTHH:MM` UTC, so text order is time order and a day is a prefix.
 */
import { CONSENT_STATUSES } from '../../consent/types.js';
import {
  REVOKED_CONSENT_REASONS,
  type ActivityBreakdown,
  type ActivityRepository,
  type ActivityWindow,
  type DailyActivity,
} from '../../ops/repository.js';
import type { Db } from '../database.js';

const REVOKED_LIST = REVOKED_CONSENT_REASONS.map((r) => `'${r}'`).join(', ');

const OUTCOMES = `SUM(calls) AS calls,
  SUM(CASE WHEN status BETWEEN 400 AND 499 THEN calls ELSE 0 END) AS clientErrors,
  SUM(CASE WHEN status >= 500 THEN calls ELSE 0 END) AS serverErrors`;

export function createSqliteActivityRepository(db: Db): ActivityRepository {
  const upsert = db.prepare(`INSERT INTO api_activity (minute, partner_id, client_id, method, route, status, reason, calls, last_at)
    VALUES (@minute, @partnerId, @clientId, @method, @route, @status, @reason, @calls, @lastAt)
    ON CONFLICT (partner_id, minute, client_id, method, route, status, reason)
    DO UPDATE SET calls = calls + excluded.calls, last_at = max(last_at, excluded.last_at)`);
  const daily = db.prepare(`SELECT substr(minute, 1, 10) AS day, ${OUTCOMES},
      SUM(CASE WHEN status IN (401, 403) THEN calls ELSE 0 END) AS authRefusals
    FROM api_activity WHERE partner_id = ? AND minute >= ? GROUP BY day ORDER BY day`);
  const byRoute = db.prepare(`SELECT route AS key, method, ${OUTCOMES}, max(last_at) AS lastAt
    FROM api_activity WHERE partner_id = ? AND minute >= ? GROUP BY route, method ORDER BY calls DESC, route, method`);
  const byClient = db.prepare(`SELECT client_id AS key, NULL AS method, ${OUTCOMES}, max(last_at) AS lastAt
    FROM api_activity WHERE partner_id = ? AND minute >= ? GROUP BY client_id ORDER BY calls DESC, client_id`);
  const window = db.prepare(`SELECT COALESCE(SUM(calls), 0) AS calls,
      COALESCE(SUM(CASE WHEN status IN (401, 403) THEN calls ELSE 0 END), 0) AS authRefusals,
      COALESCE(SUM(CASE WHEN reason IN (${REVOKED_LIST}) THEN calls ELSE 0 END), 0) AS revokedConsent
    FROM api_activity WHERE partner_id = ? AND minute >= ?`);
  const lastSeen = db.prepare('SELECT max(last_at) AS lastAt FROM api_activity WHERE partner_id = ?');
  const prune = db.prepare('DELETE FROM api_activity WHERE minute < ?');

  return {
    async add(batch) {
      for (const c of batch) upsert.run(c);
    },
    async daily(partnerId, fromDay) {
      return daily.all(partnerId, fromDay) as DailyActivity[];
    },
    async byRoute(partnerId, fromMinute) {
      return byRoute.all(partnerId, fromMinute) as ActivityBreakdown[];
    },
    async byClient(partnerId, fromMinute) {
      return byClient.all(partnerId, fromMinute) as ActivityBreakdown[];
    },
    async window(partnerId, fromMinute) {
      return window.get(partnerId, fromMinute) as ActivityWindow;
    },
    async lastSeen(partnerId) {
      return (lastSeen.get(partnerId) as { lastAt: string | null }).lastAt;
    },
    async prune(beforeMinute) {
      return prune.run(beforeMinute).changes;
    },
  };
}

/** Consents by status (every status present, zero when none), for the `portal_consents` gauge. Read-only. */
export function createConsentCounter(db: Db): () => Record<string, number> {
  const count = db.prepare('SELECT status, COUNT(*) AS n FROM consents GROUP BY status');
  return () => {
    const out: Record<string, number> = Object.fromEntries(CONSENT_STATUSES.map((s) => [s, 0]));
    for (const row of count.all() as { status: string; n: number }[]) out[row.status] = row.n;
    return out;
  };
}
