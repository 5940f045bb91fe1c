/**
 * SQLite implementation of the accounts repository (tables from 0003_accounts.sql). Prepared statements
 * only. Writes are expected inside the caller's `tx.run`.
 */
import type { AccountsRepository, ThrottleRecord, UserRecord } from '../../accounts/repository.js';
import type { UserKind, UserStatus } from '../../accounts/types.js';
import { STAFF_ROLES, type StaffRole } from '../../partners/types.js';
import type { Db } from '../database.js';

interface UserRow {
  id: string;
  kind: string;
  email: string;
  display_name: string;
  password_hash: string;
  password_changed_at: string;
  password_must_change: number;
  totp_secret_enc: string;
  totp_enrolled_at: string | null;
  totp_last_step: number;
  roles: string;
  status: string;
  created_at: string;
  created_by: string | null;
}

interface ThrottleRow {
  key: string;
  failures: number;
  window_start: string;
  locked_until: string | null;
}

const ROLE_SET: ReadonlySet<string> = new Set(STAFF_ROLES);

function parseRoles(json: string): StaffRole[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? (value.filter((r) => typeof r === 'string' && ROLE_SET.has(r)) as StaffRole[]) : [];
}

function toUser(r: UserRow): UserRecord {
  return {
    id: r.id,
    kind: r.kind as UserKind,
    email: r.email,
    displayName: r.display_name,
    passwordHash: r.password_hash,
    passwordChangedAt: r.password_changed_at,
    passwordMustChange: r.password_must_change === 1,
    totpSecretEnc: r.totp_secret_enc,
    totpEnrolledAt: r.totp_enrolled_at,
    totpLastStep: r.totp_last_step,
    roles: parseRoles(r.roles),
    status: r.status as UserStatus,
    createdAt: r.created_at,
    createdBy: r.created_by,
  };
}

export function createSqliteAccountsRepository(db: Db): AccountsRepository {
  const byId = db.prepare('SELECT * FROM users WHERE id = ?');
  const byEmail = db.prepare('SELECT * FROM users WHERE kind = ? AND email = ?');
  const insert = db.prepare(`INSERT INTO users
    (id, kind, email, display_name, password_hash, password_changed_at, password_must_change, totp_secret_enc,
     totp_enrolled_at, totp_last_step, roles, status, created_at, created_by)
    VALUES (@id, @kind, @email, @display_name, @password_hash, @password_changed_at, @password_must_change,
     @totp_secret_enc, @totp_enrolled_at, @totp_last_step, @roles, @status, @created_at, @created_by)`);
  const updatePassword = db.prepare(
    'UPDATE users SET password_hash = ?, password_changed_at = ?, password_must_change = ? WHERE id = ?',
  );
  const replaceHash = db.prepare('UPDATE users SET password_hash = ? WHERE id = ?');
  const enrolled = db.prepare('UPDATE users SET totp_enrolled_at = ?, totp_last_step = ? WHERE id = ?');
  const lastStep = db.prepare('UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?');
  const setRoles = db.prepare('UPDATE users SET roles = ? WHERE id = ?');
  const setStatus = db.prepare('UPDATE users SET status = ? WHERE id = ?');
  const listByKind = db.prepare('SELECT * FROM users WHERE kind = ? ORDER BY email');
  const admins = db.prepare(`SELECT COUNT(*) AS n FROM users
    WHERE kind = 'staff' AND status = 'active' AND EXISTS (SELECT 1 FROM json_each(users.roles) WHERE value = 'admin')`);
  const getThrottle = db.prepare('SELECT * FROM auth_throttle WHERE key = ?');
  const putThrottle = db.prepare(`INSERT INTO auth_throttle (key, failures, window_start, locked_until)
    VALUES (@key, @failures, @window_start, @locked_until)
    ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
      locked_until = excluded.locked_until`);
  const deleteThrottle = db.prepare('DELETE FROM auth_throttle WHERE key = ?');
  const purgeThrottle = db.prepare(
    'DELETE FROM auth_throttle WHERE window_start < @windowStartBefore AND (locked_until IS NULL OR locked_until < @now)',
  );

  return {
    async findById(id) {
      const row = byId.get(id) as UserRow | undefined;
      return row ? toUser(row) : null;
    },
    async findByEmail(kind, email) {
      const row = byEmail.get(kind, email) as UserRow | undefined;
      return row ? toUser(row) : null;
    },
    async insert(u) {
      insert.run({
        id: u.id,
        kind: u.kind,
        email: u.email,
        display_name: u.displayName,
        password_hash: u.passwordHash,
        password_changed_at: u.passwordChangedAt,
        password_must_change: u.passwordMustChange ? 1 : 0,
        totp_secret_enc: u.totpSecretEnc,
        totp_enrolled_at: u.totpEnrolledAt,
        totp_last_step: u.totpLastStep,
        roles: JSON.stringify(u.roles),
        status: u.status,
        created_at: u.createdAt,
        created_by: u.createdBy,
      });
    },
    async updatePassword(id, hash, changedAt, mustChange) {
      updatePassword.run(hash, changedAt, mustChange ? 1 : 0, id);
    },
    async replaceHash(id, hash) {
      replaceHash.run(hash, id);
    },
    async markTotpEnrolled(id, at, step) {
      enrolled.run(at, step, id);
    },
    async setTotpLastStep(id, step) {
      lastStep.run(step, id, step);
    },
    async setRoles(id, roles) {
      setRoles.run(JSON.stringify(roles), id);
    },
    async setStatus(id, status) {
      setStatus.run(status, id);
    },
    async listByKind(kind) {
      return (listByKind.all(kind) as UserRow[]).map(toUser);
    },
    async countActiveAdmins() {
      return (admins.get() as { n: number }).n;
    },
    async getThrottle(key) {
      const row = getThrottle.get(key) as ThrottleRow | undefined;
      return row ? { key: row.key, failures: row.failures, windowStart: row.window_start, lockedUntil: row.locked_until } : null;
    },
    async putThrottle(rec: ThrottleRecord) {
      putThrottle.run({ key: rec.key, failures: rec.failures, window_start: rec.windowStart, locked_until: rec.lockedUntil });
    },
    async deleteThrottle(key) {
      deleteThrottle.run(key);
    },
    async purgeThrottle(windowStartBefore, now) {
      return purgeThrottle.run({ windowStartBefore, now }).changes;
    },
  };
}
