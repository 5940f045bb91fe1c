/**
 * The accounts service on a real SQLite database with a controllable clock: sign-up, the two sign-in steps,
 * throttling and its expiry, the TOTP replay guard, password changes, staff administration, and the audit
 * trail of each (with no secret in it).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hashPassword } from '../../src/accounts/passwords.js';
import { type AccountsService, createAccountsService, THROTTLE } from '../../src/accounts/service.js';
import { toBase32, totpCode } from '../../src/accounts/totp.js';
import { type AuditService, createAuditService } from '../../src/audit/service.js';
import { AppError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import type { ActorRef } from '../../src/partners/types.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { createTransactor } from '../../src/store/transaction.js';

const PW = 'correct horse battery staple';

interface Setup {
  db: Db;
  audit: AuditService;
  accounts: AccountsService;
  clock: { t: number; advance(ms: number): void };
  dataKey: Buffer;
}

function setup(): Setup {
  const db = openDatabase(':memory:');
  const tx = createTransactor(db);
  const clock = {
    t: Date.parse('2026-11-22T10:00:10Z'),
    advance(ms: number) {
      this.t += ms;
    },
  };
  const now = () => new Date(clock.t);
  const audit = createAuditService({ db, tx, now });
  const dataKey = randomBytes(32);
  const accounts = createAccountsService({ db, tx, audit, dataKey, logger: createLogger({ level: 'silent' }), now });
  return { db, audit, accounts, clock, dataKey };
}

async function rejects(p: Promise<unknown>, code: string, status?: number): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, code, `${err.code}: ${err.message}`);
    if (status !== undefined) assert.equal(err.status, status);
    return err;
  }
  assert.fail(`expected ${code}`);
}

function userCount(db: Db): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
}

function actions(db: Db): string[] {
  return (db.prepare('SELECT action FROM audit_events ORDER BY seq').all() as { action: string }[]).map((r) => r.action);
}

function adminRef(user: { id: string; email: string }): ActorRef {
  return { id: user.id, kind: 'staff', label: user.email, roles: ['admin'], ip: '10.0.0.1' };
}

describe('accounts service', function () {
  this.timeout(20_000);

  describe('sign-up', () => {
    it('creates an applicant with a pending TOTP enrolment, normalising the e-mail', async () => {
      const { accounts, db } = setup();
      const user = await accounts.signUpApplicant({ email: '  Dana@FinTech.Example ', password: PW, displayName: ' Dana ' });
      assert.deepEqual({ ...user, id: 'x' }, { id: 'x', kind: 'applicant', email: 'dana@fintech.example', displayName: 'Dana', roles: [] });
      const row = db.prepare('SELECT * FROM users').get() as Record<string, unknown>;
      assert.equal(row.totp_enrolled_at, null);
      assert.match(String(row.password_hash), /^scrypt\$/);
      // Not signed in yet: a session for this user is refused until enrolment is confirmed.
      assert.equal(await accounts.resolveSession({ id: user.id, kind: 'applicant' }, await accounts.passwordStamp(user.id)), null);
      const e = await accounts.totpEnrolment(user.id);
      assert.match(e.otpauthUri, /^otpauth:\/\/totp\/Partner%20Portal:dana%40fintech\.example\?/);
      assert.deepEqual(actions(db), ['applicant.signed_up']);
    });

    it('refuses bad input with per-field messages, and duplicates, writing nothing', async () => {
      const { accounts, db } = setup();
      const bad = await rejects(accounts.signUpApplicant({ email: 'not-an-email', password: 'short', displayName: '' }), 'input.invalid', 400);
      assert.deepEqual(
        (bad as unknown as { fields: { path: string }[] }).fields.map((f) => f.path).sort(),
        ['displayName', 'email', 'password'],
      );
      await rejects(accounts.signUpApplicant({ email: 'a@b.example', password: 'a@b.example', displayName: 'A' }), 'input.invalid');
      assert.equal(userCount(db), 0);
      await accounts.signUpApplicant({ email: 'a@b.example', password: PW, displayName: 'A' });
      const dup = await rejects(accounts.signUpApplicant({ email: 'A@B.example', password: PW, displayName: 'B' }), 'accounts.signup_refused', 409);
      assert.doesNotMatch(dup.message, /exists|taken|registered/i);
      assert.equal(userCount(db), 1);
      // A staff member with the same e-mail is a different account kind.
      assert.equal((await accounts.seedStaff({ email: 'a@b.example', displayName: 'A', roles: ['reviewer'], password: PW })).user.kind, 'staff');
    });
  });

  describe('sign-in', () => {
    it('password then code; the same failure for unknown e-mail, wrong password and disabled account', async () => {
      const { accounts, audit, db } = setup();
      const { user, totpSecretBase32 } = await accounts.seedApplicant({ email: 'dana@fintech.example', displayName: 'Dana', password: PW });
      const check = await accounts.verifyPassword('applicant', 'DANA@fintech.example', PW, '10.0.0.9');
      assert.deepEqual(check, { user, totpEnrolled: true, mustChangePassword: false });
      const unknown = await rejects(accounts.verifyPassword('applicant', 'nobody@fintech.example', PW, '10.0.0.9'), 'accounts.login_failed', 401);
      const wrong = await rejects(accounts.verifyPassword('applicant', 'dana@fintech.example', 'wrong password!', '10.0.0.9'), 'accounts.login_failed', 401);
      assert.equal(unknown.message, wrong.message);
      // An applicant's credentials do not open the staff sign-in.
      await rejects(accounts.verifyPassword('staff', 'dana@fintech.example', PW, '10.0.0.9'), 'accounts.login_failed');

      const signedIn = await accounts.verifyTotp(user.id, totpCode(totpSecretBase32, new Date('2026-11-22T10:00:10Z')), '10.0.0.9');
      assert.equal(signedIn.id, user.id);
      const failed = await audit.list({ action: 'auth.login.failed' });
      assert.deepEqual(
        failed.map((e) => [e.actor.type, e.data.reason, e.ip]),
        [
          ['anonymous', 'unknown_user', '10.0.0.9'],
          ['applicant', 'bad_password', '10.0.0.9'],
          ['anonymous', 'unknown_user', '10.0.0.9'],
        ],
      );
      const ok = await audit.list({ action: 'auth.login.succeeded' });
      assert.equal(ok.length, 1);
      assert.deepEqual(ok[0]!.subject, { type: 'user', id: user.id });
      const raw = JSON.stringify(db.prepare('SELECT * FROM audit_events').all());
      assert.ok(!raw.includes(PW) && !raw.includes('wrong password!') && !raw.includes(totpSecretBase32));
    });

    it('refuses a replayed code and codes outside ±1 step', async () => {
      const { accounts, clock, audit } = setup();
      const { user, totpSecretBase32: s } = await accounts.seedApplicant({ email: 'r@fintech.example', displayName: 'R', password: PW });
      const at = (ms: number) => new Date(clock.t + ms);
      const code = totpCode(s, at(0));
      await accounts.verifyTotp(user.id, code, null);
      await rejects(accounts.verifyTotp(user.id, code, null), 'accounts.totp_invalid', 401);
      // The previous step is inside the window but older than the accepted one: refused too.
      await rejects(accounts.verifyTotp(user.id, totpCode(s, at(-30_000)), null), 'accounts.totp_invalid');
      await rejects(accounts.verifyTotp(user.id, totpCode(s, at(60_000)), null), 'accounts.totp_invalid');
      await accounts.verifyTotp(user.id, totpCode(s, at(30_000)), null);
      assert.deepEqual(
        (await audit.list({ action: 'auth.totp.failed' })).map((e) => e.data.reason),
        ['replayed', 'replayed', 'invalid'],
      );
    });

    it('locks an account after 5 failures for 15 minutes, even for the right password, then lets it in', async () => {
      const { accounts, clock, audit, db } = setup();
      await accounts.seedApplicant({ email: 'l@fintech.example', displayName: 'L', password: PW });
      for (let i = 0; i < THROTTLE.perAccount; i++) {
        await rejects(accounts.verifyPassword('applicant', 'l@fintech.example', `wrong-${i}-password`, `10.0.1.${i}`), 'accounts.login_failed');
      }
      const t = (await rejects(accounts.verifyPassword('applicant', 'l@fintech.example', PW, '10.0.2.1'), 'accounts.login_throttled', 429)) as AppError & {
        retryAfterSeconds: number;
      };
      assert.equal(t.retryAfterSeconds, 900);
      const throttled = await audit.list({ action: 'auth.throttled' });
      assert.deepEqual(
        throttled.map((e) => [e.data.scope, e.data.refused]),
        [
          ['account', false],
          ['account', true],
        ],
      );
      assert.equal((db.prepare("SELECT failures FROM auth_throttle WHERE key = 'acct:applicant:l@fintech.example'").get() as { failures: number }).failures, 5);
      clock.advance(14 * 60_000);
      await rejects(accounts.verifyPassword('applicant', 'l@fintech.example', PW, '10.0.2.1'), 'accounts.login_throttled');
      clock.advance(60_000 + 1000);
      assert.equal((await accounts.verifyPassword('applicant', 'l@fintech.example', PW, '10.0.2.1')).user.email, 'l@fintech.example');
      // Success clears the account counter.
      assert.equal(db.prepare("SELECT * FROM auth_throttle WHERE key LIKE 'acct:%'").get(), undefined);
    });

    it('throttles unknown e-mails like real ones (no existence leak) and an address after 20 failures', async () => {
      const { accounts } = setup();
      await accounts.seedApplicant({ email: 'real@fintech.example', displayName: 'R', password: PW });
      for (let i = 0; i < THROTTLE.perAccount; i++) await rejects(accounts.verifyPassword('applicant', 'ghost@fintech.example', 'x', `10.9.0.${i}`), 'accounts.login_failed');
      await rejects(accounts.verifyPassword('applicant', 'ghost@fintech.example', 'x', '10.9.1.1'), 'accounts.login_throttled');

      for (let i = 0; i < THROTTLE.perIp; i++) await rejects(accounts.verifyPassword('applicant', `u${i}@fintech.example`, 'x', '192.0.2.7'), 'accounts.login_failed');
      await rejects(accounts.verifyPassword('applicant', 'real@fintech.example', PW, '192.0.2.7'), 'accounts.login_throttled');
      // Another address is not affected.
      await accounts.verifyPassword('applicant', 'real@fintech.example', PW, '192.0.2.8');
    });

    it('throttles TOTP guesses per account', async () => {
      const { accounts } = setup();
      const { user } = await accounts.seedStaff({ email: 's@bank.example', displayName: 'S', roles: ['reviewer'], password: PW });
      for (let i = 0; i < THROTTLE.perAccount; i++) await rejects(accounts.verifyTotp(user.id, '000000', `10.0.3.${i}`), 'accounts.totp_invalid');
      await rejects(accounts.verifyTotp(user.id, '000000', '10.0.4.1'), 'accounts.login_throttled', 429);
    });

    it('re-hashes a password made with old scrypt parameters at the next sign-in', async () => {
      const { accounts, db } = setup();
      const { user } = await accounts.seedApplicant({ email: 'old@fintech.example', displayName: 'O', password: PW });
      db.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(await hashPassword(PW, { N: 2 ** 14, r: 8, p: 1 }), user.id);
      const stamp = await accounts.passwordStamp(user.id);
      await accounts.verifyPassword('applicant', 'old@fintech.example', PW, null);
      const row = db.prepare('SELECT password_hash, password_changed_at FROM users WHERE id = ?').get(user.id) as Record<string, string>;
      assert.match(row.password_hash!, /^scrypt\$32768\$/);
      // A re-hash is not a password change: sessions stay valid.
      assert.equal(row.password_changed_at, stamp);
    });
  });

  describe('password change', () => {
    it('needs the current password, applies the policy and moves the session stamp', async () => {
      const { accounts, db, audit } = setup();
      const { user } = await accounts.seedApplicant({ email: 'p@fintech.example', displayName: 'P', password: PW });
      const stamp = await accounts.passwordStamp(user.id);
      const before = db.prepare('SELECT password_hash FROM users').get();
      await rejects(accounts.changePassword(user.id, 'not the password', 'blue kettle on mars'), 'accounts.password_incorrect', 400);
      await rejects(accounts.changePassword(user.id, PW, 'short'), 'input.invalid', 400);
      await rejects(accounts.changePassword(user.id, PW, PW), 'input.invalid');
      assert.deepEqual(db.prepare('SELECT password_hash FROM users').get(), before);
      const { changedAt } = await accounts.changePassword(user.id, PW, 'blue kettle on mars', '10.0.0.5');
      assert.notEqual(changedAt, stamp);
      assert.equal(await accounts.resolveSession({ id: user.id, kind: 'applicant' }, stamp), null);
      assert.equal((await accounts.resolveSession({ id: user.id, kind: 'applicant' }, changedAt))?.id, user.id);
      await accounts.verifyPassword('applicant', 'p@fintech.example', 'blue kettle on mars', null);
      assert.deepEqual(
        (await audit.list({ subjectId: user.id })).map((e) => e.action),
        ['applicant.signed_up', 'auth.password.change_failed', 'auth.password.changed'],
      );
    });
  });

  describe('staff administration', () => {
    it('creates staff with a one-time temporary password; enrolment and a new password come first', async () => {
      const { accounts, db, clock, audit } = setup();
      const { user: admin } = await accounts.seedStaff({ email: 'admin@bank.example', displayName: 'Admin', roles: ['admin'], password: PW });
      const { user, tempPassword } = await accounts.createStaff(
        { email: 'Rita@Bank.example', displayName: 'Rita', roles: ['approver', 'reviewer'] },
        adminRef(admin),
      );
      assert.deepEqual([user.email, user.roles, user.status, user.totpEnrolled, user.mustChangePassword], ['rita@bank.example', ['reviewer', 'approver'], 'active', false, true]);
      assert.equal(tempPassword.length, 24);
      const check = await accounts.verifyPassword('staff', 'rita@bank.example', tempPassword, null);
      assert.deepEqual([check.totpEnrolled, check.mustChangePassword], [false, true]);
      const e = await accounts.totpEnrolment(user.id);
      await rejects(accounts.confirmTotp(user.id, '123456', null), 'accounts.totp_invalid');
      await accounts.confirmTotp(user.id, totpCode(e.secretBase32, new Date(clock.t)), null);
      await rejects(accounts.totpEnrolment(user.id), 'accounts.totp_already_enrolled', 409);
      // Enrolled but the temporary password is still set: no session yet.
      assert.equal(await accounts.resolveSession({ id: user.id, kind: 'staff' }, await accounts.passwordStamp(user.id)), null);
      const { changedAt } = await accounts.changePassword(user.id, tempPassword, 'blue kettle on mars');
      assert.equal((await accounts.resolveSession({ id: user.id, kind: 'staff' }, changedAt))?.email, 'rita@bank.example');
      assert.deepEqual(
        (await audit.list({ subjectId: user.id })).map((e) => e.action),
        ['staff.created', 'auth.totp.failed', 'auth.totp.enrolled', 'auth.login.succeeded', 'auth.password.changed'],
      );
      const raw = JSON.stringify(db.prepare('SELECT * FROM audit_events').all());
      assert.ok(!raw.includes(tempPassword) && !raw.includes(e.secretBase32));
      await rejects(accounts.createStaff({ email: 'rita@bank.example', displayName: 'R2', roles: ['reviewer'] }, adminRef(admin)), 'accounts.staff_exists', 409);
      await rejects(accounts.createStaff({ email: 'x@bank.example', displayName: 'X', roles: [] }, adminRef(admin)), 'input.invalid');
      await rejects(
        accounts.createStaff({ email: 'x@bank.example', displayName: 'X', roles: ['superuser' as never] }, adminRef(admin)),
        'input.invalid',
      );
      await rejects(
        accounts.createStaff({ email: 'x@bank.example', displayName: 'X', roles: ['reviewer'] }, { ...adminRef(admin), roles: ['reviewer'] }),
        'auth.role_required',
        403,
      );
      assert.equal(userCount(db), 2);
    });

    it('keeps admins from removing their own admin role or disabling themselves', async () => {
      const { accounts, db } = setup();
      const { user: a } = await accounts.seedStaff({ email: 'a@bank.example', displayName: 'A', roles: ['admin'], password: PW });
      const { user: b } = await accounts.seedStaff({ email: 'b@bank.example', displayName: 'B', roles: ['admin', 'approver'], password: PW });
      await rejects(accounts.setStaffRoles(a.id, ['reviewer'], adminRef(a)), 'accounts.self_change_refused', 409);
      await rejects(accounts.disableStaff(a.id, adminRef(a)), 'accounts.self_change_refused', 409);
      assert.deepEqual(db.prepare('SELECT roles, status FROM users WHERE id = ?').get(a.id), { roles: '["admin"]', status: 'active' });
      // Adding roles to oneself is fine.
      assert.deepEqual((await accounts.setStaffRoles(a.id, ['admin', 'reviewer'], adminRef(a))).roles, ['reviewer', 'admin']);
      // B can take A's admin role away; then A (no longer admin) cannot act as one.
      assert.deepEqual((await accounts.setStaffRoles(a.id, ['reviewer'], adminRef(b))).roles, ['reviewer']);
      await rejects(accounts.disableStaff(b.id, { ...adminRef(a), roles: ['reviewer'] }), 'auth.role_required');
      // The last active admin cannot lose the role, even through a stale admin reference.
      await rejects(accounts.setStaffRoles(b.id, ['approver'], adminRef(a)), 'accounts.last_admin', 409);
      const disabled = await accounts.disableStaff(a.id, adminRef(b));
      assert.equal(disabled.status, 'disabled');
      await rejects(accounts.verifyPassword('staff', 'a@bank.example', PW, null), 'accounts.login_failed');
      assert.equal(await accounts.getUser(a.id), null);
      await rejects(accounts.setStaffRoles('00000000-0000-4000-8000-000000000000', ['reviewer'], adminRef(b)), 'not_found', 404);
    });

    it('lists staff, never applicants', async () => {
      const { accounts } = setup();
      await accounts.seedStaff({ email: 'z@bank.example', displayName: 'Z', roles: ['reviewer'], password: PW });
      await accounts.seedStaff({ email: 'm@bank.example', displayName: 'M', roles: ['approver'], password: PW });
      await accounts.seedApplicant({ email: 'app@fintech.example', displayName: 'App', password: PW });
      assert.deepEqual((await accounts.listStaff()).map((s) => s.email), ['m@bank.example', 'z@bank.example']);
    });
  });

  it('stores TOTP secrets encrypted and refuses to start with a wrong-size key', async () => {
    const { accounts, db } = setup();
    const { totpSecretBase32 } = await accounts.seedApplicant({ email: 'e@fintech.example', displayName: 'E', password: PW });
    const enc = (db.prepare('SELECT totp_secret_enc FROM users').get() as { totp_secret_enc: string }).totp_secret_enc;
    assert.ok(!enc.includes(totpSecretBase32));
    assert.equal(toBase32(Buffer.alloc(0)), '');
    const db2 = openDatabase(':memory:');
    const tx2 = createTransactor(db2);
    assert.throws(() =>
      createAccountsService({ db: db2, tx: tx2, audit: createAuditService({ db: db2, tx: tx2 }), dataKey: randomBytes(16), logger: createLogger({ level: 'silent' }) }),
    );
  });
});
