/**
 * The accounts area: applicants, staff and bank customers, passwords (scrypt), TOTP as the second factor, login throttling,
 * and staff administration. Every sign-in outcome and every account change is audited in the transaction
 * that makes it; passwords, codes and secrets never reach the audit log or the logs.
 *
 * Slow work (scrypt, QR rendering) runs before `tx.run`, never inside it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Actor, AuditService } from '../audit/service.js';
import { type AppError, ForbiddenError, InputError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type ActorRef, STAFF_ROLES, type StaffRole } from '../partners/types.js';
import type { Db } from '../store/database.js';
import { createSqliteAccountsRepository } from '../store/sqlite/accounts.js';
import type { Transactor } from '../store/transaction.js';
import {
  CustomerExistsError,
  LastAdminError,
  LoginFailedError,
  PasswordIncorrectError,
  SelfChangeRefusedError,
  SignupRefusedError,
  StaffExistsError,
  ThrottledError,
  TotpAlreadyEnrolledError,
  TotpInvalidError,
} from './errors.js';
import { assertPasswordPolicy, dummyVerify, hashPassword, needsRehash, verifyPassword } from './passwords.js';
import type { AccountsRepository, UserRecord } from './repository.js';
import { decryptSecret, encryptSecret, enrolmentFor, matchTotp, newTotpSecret, toBase32 } from './totp.js';
import type { PasswordCheck, SessionUser, StaffListItem, TotpEnrolment, UserKind } from './types.js';

/** Failed attempts allowed per key within the window before it locks for a window. */
export const THROTTLE = { windowMs: 15 * 60 * 1000, perAccount: 5, perIp: 20 } as const;

export interface AccountsService {
  /** A new applicant with a TOTP secret generated but not yet confirmed (enrolment comes next). */
  signUpApplicant(input: { email: string; password: string; displayName: string }, ip?: string | null): Promise<SessionUser>;
  /** Step one of a sign-in. LoginFailedError (401) or ThrottledError (429); the same failure for every cause. */
  verifyPassword(kind: UserKind, email: string, password: string, ip: string | null): Promise<PasswordCheck>;
  /** The QR code and base32 secret of an account whose TOTP is not yet confirmed. */
  totpEnrolment(userId: string): Promise<TotpEnrolment>;
  /** Confirms enrolment with a first code (step two of the first sign-in). */
  confirmTotp(userId: string, code: string, ip: string | null): Promise<SessionUser>;
  /** Step two of a sign-in. TotpInvalidError (401, wrong or replayed code) or ThrottledError (429). */
  verifyTotp(userId: string, code: string, ip: string | null): Promise<SessionUser>;
  /** Needs the current password. Returns the new password stamp (see `passwordStamp`). */
  changePassword(userId: string, current: string, next: string, ip?: string | null): Promise<{ changedAt: string }>;
  recordLogout(user: SessionUser, ip: string | null): Promise<void>;

  createStaff(
    input: { email: string; displayName: string; roles: StaffRole[]; tempPassword?: string },
    byAdmin: ActorRef,
  ): Promise<{ user: StaffListItem; tempPassword: string }>;
  setStaffRoles(staffId: string, roles: StaffRole[], byAdmin: ActorRef): Promise<StaffListItem>;
  disableStaff(staffId: string, byAdmin: ActorRef): Promise<StaffListItem>;
  listStaff(): Promise<StaffListItem[]>;

  /** The active user, shaped; null when unknown or disabled. */
  getUser(id: string): Promise<SessionUser | null>;
  /** When the password last changed: sessions remember it and end when it moves (a password change elsewhere). */
  passwordStamp(userId: string): Promise<string | null>;
  /** For session restore: the active user of that kind whose password stamp still matches, else null. */
  resolveSession(ref: { id: string; kind: UserKind }, stamp: string | null | undefined): Promise<SessionUser | null>;

  /** Demo seed and tests: an enrolled staff member. Returns the TOTP secret once (base32). */
  seedStaff(input: { email: string; displayName: string; roles: StaffRole[]; password: string }): Promise<{
    user: SessionUser;
    totpSecretBase32: string;
  }>;
  /** Demo seed and tests: an enrolled applicant. */
  seedApplicant(input: { email: string; displayName: string; password: string }): Promise<{
    user: SessionUser;
    totpSecretBase32: string;
  }>;
  /**
   * Demo seed and tests: an enrolled bank customer (customers exist at the bank; there is no sign-up).
   * CustomerExistsError (409) for an e-mail that has one.
   */
  seedCustomer(input: { email: string; displayName: string; password: string }): Promise<{
    user: SessionUser;
    totpSecretBase32: string;
  }>;
}

export interface AccountsDeps {
  db: Db;
  tx: Transactor;
  audit: AuditService;
  /** 32 bytes: encrypts TOTP secrets at rest (config.dataKey). */
  dataKey: Buffer;
  logger: Logger;
  now?: () => Date;
  /** Defaults to the SQLite repository over `db`. */
  repository?: AccountsRepository;
}

const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'Use at most 254 characters.')
  .pipe(z.email('Enter an e-mail address such as name@example.com.'));
const displayNameSchema = z
  .string()
  .trim()
  .min(1, 'Enter your name.')
  .max(100, 'Use at most 100 characters.')
  .refine((s) => !/[\p{Cc}\p{Cf}]/u.test(s), 'Use letters, digits and punctuation only.');
const rolesSchema = z
  .array(z.enum(STAFF_ROLES))
  .min(1, 'Choose at least one role.')
  .transform((roles) => STAFF_ROLES.filter((r) => roles.includes(r)));

/** Trimmed and lower-cased; the comparison key for e-mails everywhere in this area. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

function fieldsOf(error: z.ZodError, prefix = ''): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: prefix || i.path.join('.'), message: i.message }));
}

function shape(u: UserRecord): SessionUser {
  return { id: u.id, kind: u.kind, email: u.email, displayName: u.displayName, roles: u.kind === 'staff' ? [...u.roles] : [] };
}

function staffItem(u: UserRecord): StaffListItem {
  return {
    ...shape(u),
    status: u.status,
    totpEnrolled: u.totpEnrolledAt !== null,
    mustChangePassword: u.passwordMustChange,
    createdAt: u.createdAt,
  };
}

/** The audit action of a seeded account: what creating one of that kind is called elsewhere. */
const SEEDED_ACTION: Record<UserKind, string> = {
  applicant: 'applicant.signed_up',
  staff: 'staff.created',
  customer: 'customer.created',
};

function existsError(kind: UserKind): AppError {
  if (kind === 'staff') return new StaffExistsError();
  return kind === 'customer' ? new CustomerExistsError() : new SignupRefusedError();
}

function actorOf(u: UserRecord): Actor {
  return { type: u.kind, id: u.id, label: u.email };
}

function adminActor(a: ActorRef): Actor {
  return { type: 'staff', id: a.id, label: a.label };
}

export function createAccountsService(deps: AccountsDeps): AccountsService {
  const { tx, audit, dataKey, logger } = deps;
  const repo = deps.repository ?? createSqliteAccountsRepository(deps.db);
  const now = deps.now ?? (() => new Date());
  if (dataKey.length !== 32) throw new Error('accounts: the data key must be 32 bytes');
  let lastPurge = 0;

  // --- throttling --------------------------------------------------------------------------------

  interface Key {
    key: string;
    limit: number;
    scope: 'account' | 'ip' | 'totp';
  }

  function keysFor(first: { key: string; scope: 'account' | 'totp' }, ip: string | null): Key[] {
    const keys: Key[] = [{ ...first, limit: THROTTLE.perAccount }];
    if (ip) keys.push({ key: `ip:${ip}`, limit: THROTTLE.perIp, scope: 'ip' });
    return keys;
  }

  /** The longest remaining lock among the keys, in seconds, with the key; null when none is locked. */
  async function lockOf(keys: Key[]): Promise<{ key: Key; seconds: number } | null> {
    const t = now().getTime();
    let worst: { key: Key; seconds: number } | null = null;
    for (const key of keys) {
      const rec = await repo.getThrottle(key.key);
      if (!rec?.lockedUntil) continue;
      const ms = Date.parse(rec.lockedUntil) - t;
      if (ms > 0 && (!worst || ms > worst.seconds * 1000)) worst = { key, seconds: Math.ceil(ms / 1000) };
    }
    return worst;
  }

  /** Counts a failure on each key (inside tx.run); returns the keys that locked because of it. */
  async function countFailure(keys: Key[]): Promise<Key[]> {
    const at = now();
    const t = at.getTime();
    const locked: Key[] = [];
    for (const key of keys) {
      const rec = await repo.getThrottle(key.key);
      const fresh = !rec || t - Date.parse(rec.windowStart) >= THROTTLE.windowMs;
      const failures = fresh ? 1 : rec.failures + 1;
      const windowStart = fresh ? at.toISOString() : rec.windowStart;
      let lockedUntil = fresh ? null : rec.lockedUntil;
      if (failures >= key.limit && !(lockedUntil && Date.parse(lockedUntil) > t)) {
        lockedUntil = new Date(t + THROTTLE.windowMs).toISOString();
        locked.push(key);
      }
      await repo.putThrottle({ key: key.key, failures, windowStart, lockedUntil });
    }
    if (t - lastPurge > 10 * 60 * 1000) {
      lastPurge = t;
      await repo.purgeThrottle(new Date(t - THROTTLE.windowMs).toISOString(), at.toISOString());
    }
    return locked;
  }

  async function refuseIfLocked(keys: Key[], actor: Actor, stage: 'password' | 'totp' | 'password_change', ip: string | null) {
    const lock = await lockOf(keys);
    if (!lock) return;
    await tx.run(() =>
      audit.record({
        actor,
        action: 'auth.throttled',
        subject: actor.id ? { type: 'user', id: actor.id } : null,
        data: { stage, scope: lock.key.scope, retryAfterSeconds: lock.seconds, refused: true },
        ip,
      }),
    );
    logger.warn({ stage, scope: lock.key.scope }, 'sign-in attempt refused: throttled');
    throw new ThrottledError(lock.seconds, { detail: `${lock.key.scope} locked` });
  }

  /** Records the failure, its audit event and any lock it triggers in one transaction. */
  async function recordFailure(
    keys: Key[],
    event: { actor: Actor; action: string; subjectId: string | null; data: Record<string, unknown> },
    stage: string,
    ip: string | null,
  ): Promise<void> {
    await tx.run(async () => {
      const locked = await countFailure(keys);
      const subject = event.subjectId ? { type: 'user', id: event.subjectId } : null;
      await audit.record({ actor: event.actor, action: event.action, subject, data: event.data, ip });
      for (const key of locked) {
        await audit.record({
          actor: event.actor,
          action: 'auth.throttled',
          subject,
          data: { stage, scope: key.scope, retryAfterSeconds: THROTTLE.windowMs / 1000, refused: false },
          ip,
        });
      }
    });
  }

  // --- helpers -----------------------------------------------------------------------------------

  async function activeUser(id: string): Promise<UserRecord | null> {
    const u = await repo.findById(id);
    return u && u.status === 'active' ? u : null;
  }

  async function staffOrNotFound(id: string): Promise<UserRecord> {
    const u = await repo.findById(id);
    if (!u || u.kind !== 'staff') throw new NotFoundError('No such staff member.');
    return u;
  }

  function requireAdmin(a: ActorRef): void {
    if (a.kind !== 'staff' || !a.roles.includes('admin')) {
      throw new ForbiddenError('auth.role_required', 'This needs the admin role.');
    }
  }

  async function newUser(input: {
    kind: UserKind;
    email: string;
    displayName: string;
    password: string;
    roles: StaffRole[];
    mustChange: boolean;
    enrolled: boolean;
    createdBy: string | null;
  }): Promise<{ record: UserRecord; secret: Buffer }> {
    const id = randomUUID();
    const at = now().toISOString();
    const secret = newTotpSecret();
    const record: UserRecord = {
      id,
      kind: input.kind,
      email: input.email,
      displayName: input.displayName,
      passwordHash: await hashPassword(input.password),
      passwordChangedAt: at,
      passwordMustChange: input.mustChange,
      totpSecretEnc: encryptSecret(dataKey, secret, id),
      totpEnrolledAt: input.enrolled ? at : null,
      totpLastStep: 0,
      roles: input.kind === 'staff' ? input.roles : [],
      status: 'active',
      createdAt: at,
      createdBy: input.createdBy,
    };
    return { record, secret };
  }

  function parseIdentity(input: { email: unknown; displayName: unknown }): { email: string; displayName: string } {
    const email = emailSchema.safeParse(input.email ?? '');
    const name = displayNameSchema.safeParse(input.displayName ?? '');
    const fields = [
      ...(email.success ? [] : fieldsOf(email.error, 'email')),
      ...(name.success ? [] : fieldsOf(name.error, 'displayName')),
    ];
    if (!email.success || !name.success) throw new InputError('Some fields need attention.', fields);
    return { email: email.data, displayName: name.data };
  }

  async function checkCode(
    user: UserRecord,
    code: string,
    ip: string | null,
    stage: 'totp' | 'enrolment',
  ): Promise<number> {
    const keys = keysFor({ key: `totp:${user.id}`, scope: 'totp' }, ip);
    await refuseIfLocked(keys, actorOf(user), 'totp', ip);
    const at = now();
    let secret: Buffer;
    try {
      secret = decryptSecret(dataKey, user.totpSecretEnc, user.id);
    } catch (err) {
      // A wrong DATA_KEY or an edited row: an operator problem, not the user's code.
      logger.error({ err, userId: user.id }, 'TOTP secret cannot be decrypted (wrong DATA_KEY?)');
      throw err;
    }
    const step = matchTotp(secret, code.replace(/\s+/g, ''), at);
    if (step === null || step <= user.totpLastStep) {
      await recordFailure(
        keys,
        {
          actor: actorOf(user),
          action: 'auth.totp.failed',
          subjectId: user.id,
          data: { kind: user.kind, stage, reason: step === null ? 'invalid' : 'replayed' },
        },
        'totp',
        ip,
      );
      throw new TotpInvalidError({ detail: step === null ? 'no match in window' : 'replayed step' });
    }
    return step;
  }

  async function seed(
    kind: UserKind,
    input: { email: string; displayName: string; roles: StaffRole[]; password: string },
  ): Promise<{ user: SessionUser; totpSecretBase32: string }> {
    const { email, displayName } = parseIdentity(input);
    assertPasswordPolicy(input.password, email);
    const { record, secret } = await newUser({
      kind,
      email,
      displayName,
      password: input.password,
      roles: kind === 'staff' ? rolesSchema.parse(input.roles) : [],
      mustChange: false,
      enrolled: true,
      createdBy: null,
    });
    await tx.run(async () => {
      if (await repo.findByEmail(kind, email)) throw existsError(kind);
      await repo.insert(record);
      await audit.record({
        actor: { type: 'system', id: null, label: 'seed' },
        action: SEEDED_ACTION[kind],
        subject: { type: 'user', id: record.id },
        data: { email, roles: record.roles, seeded: true },
      });
    });
    return { user: shape(record), totpSecretBase32: toBase32(secret) };
  }

  // --- the service -------------------------------------------------------------------------------

  return {
    async signUpApplicant(input, ip = null) {
      const fields: { path: string; message: string }[] = [];
      let identity: { email: string; displayName: string } | null = null;
      try {
        identity = parseIdentity(input);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        fields.push(...err.fields);
      }
      const password = typeof input.password === 'string' ? input.password : '';
      try {
        assertPasswordPolicy(password, identity?.email ?? '');
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        fields.push(...err.fields);
      }
      if (!identity || fields.length) throw new InputError('Some fields need attention.', fields);
      if (await repo.findByEmail('applicant', identity.email)) throw new SignupRefusedError({ detail: 'duplicate e-mail' });
      const { record } = await newUser({
        kind: 'applicant',
        ...identity,
        password,
        roles: [],
        mustChange: false,
        enrolled: false,
        createdBy: null,
      });
      await tx.run(async () => {
        // Checked again inside the transaction: two sign-ups for one e-mail may race past the first check.
        if (await repo.findByEmail('applicant', identity.email)) throw new SignupRefusedError({ detail: 'duplicate e-mail' });
        await repo.insert(record);
        await audit.record({
          actor: actorOf(record),
          action: 'applicant.signed_up',
          subject: { type: 'user', id: record.id },
          data: { email: record.email },
          ip,
        });
      });
      return shape(record);
    },

    async verifyPassword(kind, email, password, ip) {
      const normalised = normaliseEmail(typeof email === 'string' ? email : '').slice(0, 320);
      const actor: Actor = { type: 'anonymous', id: null, label: normalised };
      const keys = keysFor({ key: `acct:${kind}:${normalised}`, scope: 'account' }, ip);
      await refuseIfLocked(keys, actor, 'password', ip);
      const user = normalised ? await repo.findByEmail(kind, normalised) : null;
      const pw = typeof password === 'string' ? password.slice(0, 1024) : '';
      const matches = user ? await verifyPassword(pw, user.passwordHash) : await dummyVerify(pw);
      if (!user || !matches || user.status !== 'active') {
        const reason = !user ? 'unknown_user' : !matches ? 'bad_password' : 'disabled';
        await recordFailure(
          keys,
          { actor: user ? actorOf(user) : actor, action: 'auth.login.failed', subjectId: user?.id ?? null, data: { kind, stage: 'password', reason } },
          'password',
          ip,
        );
        throw new LoginFailedError({ detail: reason });
      }
      const rehash = needsRehash(user.passwordHash) ? await hashPassword(pw) : null;
      await tx.run(async () => {
        await repo.deleteThrottle(keys[0]!.key);
        if (rehash) await repo.replaceHash(user.id, rehash);
      });
      return { user: shape(user), totpEnrolled: user.totpEnrolledAt !== null, mustChangePassword: user.passwordMustChange };
    },

    async totpEnrolment(userId) {
      const user = await activeUser(userId);
      if (!user) throw new NotFoundError('No such account.');
      if (user.totpEnrolledAt) throw new TotpAlreadyEnrolledError();
      return enrolmentFor(decryptSecret(dataKey, user.totpSecretEnc, user.id), user.email);
    },

    async confirmTotp(userId, code, ip) {
      const user = await activeUser(userId);
      if (!user) throw new LoginFailedError({ detail: 'user gone or disabled during enrolment' });
      if (user.totpEnrolledAt) throw new TotpAlreadyEnrolledError();
      const step = await checkCode(user, code, ip, 'enrolment');
      await tx.run(async () => {
        await repo.markTotpEnrolled(user.id, now().toISOString(), step);
        await repo.deleteThrottle(`totp:${user.id}`);
        await audit.record({ actor: actorOf(user), action: 'auth.totp.enrolled', subject: { type: 'user', id: user.id }, data: { kind: user.kind }, ip });
        await audit.record({
          actor: actorOf(user),
          action: 'auth.login.succeeded',
          subject: { type: 'user', id: user.id },
          data: { kind: user.kind, method: 'password+totp', enrolment: true },
          ip,
        });
      });
      return shape(user);
    },

    async verifyTotp(userId, code, ip) {
      const user = await activeUser(userId);
      if (!user || !user.totpEnrolledAt) throw new LoginFailedError({ detail: 'user gone, disabled or not enrolled' });
      const step = await checkCode(user, code, ip, 'totp');
      await tx.run(async () => {
        await repo.setTotpLastStep(user.id, step);
        await repo.deleteThrottle(`totp:${user.id}`);
        await audit.record({
          actor: actorOf(user),
          action: 'auth.login.succeeded',
          subject: { type: 'user', id: user.id },
          data: { kind: user.kind, method: 'password+totp' },
          ip,
        });
      });
      return shape(user);
    },

    async changePassword(userId, current, next, ip = null) {
      const user = await activeUser(userId);
      if (!user) throw new NotFoundError('No such account.');
      const nextPw = typeof next === 'string' ? next : '';
      const currentPw = typeof current === 'string' ? current.slice(0, 1024) : '';
      assertPasswordPolicy(nextPw, user.email, 'newPassword');
      const keys = keysFor({ key: `acct:${user.kind}:${user.email}`, scope: 'account' }, ip);
      await refuseIfLocked(keys, actorOf(user), 'password_change', ip);
      if (!(await verifyPassword(currentPw, user.passwordHash))) {
        await recordFailure(
          keys,
          { actor: actorOf(user), action: 'auth.password.change_failed', subjectId: user.id, data: { kind: user.kind, reason: 'bad_current_password' } },
          'password_change',
          ip,
        );
        throw new PasswordIncorrectError();
      }
      if (nextPw === currentPw) {
        const message = 'Choose a password different from the current one.';
        throw new InputError(message, [{ path: 'newPassword', message }]);
      }
      const hash = await hashPassword(nextPw);
      // The change time is the sessions' stamp: it must move even when the clock has not (same millisecond).
      const changedAt = new Date(Math.max(now().getTime(), Date.parse(user.passwordChangedAt) + 1)).toISOString();
      await tx.run(async () => {
        await repo.updatePassword(user.id, hash, changedAt, false);
        await repo.deleteThrottle(keys[0]!.key);
        await audit.record({
          actor: actorOf(user),
          action: 'auth.password.changed',
          subject: { type: 'user', id: user.id },
          data: { kind: user.kind, wasTemporary: user.passwordMustChange },
          ip,
        });
      });
      return { changedAt };
    },

    async recordLogout(user, ip) {
      await tx.run(() =>
        audit.record({
          actor: { type: user.kind, id: user.id, label: user.email },
          action: 'auth.logout',
          subject: { type: 'user', id: user.id },
          data: { kind: user.kind },
          ip,
        }),
      );
    },

    async createStaff(input, byAdmin) {
      requireAdmin(byAdmin);
      const { email, displayName } = parseIdentity(input);
      const roles = rolesSchema.safeParse(input.roles);
      if (!roles.success) throw new InputError('Some fields need attention.', fieldsOf(roles.error, 'roles'));
      // 24 characters from 144 random bits: strong enough to be a password, shown once, changed at first sign-in.
      const tempPassword = input.tempPassword ?? randomBytes(18).toString('base64url');
      assertPasswordPolicy(tempPassword, email, 'tempPassword');
      if (await repo.findByEmail('staff', email)) throw new StaffExistsError();
      const { record } = await newUser({
        kind: 'staff',
        email,
        displayName,
        password: tempPassword,
        roles: roles.data,
        mustChange: true,
        enrolled: false,
        createdBy: byAdmin.id,
      });
      await tx.run(async () => {
        if (await repo.findByEmail('staff', email)) throw new StaffExistsError();
        await repo.insert(record);
        await audit.record({
          actor: adminActor(byAdmin),
          action: 'staff.created',
          subject: { type: 'user', id: record.id },
          data: { email, roles: record.roles },
          ip: byAdmin.ip ?? null,
        });
      });
      return { user: staffItem(record), tempPassword };
    },

    async setStaffRoles(staffId, roles, byAdmin) {
      requireAdmin(byAdmin);
      const parsed = rolesSchema.safeParse(roles);
      if (!parsed.success) throw new InputError('Some fields need attention.', fieldsOf(parsed.error, 'roles'));
      return tx.run(async () => {
        const target = await staffOrNotFound(staffId);
        const removesAdmin = target.roles.includes('admin') && !parsed.data.includes('admin');
        if (removesAdmin && target.id === byAdmin.id) {
          throw new SelfChangeRefusedError('You cannot remove your own admin role. Ask another admin.');
        }
        if (removesAdmin && target.status === 'active' && (await repo.countActiveAdmins()) <= 1) throw new LastAdminError();
        await repo.setRoles(target.id, parsed.data);
        await audit.record({
          actor: adminActor(byAdmin),
          action: 'staff.roles_changed',
          subject: { type: 'user', id: target.id },
          data: { email: target.email, from: target.roles, to: parsed.data },
          ip: byAdmin.ip ?? null,
        });
        return staffItem({ ...target, roles: parsed.data });
      });
    },

    async disableStaff(staffId, byAdmin) {
      requireAdmin(byAdmin);
      return tx.run(async () => {
        const target = await staffOrNotFound(staffId);
        if (target.id === byAdmin.id) throw new SelfChangeRefusedError('You cannot disable your own account. Ask another admin.');
        if (target.status === 'disabled') return staffItem(target);
        if (target.roles.includes('admin') && (await repo.countActiveAdmins()) <= 1) throw new LastAdminError();
        await repo.setStatus(target.id, 'disabled');
        await audit.record({
          actor: adminActor(byAdmin),
          action: 'staff.disabled',
          subject: { type: 'user', id: target.id },
          data: { email: target.email },
          ip: byAdmin.ip ?? null,
        });
        return staffItem({ ...target, status: 'disabled' });
      });
    },

    async listStaff() {
      return (await repo.listByKind('staff')).map(staffItem);
    },

    async getUser(id) {
      const u = await activeUser(id);
      return u ? shape(u) : null;
    },

    async passwordStamp(userId) {
      return (await repo.findById(userId))?.passwordChangedAt ?? null;
    },

    async resolveSession(ref, stamp) {
      const u = await activeUser(ref.id);
      if (!u || u.kind !== ref.kind || u.totpEnrolledAt === null || u.passwordMustChange) return null;
      if (stamp !== u.passwordChangedAt) return null;
      return shape(u);
    },

    seedStaff(input) {
      return seed('staff', input);
    },

    seedApplicant(input) {
      return seed('applicant', { ...input, roles: [] });
    },

    seedCustomer(input) {
      return seed('customer', { ...input, roles: [] });
    },
  };
}
