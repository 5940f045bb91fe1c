/**
 * Bank customers as a third kind of user: the users-table migration, seeding, the customer sign-in pages
 * over real HTTPS (password, then TOTP, with CSRF and real cookies), throttling, the separation of the three
 * kinds, sign-out and password change, and the service calls the OAuth interaction pages use.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { Router } from 'express';
import { customerRouter } from '../../src/accounts/routes.js';
import { totpCode } from '../../src/accounts/totp.js';
import type { AppError } from '../../src/errors.js';
import { actorFrom, requireApplicant, requireCustomer, requireStaff, safeNext } from '../../src/http/middleware/auth.js';
import { listMigrations, migrate } from '../../src/store/database.js';
import {
  type Agent,
  type Credentials,
  csrfFrom,
  errorCodeFrom,
  loginApplicant,
  loginStaff,
  nextTotpCode,
  postForm,
  seedStaff,
  signUpAndEnrol,
  startWebApp,
  TEST_PASSWORD,
  type WebApp,
} from '../helpers/web.js';

/** Stand-ins for pages other areas own (the consent centre among them): enough to tell who is signed in. */
function landing(): Router {
  const r = Router();
  r.get('/customer/consents', requireCustomer, (req, res) => {
    res.type('text').send(`customer ${req.user!.email}`);
  });
  r.get('/customer/whoami', requireCustomer, (req, res) => {
    res.json(actorFrom(req));
  });
  r.get('/applications', requireApplicant, (req, res) => {
    res.type('text').send(`applicant ${req.user!.email}`);
  });
  r.get('/staff/applications', requireStaff(), (req, res) => {
    res.type('text').send(`staff ${req.user!.email}`);
  });
  return r;
}

const page = (agent: Agent, path: string) => agent.get(path).set('Accept', 'text/html');

function sessionCookie(res: { headers: Record<string, unknown> }): string | null {
  const raw = res.headers['set-cookie'];
  const list = Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
  return list.find((c) => c.startsWith('__Host-portal.sid=')) ?? null;
}

function cookieValue(setCookie: string): string {
  return setCookie.split(';')[0]!;
}

function sidOf(setCookie: string): string {
  const value = decodeURIComponent(cookieValue(setCookie).slice('__Host-portal.sid='.length));
  return value.slice(2, value.lastIndexOf('.'));
}

function count(web: WebApp, sql: string, ...params: unknown[]): number {
  return (web.db.prepare(sql).get(...params) as { n: number }).n;
}

/** Sessions signed in as that user (passport keeps `{ id, kind }` in the session). */
function signedInSessions(web: WebApp, userId: string): number {
  return count(web, "SELECT COUNT(*) AS n FROM sessions WHERE json_extract(data, '$.passport.user.id') = ?", userId);
}

function pendingSessions(web: WebApp, userId: string): number {
  return count(web, "SELECT COUNT(*) AS n FROM sessions WHERE json_extract(data, '$.pendingLogin.userId') = ?", userId);
}

function audit(web: WebApp, action: string): { actor_type: string; actor_label: string; subject_id: string | null; data: Record<string, unknown> }[] {
  return (web.db.prepare('SELECT actor_type, actor_label, subject_id, data FROM audit_events WHERE action = ? ORDER BY seq').all(action) as { actor_type: string; actor_label: string; subject_id: string | null; data: string }[]).map(
    (r) => ({ ...r, data: JSON.parse(r.data) as Record<string, unknown> }),
  );
}

function snapshot(web: WebApp): string {
  return JSON.stringify(web.db.prepare('SELECT id, kind, email, password_hash, password_changed_at, totp_last_step, status FROM users ORDER BY id').all());
}

type Customer = Credentials & { userId: string };

async function seedCustomer(web: WebApp, email: string): Promise<Customer> {
  const { user, totpSecretBase32 } = await web.accounts.seedCustomer({ email, displayName: 'Casey Customer', password: TEST_PASSWORD });
  return { email, password: TEST_PASSWORD, secret: totpSecretBase32, userId: user.id };
}

/** Password then code through the customer forms; resolves with the final redirect response. */
async function loginCustomer(web: WebApp, agent: Agent, c: Credentials, next?: string) {
  const first = await postForm(agent, `/customer/login${next ? `?next=${encodeURIComponent(next)}` : ''}`, { email: c.email, password: c.password, ...(next ? { next } : {}) }, '/customer/login');
  assert.equal(first.status, 303, errorCodeFrom(first.text) ?? '');
  assert.equal(first.headers.location, '/customer/login/totp');
  const form = await page(agent, '/customer/login/totp');
  assert.equal(form.status, 200);
  const done = await agent.post('/customer/login/totp').type('form').send({ _csrf: csrfFrom(form.text), code: await nextTotpCode(c.secret, web.clock) });
  assert.equal(done.status, 303, errorCodeFrom(done.text) ?? '');
  return done;
}

describe('bank customers', function () {
  this.timeout(60_000);

  describe('migration 0010_customers', () => {
    function migratedTo(version: number): Database.Database {
      const db = new Database(':memory:');
      db.pragma('foreign_keys = ON');
      migrate(db, listMigrations().filter((m) => m.version <= version));
      return db;
    }
    const insert = (db: Database.Database, id: string, kind: string, email: string) =>
      db
        .prepare(`INSERT INTO users (id, kind, email, display_name, password_hash, password_changed_at, totp_secret_enc, created_at)
          VALUES (?, ?, ?, 'Name', 'scrypt$x', '2026-01-01T00:00:00.000Z', 'enc', '2026-01-01T00:00:00.000Z')`)
        .run(id, kind, email);

    it('keeps existing users, allows customers, and still refuses an unknown kind and a duplicate', () => {
      const db = migratedTo(9);
      try {
        assert.throws(() => insert(db, 'c0', 'customer', 'early@bank.test'), /CHECK constraint failed/);
        insert(db, 'a1', 'applicant', 'a@fintech.test');
        db.prepare(`UPDATE users SET totp_enrolled_at = 'x', totp_last_step = 42, roles = '[]', password_must_change = 1 WHERE id = 'a1'`).run();
        insert(db, 's1', 'staff', 's@bank.test');
        db.prepare(`UPDATE users SET roles = '["admin"]', status = 'disabled', created_by = 'a1' WHERE id = 's1'`).run();
        const before = db.prepare('SELECT * FROM users ORDER BY id').all();

        const applied = migrate(db);
        assert.equal(applied[0], 10);
        assert.deepEqual(db.prepare('SELECT * FROM users ORDER BY id').all(), before);

        insert(db, 'c1', 'customer', 'a@fintech.test'); // the same e-mail as the applicant: another kind
        assert.equal((db.prepare("SELECT kind FROM users WHERE id = 'c1'").get() as { kind: string }).kind, 'customer');
        assert.throws(() => insert(db, 'x1', 'partner', 'p@fintech.test'), /CHECK constraint failed/);
        assert.throws(() => insert(db, 'c2', 'customer', 'a@fintech.test'), /UNIQUE constraint failed: users.kind, users.email/);
        assert.throws(() => db.prepare("UPDATE users SET status = 'gone' WHERE id = 'c1'").run(), /CHECK constraint failed/);
        assert.equal(count({ db } as WebApp, 'SELECT COUNT(*) AS n FROM users'), 3);
        assert.equal(count({ db } as WebApp, "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'users_new'"), 0);
        assert.deepEqual(db.pragma('foreign_key_check'), []);
        // Nothing references users by a foreign key (what made the table rebuild safe).
        const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
        for (const t of tables) {
          const fks = db.prepare('SELECT * FROM pragma_foreign_key_list(?)').all(t) as { table: string }[];
          assert.ok(!fks.some((fk) => fk.table === 'users'), t);
        }
      } finally {
        db.close();
      }
    });
  });

  describe('safeNext and the guards', () => {
    it('sends each kind only to its own side, never to a sign-in page', () => {
      assert.equal(safeNext('/customer/consents?x=1', 'customer'), '/customer/consents?x=1');
      assert.equal(safeNext('/customer', 'customer'), '/customer');
      for (const p of ['/applications', '/staff/applications', '/customer/login', '/customer/logout', '//evil.example', '/customer\\x']) {
        assert.equal(safeNext(p, 'customer'), null, p);
      }
      for (const p of ['/customer', '/customer/consents', '/customer?x']) {
        assert.equal(safeNext(p, 'applicant'), null, p);
        assert.equal(safeNext(p, 'staff'), null, p);
      }
      assert.equal(safeNext('/customers-guide', 'applicant'), '/customers-guide'); // not the customer side
      assert.equal(safeNext('/applications/1', 'applicant'), '/applications/1');
    });
  });

  describe('service', () => {
    let web: WebApp;
    before(async () => {
      web = await startWebApp({ routers: () => [] });
    });
    after(async () => web?.close());

    it('seedCustomer creates an enrolled customer, audited; refuses a duplicate (409) and bad input, storing nothing', async () => {
      const { user, totpSecretBase32 } = await web.accounts.seedCustomer({ email: ' Casey@Bank.Test ', displayName: 'Casey', password: TEST_PASSWORD });
      assert.deepEqual({ ...user, id: 'x' }, { id: 'x', kind: 'customer', email: 'casey@bank.test', displayName: 'Casey', roles: [] });
      assert.match(totpSecretBase32, /^[A-Z2-7]{32}$/);
      const row = web.db.prepare('SELECT kind, totp_enrolled_at, password_must_change, roles FROM users WHERE id = ?').get(user.id) as Record<string, unknown>;
      assert.equal(row.kind, 'customer');
      assert.notEqual(row.totp_enrolled_at, null);
      assert.equal(row.password_must_change, 0);
      assert.equal(row.roles, '[]');
      const created = audit(web, 'customer.created');
      assert.equal(created.length, 1);
      assert.deepEqual([created[0]!.actor_type, created[0]!.subject_id, created[0]!.data.email], ['system', user.id, 'casey@bank.test']);

      const before = snapshot(web);
      await assert.rejects(web.accounts.seedCustomer({ email: 'CASEY@bank.test', displayName: 'Again', password: TEST_PASSWORD }), (e: AppError) => e.code === 'accounts.customer_exists' && e.status === 409);
      await assert.rejects(web.accounts.seedCustomer({ email: 'not-an-email', displayName: 'Bad', password: TEST_PASSWORD }), (e: AppError) => e.code === 'input.invalid' && e.status === 400);
      await assert.rejects(web.accounts.seedCustomer({ email: 'weak@bank.test', displayName: 'Weak', password: 'short' }), (e: AppError) => e.code === 'input.invalid');
      assert.equal(snapshot(web), before);
      assert.equal(audit(web, 'customer.created').length, 1);
      // A customer and an applicant may share an e-mail: they are different accounts.
      const applicant = await web.accounts.seedApplicant({ email: 'casey@bank.test', displayName: 'Casey A', password: 'another long password' });
      assert.notEqual(applicant.user.id, user.id);
    });

    it('verifyPassword("customer", ...) and verifyTotp work for customers, audited with kind customer (the OAuth pages use them)', async () => {
      const c = await seedCustomer(web, 'oauth.user@bank.test');
      const ip = '203.0.113.10';
      const check = await web.accounts.verifyPassword('customer', 'OAUTH.user@bank.test', c.password, ip);
      assert.deepEqual(check, { user: { id: c.userId, kind: 'customer', email: c.email, displayName: 'Casey Customer', roles: [] }, totpEnrolled: true, mustChangePassword: false });

      await assert.rejects(web.accounts.verifyPassword('customer', c.email, 'wrong password!!', ip), (e: AppError) => e.code === 'accounts.login_failed' && e.status === 401);
      // A customer's credentials are no applicant's or staff member's, and the reverse.
      for (const kind of ['applicant', 'staff'] as const) {
        await assert.rejects(web.accounts.verifyPassword(kind, c.email, c.password, ip), (e: AppError) => e.code === 'accounts.login_failed');
      }
      await assert.rejects(web.accounts.verifyPassword('customer', 'casey@bank.test', 'another long password', ip), (e: AppError) => e.code === 'accounts.login_failed');
      const failed = audit(web, 'auth.login.failed').slice(-4);
      assert.deepEqual(failed.map((f) => [f.data.kind, f.data.reason]), [['customer', 'bad_password'], ['applicant', 'unknown_user'], ['staff', 'unknown_user'], ['customer', 'bad_password']]);
      assert.deepEqual([failed[0]!.actor_type, failed[0]!.subject_id], ['customer', c.userId]);

      const code = await nextTotpCode(c.secret, web.clock);
      const before = snapshot(web);
      await assert.rejects(web.accounts.verifyTotp(c.userId, '000000', ip), (e: AppError) => e.code === 'accounts.totp_invalid' && e.status === 401);
      assert.equal(snapshot(web), before);
      const user = await web.accounts.verifyTotp(c.userId, code, ip);
      assert.equal(user.kind, 'customer');
      const ok = audit(web, 'auth.login.succeeded').at(-1)!;
      assert.deepEqual([ok.actor_type, ok.subject_id, ok.data.kind, ok.data.method], ['customer', c.userId, 'customer', 'password+totp']);
      // The same code again (replay) is refused and the replay guard does not move.
      const after = snapshot(web);
      await assert.rejects(web.accounts.verifyTotp(c.userId, code, ip), (e: AppError) => e.code === 'accounts.totp_invalid');
      assert.equal(snapshot(web), after);
      assert.deepEqual(audit(web, 'auth.totp.failed').slice(-2).map((f) => [f.actor_type, f.data.kind, f.data.reason]), [['customer', 'customer', 'invalid'], ['customer', 'customer', 'replayed']]);
    });

    it('getUser returns customers (and not disabled ones)', async () => {
      const c = await seedCustomer(web, 'getuser@bank.test');
      assert.deepEqual(await web.accounts.getUser(c.userId), { id: c.userId, kind: 'customer', email: c.email, displayName: 'Casey Customer', roles: [] });
      web.db.prepare("UPDATE users SET status = 'disabled' WHERE id = ?").run(c.userId);
      assert.equal(await web.accounts.getUser(c.userId), null);
      await assert.rejects(web.accounts.verifyPassword('customer', c.email, c.password, '203.0.113.11'), (e: AppError) => e.code === 'accounts.login_failed');
      assert.equal(audit(web, 'auth.login.failed').at(-1)!.data.reason, 'disabled');
    });

    it('throttles customers per account: 5 failures, then 429 even with the right password; codes likewise', async () => {
      const c = await seedCustomer(web, 'throttle.svc@bank.test');
      const ip = '203.0.113.12';
      for (let i = 0; i < 5; i++) {
        await assert.rejects(web.accounts.verifyPassword('customer', c.email, `wrong password ${i}`, ip), (e: AppError) => e.code === 'accounts.login_failed');
      }
      await assert.rejects(web.accounts.verifyPassword('customer', c.email, c.password, ip), (e: AppError) => e.code === 'accounts.login_throttled' && e.status === 429);
      assert.equal(count(web, 'SELECT failures AS n FROM auth_throttle WHERE key = ?', `acct:customer:${c.email}`), 5);
      // The applicant with the same e-mail is another account, not locked by it.
      await web.accounts.seedApplicant({ email: c.email, displayName: 'Same Mail', password: TEST_PASSWORD });
      assert.equal((await web.accounts.verifyPassword('applicant', c.email, TEST_PASSWORD, '203.0.113.13')).user.kind, 'applicant');

      const d = await seedCustomer(web, 'throttle.totp@bank.test');
      for (let i = 0; i < 5; i++) {
        await assert.rejects(web.accounts.verifyTotp(d.userId, '000000', ip), (e: AppError) => e.code === 'accounts.totp_invalid');
      }
      await assert.rejects(web.accounts.verifyTotp(d.userId, await nextTotpCode(d.secret, web.clock), ip), (e: AppError) => e.code === 'accounts.login_throttled');
      assert.equal(count(web, "SELECT COUNT(*) AS n FROM users WHERE id = ? AND totp_last_step = 0", d.userId), 1);
    });
  });

  describe('pages (HTTPS, real forms and sessions)', () => {
    let web: WebApp;
    let casey: Customer;

    before(async () => {
      web = await startWebApp({ extraRouters: (ctx) => [customerRouter({ accounts: ctx.accounts, now: () => ctx.now().getTime() }), landing()] });
      casey = await seedCustomer(web, 'casey@bank.test');
    });
    after(async () => web?.close());

    it('renders the sign-in form: labelled, autocomplete hints, a CSRF token, no sign-up, no inline script or style', async () => {
      const r = await page(web.agent(), '/customer/login');
      assert.equal(r.status, 200);
      assert.match(r.text, /<form method="post" action="\/customer\/login"/);
      for (const [name, ac] of [['email', 'username'], ['password', 'current-password']]) {
        assert.match(r.text, new RegExp(`<label for="field-${name}">`));
        assert.match(r.text, new RegExp(`id="field-${name}" name="${name}"[^>]*autocomplete="${ac}"`));
      }
      assert.match(r.text, /name="_csrf" value="[A-Za-z0-9_-]{43}"/);
      assert.doesNotMatch(r.text, /<script|style=|href="\/signup"/);
    });

    it('signs in with password then code on a new session id; /customer goes to the consent centre', async () => {
      const agent = web.agent();
      const anonymous = await agent.get('/customer');
      assert.equal(anonymous.status, 302);
      assert.equal(anonymous.headers.location, '/customer/login?next=%2Fcustomer');
      const before = sessionCookie(await page(agent, '/customer/login'))!;
      const done = await loginCustomer(web, agent, casey);
      assert.equal(done.headers.location, '/customer');
      const landingPage = await agent.get('/customer');
      assert.equal(landingPage.status, 303);
      assert.equal(landingPage.headers.location, '/customer/consents');
      const after = sessionCookie(landingPage)!;
      assert.notEqual(sidOf(after), sidOf(before));
      assert.equal(count(web, 'SELECT COUNT(*) AS n FROM sessions WHERE sid = ?', sidOf(before)), 0);
      assert.equal((await agent.get('/customer/consents')).text, 'customer casey@bank.test');
      assert.deepEqual((await agent.get('/customer/whoami')).body, { id: casey.userId, kind: 'customer', label: casey.email, roles: [], ip: '127.0.0.1' });
      // Customers idle out after 5 minutes (PSD2 RTS art. 4(3)(d)).
      const expires = Date.parse(/expires=([^;]+)/i.exec(after)![1]!);
      assert.ok(Math.abs(expires - Date.now() - 5 * 60_000) < 5_000, new Date(expires).toISOString());
      // Signed in, the sign-in page goes home.
      const again = await page(agent, '/customer/login');
      assert.equal(again.status, 303);
      assert.equal(again.headers.location, '/customer');
      const ok = audit(web, 'auth.login.succeeded').at(-1)!;
      assert.deepEqual([ok.actor_type, ok.subject_id, ok.data.kind], ['customer', casey.userId, 'customer']);
    });

    it('goes to `next` only when it is a customer page', async () => {
      const agent = web.agent();
      const guarded = await agent.get('/customer/consents');
      assert.equal(guarded.status, 302);
      assert.equal(guarded.headers.location, '/customer/login?next=%2Fcustomer%2Fconsents');
      assert.equal((await loginCustomer(web, agent, casey, '/customer/consents')).headers.location, '/customer/consents');
      for (const next of ['/applications', '/staff/applications', '//evil.example/x', 'https://evil.example/', '/customer/logout']) {
        assert.equal((await loginCustomer(web, web.agent(), casey, next)).headers.location, '/customer', next);
      }
    });

    it('answers unknown e-mail, wrong password and an applicant\'s credentials identically (401), creating no session', async () => {
      const applicant = await signUpAndEnrol(web.agent(), 'applicant@fintech.test');
      const before = snapshot(web);
      const agent = web.agent();
      const tries = [
        { email: 'nobody@bank.test', password: TEST_PASSWORD },
        { email: casey.email, password: 'not the password' },
        { email: applicant.email, password: applicant.password },
      ];
      const messages = [];
      for (const t of tries) {
        const r = await postForm(agent, '/customer/login', t);
        assert.equal(r.status, 401, t.email);
        assert.equal(errorCodeFrom(r.text), 'accounts.login_failed');
        assert.doesNotMatch(r.text, /not the password/);
        messages.push(/<div class="error-summary" role="alert">\s*<p>([^<]+)<\/p>/.exec(r.text)?.[1]);
      }
      assert.equal(new Set(messages).size, 1);
      assert.equal(pendingSessions(web, casey.userId), 0);
      assert.equal((await agent.get('/customer/consents')).status, 302);
      // The code step without a password step goes back to sign-in.
      const code = await page(agent, '/customer/login/totp');
      assert.equal(code.status, 303);
      assert.equal(code.headers.location, '/customer/login');
      assert.equal(snapshot(web), before);
      assert.deepEqual(audit(web, 'auth.login.failed').slice(-3).map((f) => [f.data.kind, f.data.reason]), [['customer', 'unknown_user'], ['customer', 'bad_password'], ['customer', 'unknown_user']]);
    });

    it('refuses a wrong code and a replayed code (401 accounts.totp_invalid) with no session', async () => {
      const signedIn = signedInSessions(web, casey.userId); // earlier tests' sessions
      const agent = web.agent();
      const first = await postForm(agent, '/customer/login', { email: casey.email, password: casey.password });
      assert.equal(first.headers.location, '/customer/login/totp');
      const form = await page(agent, '/customer/login/totp');
      assert.match(form.text, /autocomplete="one-time-code" inputmode="numeric"/);
      assert.doesNotMatch(form.text, /<script|style=/);
      const stale = totpCode(casey.secret, new Date(web.now().getTime() - 5 * 60_000));
      const wrong = await agent.post('/customer/login/totp').type('form').send({ _csrf: csrfFrom(form.text), code: stale });
      assert.equal(wrong.status, 401);
      assert.equal(errorCodeFrom(wrong.text), 'accounts.totp_invalid');
      assert.equal(signedInSessions(web, casey.userId), signedIn);
      assert.equal((await agent.get('/customer/consents')).status, 302);

      const code = await nextTotpCode(casey.secret, web.clock);
      const ok = await agent.post('/customer/login/totp').type('form').send({ _csrf: csrfFrom(wrong.text), code });
      assert.equal(ok.status, 303);
      assert.equal(signedInSessions(web, casey.userId), signedIn + 1);
      const thief = web.agent();
      await postForm(thief, '/customer/login', { email: casey.email, password: casey.password });
      const replay = await thief.post('/customer/login/totp').type('form').send({ _csrf: csrfFrom((await page(thief, '/customer/login/totp')).text), code });
      assert.equal(replay.status, 401);
      assert.equal(errorCodeFrom(replay.text), 'accounts.totp_invalid');
      assert.equal((await thief.get('/customer/consents')).status, 302);
      assert.equal(signedInSessions(web, casey.userId), signedIn + 1);
      assert.equal(audit(web, 'auth.totp.failed').at(-1)!.data.reason, 'replayed');
    });

    it('keeps the kinds apart: 403 auth.forbidden on the other kinds\' pages, each sign-in refuses the others', async () => {
      const customer = web.agent();
      await loginCustomer(web, customer, casey);
      for (const path of ['/applications', '/staff/applications']) {
        const r = await page(customer, path);
        assert.equal(r.status, 403, path);
        assert.equal(errorCodeFrom(r.text), 'auth.forbidden');
      }
      for (const path of ['/login', '/staff/login']) {
        const r = await postForm(web.agent(), path, { email: casey.email, password: casey.password });
        assert.equal(r.status, 401, path);
        assert.equal(errorCodeFrom(r.text), 'accounts.login_failed');
      }

      const applicant = web.agent();
      await loginApplicant(applicant, await signUpAndEnrol(web.agent(), 'nosy@fintech.test'));
      const staff = web.agent();
      await loginStaff(staff, await seedStaff(web, 'officer@bank.test', ['reviewer']));
      for (const agent of [applicant, staff]) {
        for (const path of ['/customer', '/customer/consents', '/customer/password']) {
          const r = await page(agent, path);
          assert.equal(r.status, 403, path);
          assert.equal(errorCodeFrom(r.text), 'auth.forbidden');
        }
      }
      // An applicant's half-finished sign-in is no customer's code step.
      const half = web.agent();
      await postForm(half, '/login', { email: 'nosy@fintech.test', password: TEST_PASSWORD });
      const code = await page(half, '/customer/login/totp');
      assert.equal(code.status, 303);
      assert.equal(code.headers.location, '/customer/login');
    });

    it('signs out: the server-side session is gone, replaying the old cookie goes to sign-in', async () => {
      const agent = web.agent();
      await loginCustomer(web, agent, casey);
      const cookie = sessionCookie(await agent.get('/customer/consents'))!;
      const form = await page(agent, '/customer/password');
      assert.match(form.text, /action="\/customer\/logout"/);
      const out = await agent.post('/customer/logout').type('form').send({ _csrf: csrfFrom(form.text) });
      assert.equal(out.status, 303);
      assert.equal(out.headers.location, '/customer/login');
      assert.equal(count(web, 'SELECT COUNT(*) AS n FROM sessions WHERE sid = ?', sidOf(cookie)), 0);
      const replay = await web.agent().get('/customer/consents').set('Cookie', cookieValue(cookie));
      assert.equal(replay.status, 302);
      assert.equal(replay.headers.location, '/customer/login?next=%2Fcustomer%2Fconsents');
      assert.match((await page(agent, '/customer/login')).text, /You are signed out\./);
      const logout = audit(web, 'auth.logout').at(-1)!;
      assert.deepEqual([logout.actor_type, logout.actor_label, logout.data.kind], ['customer', casey.email, 'customer']);
      // Without a token the sign-out is refused.
      const agent2 = web.agent();
      await loginCustomer(web, agent2, casey);
      const noToken = await agent2.post('/customer/logout').type('form').send({});
      assert.equal(noToken.status, 403);
      assert.equal((await agent2.get('/customer/consents')).status, 200);
    });

    it('changes the password with the current one; the other sessions end', async () => {
      const dana = await seedCustomer(web, 'dana@bank.test');
      const a = web.agent();
      await loginCustomer(web, a, dana);
      const b = web.agent();
      await loginCustomer(web, b, dana);
      const before = snapshot(web);
      const wrong = await postForm(a, '/customer/password', { currentPassword: 'not my password', newPassword: 'a new long password', confirmPassword: 'a new long password' });
      assert.equal(wrong.status, 400);
      assert.equal(errorCodeFrom(wrong.text), 'accounts.password_incorrect');
      const weak = await postForm(a, '/customer/password', { currentPassword: dana.password, newPassword: 'short', confirmPassword: 'short' });
      assert.equal(weak.status, 400);
      assert.equal(errorCodeFrom(weak.text), 'input.invalid');
      assert.equal(snapshot(web), before);

      const ok = await postForm(a, '/customer/password', { currentPassword: dana.password, newPassword: 'a new long password', confirmPassword: 'a new long password' });
      assert.equal(ok.status, 303);
      assert.equal(ok.headers.location, '/customer');
      assert.equal((await a.get('/customer/consents')).text, 'customer dana@bank.test');
      assert.equal((await b.get('/customer/consents')).status, 302);
      const old = await postForm(web.agent(), '/customer/login', { email: dana.email, password: dana.password });
      assert.equal(old.status, 401);
      await loginCustomer(web, web.agent(), { ...dana, password: 'a new long password' });
      assert.equal(audit(web, 'auth.password.changed').at(-1)!.actor_type, 'customer');
    });

    it('never writes passwords, codes or TOTP secrets to the audit log', async () => {
      const raw = JSON.stringify(web.db.prepare('SELECT * FROM audit_events').all());
      for (const secret of [TEST_PASSWORD, casey.secret, 'a new long password', 'not the password']) assert.ok(!raw.includes(secret), secret);
      assert.equal((await web.audit.verify()).ok, true);
    });
  });

  describe('sign-in throttling over HTTPS', () => {
    it('5 wrong passwords lock the customer: the 6th attempt is refused with the right password (429), no pending sign-in', async () => {
      const web = await startWebApp({ extraRouters: (ctx) => [customerRouter({ accounts: ctx.accounts, now: () => ctx.now().getTime() }), landing()] });
      try {
        const c = await seedCustomer(web, 'target@bank.test');
        for (let i = 0; i < 5; i++) {
          const r = await postForm(web.agent(), '/customer/login', { email: c.email, password: `wrong password ${i}` });
          assert.equal(r.status, 401);
        }
        const agent = web.agent();
        const r = await postForm(agent, '/customer/login', { email: c.email, password: c.password });
        assert.equal(r.status, 429);
        assert.equal(errorCodeFrom(r.text), 'accounts.login_throttled');
        assert.equal(r.headers['retry-after'], '900');
        assert.equal(pendingSessions(web, c.userId), 0);
        assert.deepEqual(audit(web, 'auth.throttled').map((e) => [e.data.scope, e.data.refused]), [['account', false], ['account', true]]);
        // Another customer is not affected.
        await loginCustomer(web, web.agent(), await seedCustomer(web, 'other@bank.test'));
      } finally {
        await web.close();
      }
    });

    it('5 wrong codes lock the code step (429) even for a right code; no session', async () => {
      const web = await startWebApp({ extraRouters: (ctx) => [customerRouter({ accounts: ctx.accounts, now: () => ctx.now().getTime() }), landing()] });
      try {
        const c = await seedCustomer(web, 'codes@bank.test');
        const agent = web.agent();
        await postForm(agent, '/customer/login', { email: c.email, password: c.password });
        let token = csrfFrom((await page(agent, '/customer/login/totp')).text);
        for (let i = 0; i < 5; i++) {
          const r = await agent.post('/customer/login/totp').type('form').send({ _csrf: token, code: '000000' });
          assert.equal(r.status, 401);
          token = csrfFrom(r.text);
        }
        const r = await agent.post('/customer/login/totp').type('form').send({ _csrf: token, code: await nextTotpCode(c.secret, web.clock) });
        assert.equal(r.status, 429);
        assert.equal(errorCodeFrom(r.text), 'accounts.login_throttled');
        assert.equal(signedInSessions(web, c.userId), 0);
        assert.equal((await agent.get('/customer/consents')).status, 302);
      } finally {
        await web.close();
      }
    });
  });
});
