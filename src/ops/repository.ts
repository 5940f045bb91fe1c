/**
 * The ops area's storage port: per-partner API activity counted per minute (migrations/0016_api_activity.sql).
 * Async like every repository, so that another database fits later; src/store/sqlite/activity.ts implements it.
 */

/** One counted combination: calls of one partner's client to one route with one outcome in one minute. */
export interface ActivityCount {
  /** UTC minute, `YYYY-MM-DDTHH:MM`. */
  minute: string;
  partnerId: string;
  /** `-` when refused before a token was accepted. */
  clientId: string;
  method: string;
  route: string;
  status: number;
  /** The refusal's error code; '' for a success. */
  reason: string;
  calls: number;
  /** ISO time of the last call counted here. */
  lastAt: string;
}

export interface DailyActivity {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  calls: number;
  clientErrors: number;
  serverErrors: number;
  /** 401 and 403 answers. */
  authRefusals: number;
}

export interface ActivityBreakdown {
  key: string;
  /** For routes: the method; for clients: null. */
  method: string | null;
  calls: number;
  clientErrors: number;
  serverErrors: number;
  lastAt: string;
}

export interface ActivityWindow {
  calls: number;
  authRefusals: number;
  /** Calls refused because the consent behind them was revoked or expired (REVOKED_CONSENT_REASONS). */
  revokedConsent: number;
}

export interface ActivityRepository {
  /** Adds the counts (summing into existing rows). Call inside `tx.run`. */
  add(batch: readonly ActivityCount[]): Promise<void>;
  /** Days with activity from `fromDay` on (inclusive). */
  daily(partnerId: string, fromDay: string): Promise<DailyActivity[]>;
  byRoute(partnerId: string, fromMinute: string): Promise<ActivityBreakdown[]>;
  byClient(partnerId: string, fromMinute: string): Promise<ActivityBreakdown[]>;
  /** Totals of the minutes from `fromMinute` on (inclusive). */
  window(partnerId: string, fromMinute: string): Promise<ActivityWindow>;
  lastSeen(partnerId: string): Promise<string | null>;
  /** Removes the minutes before `beforeMinute`; returns the rows removed. Call inside `tx.run`. */
  prune(beforeMinute: string): Promise<number>;
}

/** Refusals that mean "the customer's consent is gone": the consent guard's codes and the token guard's grant check. */
export const REVOKED_CONSENT_REASONS = ['consent.revoked', 'consent.expired', 'token.grant_revoked'] as const;
