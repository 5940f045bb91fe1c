/**
 * The express-session store over SQLite (`sessions` table from 0003_accounts.sql). A row's expiry is the
 * cookie's: an idle session is gone server-side at the same moment its cookie would be, whatever the
 * browser does. Expired rows are never returned and are purged as sessions are written.
 *
 * Writes go through the transactor so that they never land inside another request's open transaction on
 * the shared connection.
 */
import session from 'express-session';
import type { Transactor } from '../transaction.js';
import type { Db } from '../database.js';

type SessionData = session.SessionData;
type Callback = (err?: unknown) => void;

/** Rows without a cookie expiry (should not happen: every cookie has a maxAge) live this long. */
const FALLBACK_TTL_MS = 60 * 60 * 1000;
const PURGE_EVERY_MS = 5 * 60 * 1000;

export class SqliteSessionStore extends session.Store {
  private readonly getStmt;
  private readonly setStmt;
  private readonly touchStmt;
  private readonly destroyStmt;
  private readonly purgeStmt;
  private readonly countStmt;
  private lastPurge = 0;

  constructor(
    db: Db,
    private readonly tx: Transactor,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.getStmt = db.prepare('SELECT data, expires_at FROM sessions WHERE sid = ?');
    this.setStmt = db.prepare(`INSERT INTO sessions (sid, expires_at, data) VALUES (?, ?, ?)
      ON CONFLICT (sid) DO UPDATE SET expires_at = excluded.expires_at, data = excluded.data`);
    this.touchStmt = db.prepare('UPDATE sessions SET expires_at = ? WHERE sid = ?');
    this.destroyStmt = db.prepare('DELETE FROM sessions WHERE sid = ?');
    this.purgeStmt = db.prepare('DELETE FROM sessions WHERE expires_at <= ?');
    this.countStmt = db.prepare('SELECT COUNT(*) AS n FROM sessions WHERE expires_at > ?');
  }

  private expiry(sess: SessionData): number {
    const expires = sess.cookie?.expires;
    const t = expires ? new Date(expires).getTime() : NaN;
    return Number.isFinite(t) ? t : this.now() + FALLBACK_TTL_MS;
  }

  private write(fn: () => void, cb?: Callback): void {
    this.tx
      .run(async () => {
        fn();
        const t = this.now();
        if (t - this.lastPurge > PURGE_EVERY_MS) {
          this.lastPurge = t;
          this.purgeStmt.run(t);
        }
      })
      .then(
        () => cb?.(),
        (err: unknown) => cb?.(err),
      );
  }

  override get(sid: string, cb: (err: unknown, session?: SessionData | null) => void): void {
    try {
      const row = this.getStmt.get(sid) as { data: string; expires_at: number } | undefined;
      if (!row || row.expires_at <= this.now()) {
        cb(null, null);
        return;
      }
      cb(null, JSON.parse(row.data) as SessionData);
    } catch (err) {
      cb(err);
    }
  }

  override set(sid: string, sess: SessionData, cb?: Callback): void {
    let data: string;
    try {
      data = JSON.stringify(sess);
    } catch (err) {
      cb?.(err);
      return;
    }
    this.write(() => this.setStmt.run(sid, this.expiry(sess), data), cb);
  }

  override touch(sid: string, sess: SessionData, cb?: () => void): void {
    this.write(() => this.touchStmt.run(this.expiry(sess), sid), cb ? () => cb() : undefined);
  }

  override destroy(sid: string, cb?: Callback): void {
    this.write(() => this.destroyStmt.run(sid), cb);
  }

  override length(cb: (err: unknown, length?: number) => void): void {
    try {
      cb(null, (this.countStmt.get(this.now()) as { n: number }).n);
    } catch (err) {
      cb(err);
    }
  }

  /** Removes every expired row now; returns how many. */
  purgeExpired(): number {
    return this.purgeStmt.run(this.now()).changes;
  }
}
