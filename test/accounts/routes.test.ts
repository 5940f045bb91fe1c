/**
 * The sign-up, sign-in, session, CSRF and staff administration pages over real HTTPS, with real forms,
 * real cookies and TOTP codes computed from the secret the enrolment page shows. Each refusal is checked
 * for its status, its error code and that the database did not change.
 */
import assert from 'node:assert/strict';
import { Router } from 'express';
import { totpCode } from '../../src/accounts/totp.js';
import { requireApplicant, requireStaff } from '../../src/http/middleware/auth.js';
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

/** Stand-ins for the pages other areas own: enough to tell who is signed in. */
function landing(): Router {
  const r = Router();
  r.get('/applications', requireApplicant, (req, res) => {
    res.type('text').send(`applicant ${req.user!.email}`);
  });
  r.get('/applications/:id', requireApplicant, (req, res) => {
    res.type('text').send(`application ${req.params.id}`);
  });
  r.get('/staff/applications', requireStaff(), (req, res) => {
    res.type('text').send(`staff ${req.user!.email}`);
  });
  r.get('/staff/decisions', requireStaff('approver'), (_req, res) => {
    res.type('text').send('approver page');
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

/** The session id inside the signed cookie value `s:<sid>.<signature>`. */
function sidOf(setCookie: string): string {
  const value = decodeURIComponent(cookieValue(setCookie).slice('__Host-portal.sid='.length));
  return value.slice(2, value.lastIndexOf('.'));
}

/** Whoever the cookie signs in as: the landing text, or the redirect to sign in. */
async function whoAmI(web: WebApp, cookie: string, path = '/applications'): Promise<string> {
  const r = await web.agent().get(path).set('Cookie', cookie);
  return r.status === 200 ? r.text : `${r.status} ${r.headers.location ?? ''}`;
}

function count(web: WebApp, sql: string, ...params: unknown[]): number {
  return (web.db.prepare(sql).get(...params) as { n: number }).n;
}

function auditActions(web: WebApp, action: string): Record<string, unknown>[] {
  return web.db.prepare('SELECT actor_type, actor_label, subject_id, data, ip FROM audit_events WHERE action = ? ORDER BY seq').all(action) as Record<string, unknown>[];
}

function snapshot(web: WebApp): string {
  return JSON.stringify(web.db.prepare('SELECT id, email, password_hash, password_changed_at, roles, status, totp_enrolled_at FROM users ORDER BY id').all());
}

describe('accounts pages (HTTPS, real forms and sessions)', function () {
  this.timeout(60_000);
  let web: WebApp;

  before(async () => {
    web = await startWebApp({ extraRouters: () => [landing()] });
  });
  after(async () => web?.close());

  describe('sign-up and TOTP enrolment', () => {
    it('renders a labelled form with autocomplete hints and a CSRF token', async () => {
      const r = await page(web.agent(), '/signup');
      assert.equal(r.status, 200);
      for (const [name, ac] of [['email', 'username'], ['password', 'new-password'], ['passwordConfirm', 'new-password'], ['displayName', 'name']]) {
        assert.match(r.text, new RegExp(`<label for="field-${name}">`));
        assert.match(r.text, new RegExp(`id="field-${name}" name="${name}"[^>]*autocomplete="${ac}"`));
      }
      assert.match(r.text, /name="_csrf" value="[A-Za-z0-9_-]{43}"/);
      assert.doesNotMatch(r.text, /<script|style=/);
    });

    it('refuses a bad e-mail and a weak password with the input kept and nothing stored', async () => {
      const agent = web.agent();
      const before = count(web, 'SELECT COUNT(*) AS n FROM users');
      const bad = await postForm(agent, '/signup', { displayName: 'Eve <b>', email: 'not-an-email', password: TEST_PASSWORD, passwordConfirm: TEST_PASSWORD });
      assert.equal(bad.status, 400);
      assert.equal(errorCodeFrom(bad.text), 'input.invalid');
      assert.match(bad.text, /id="field-email-error">Enter an e-mail address/);
      assert.match(bad.text, /aria-describedby="field-email-error" aria-invalid="true"/);
      assert.match(bad.text, /value="Eve &lt;b&gt;"/); // kept, escaped
      assert.match(bad.text, /value="not-an-email"/);
      assert.doesNotMatch(bad.text, new RegExp(TEST_PASSWORD)); // passwords are never echoed

      for (const [password, why] of [['short', /at least 12/], ['password1234', /too common/], ['weak@fintech.example', /e-mail/]] as const) {
        const r = await postForm(agent, '/signup', { displayName: 'W', email: 'weak@fintech.example', password, passwordConfirm: password });
        assert.equal(r.status, 400, password);
        assert.equal(errorCodeFrom(r.text), 'input.invalid');
        assert.match(r.text, why);
      }
      const mismatch = await postForm(agent, '/signup', { displayName: 'W', email: 'weak@fintech.example', password: TEST_PASSWORD, passwordConfirm: 'something else!' });
      assert.equal(mismatch.status, 400);
      assert.match(mismatch.text, /id="field-passwordConfirm-error">The two passwords are not the same/);
      assert.equal(count(web, 'SELECT COUNT(*) AS n FROM users'), before);
    });

    it('refuses a duplicate e-mail with the same safe message each time, storing nothing', async () => {
      await signUpAndEnrol(web.agent(), 'dup@fintech.example');
      const before = snapshot(web);
      const texts = [];
      for (const email of ['dup@fintech.example', ' DUP@fintech.example ']) {
        const r = await postForm(web.agent(), '/signup', { displayName: 'Other', email, password: 'another long password', passwordConfirm: 'another long password' });
        assert.equal(r.status, 409);
        assert.equal(errorCodeFrom(r.text), 'accounts.signup_refused');
        texts.push(/<div class="error-summary" role="alert">\s*<p>([^<]+)<\/p>/.exec(r.text)?.[1]);
      }
      assert.equal(texts[0], texts[1]);
      assert.equal(snapshot(web), before);
    });

    it('shows the QR code and the secret, refuses a wrong code, then signs in with a right one', async () => {
      const agent = web.agent();
      const signup = await postForm(agent, '/signup', { displayName: 'Dana', email: 'dana@fintech.example', password: TEST_PASSWORD, passwordConfirm: TEST_PASSWORD });
      assert.equal(signup.status, 303);
      assert.equal(signup.headers.location, '/signup/totp');
      // Signed up but not signed in.
      assert.equal(await whoAmI(web, cookieValue(sessionCookie(signup)!)), '302 /login?next=%2Fapplications');

      const enrol = await page(agent, '/signup/totp');
      assert.equal(enrol.status, 200);
      assert.match(enrol.text, /<img src="data:image\/png;base64,[A-Za-z0-9+/=]+" alt="QR code[^"]*"/);
      const secret = /id="totp-secret">([A-Z2-7]{32})</.exec(enrol.text)![1]!;
      assert.match(enrol.text, /autocomplete="one-time-code" inputmode="numeric"/);
      assert.equal(enrol.headers['cache-control'], 'no-store');

      const wrongCode = totpCode(secret, new Date(web.now().getTime() - 5 * 60_000));
      const wrong = await agent.post('/signup/totp').type('form').send({ _csrf: csrfFrom(enrol.text), code: wrongCode });
      assert.equal(wrong.status, 401);
      assert.equal(errorCodeFrom(wrong.text), 'accounts.totp_invalid');
      assert.equal(count(web, "SELECT COUNT(*) AS n FROM users WHERE email = 'dana@fintech.example' AND totp_enrolled_at IS NULL"), 1);

      const ok = await agent.post('/signup/totp').type('form').send({ _csrf: csrfFrom(wrong.text), code: await nextTotpCode(secret, web.clock) });
      assert.equal(ok.status, 303);
      assert.equal(ok.headers.location, '/applications');
      assert.equal((await agent.get('/applications')).text, 'applicant dana@fintech.example');
      const id = (web.db.prepare("SELECT id FROM users WHERE email = 'dana@fintech.example'").get() as { id: string }).id;
      assert.deepEqual(
        (web.db.prepare('SELECT action FROM audit_events WHERE subject_id = ? ORDER BY seq').all(id) as { action: string }[]).map((r) => r.action),
        ['applicant.signed_up', 'auth.totp.failed', 'auth.totp.enrolled', 'auth.login.succeeded'],
      );
    });

    it('sends an unenrolled applicant who signs in back to the enrolment', async () => {
      const agent = web.agent();
      await postForm(agent, '/signup', { displayName: 'Half', email: 'half@fintech.example', password: TEST_PASSWORD, passwordConfirm: TEST_PASSWORD });
      const later = web.agent();
      const r = await postForm(later, '/login', { email: 'half@fintech.example', password: TEST_PASSWORD });
      assert.equal(r.status, 303);
      assert.equal(r.headers.location, '/signup/totp');
      assert.match((await page(later, '/signup/totp')).text, /id="totp-secret"/);
    });
  });

  describe('sign-in', () => {
    let dana: Credentials;
    before(async () => {
      dana = await signUpAndEnrol(web.agent(), 'login@fintech.example');
    });

    it('signs in with password then a code, and goes to `next` when it is a safe local path', async () => {
      const agent = web.agent();
      const guarded = await agent.get('/applications/123');
      assert.equal(guarded.status, 302);
      assert.equal(guarded.headers.location, '/login?next=%2Fapplications%2F123');
      const done = await loginApplicant(agent, dana, '/applications/123');
      assert.equal(done.headers.location, '/applications/123');
      assert.equal((await agent.get('/applications')).text, 'applicant login@fintech.example');
      for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/staff/applications']) {
        const again = await loginApplicant(web.agent(), dana, next);
        assert.equal(again.headers.location, '/applications', next);
      }
    });

    it('answers unknown e-mail and wrong password identically (401 accounts.login_failed), input kept', async () => {
      const unknown = await postForm(web.agent(), '/login', { email: 'nobody@fintech.example', password: TEST_PASSWORD });
      const wrong = await postForm(web.agent(), '/login', { email: 'login@fintech.example', password: 'not the password' });
      for (const r of [unknown, wrong]) {
        assert.equal(r.status, 401);
        assert.equal(errorCodeFrom(r.text), 'accounts.login_failed');
      }
      const message = (t: string) => /<div class="error-summary" role="alert">\s*<p>([^<]+)<\/p>/.exec(t)?.[1];
      assert.equal(message(unknown.text), message(wrong.text));
      assert.match(wrong.text, /value="login@fintech.example"/);
      assert.doesNotMatch(wrong.text, /not the password/);
      const failed = auditActions(web, 'auth.login.failed').slice(-2);
      assert.deepEqual(failed.map((f) => JSON.parse(String(f.data)).reason), ['unknown_user', 'bad_password']);
      assert.deepEqual(failed.map((f) => f.ip), ['127.0.0.1', '127.0.0.1']);
    });

    it('refuses a wrong code and a replayed code (401 accounts.totp_invalid) and stays signed out', async () => {
      const agent = web.agent();
      const first = await postForm(agent, '/login', { email: dana.email, password: dana.password });
      assert.equal(first.headers.location, '/login/totp');
      const form = await page(agent, '/login/totp');
      assert.match(form.text, /autocomplete="one-time-code" inputmode="numeric"/);
      const wrong = await agent.post('/login/totp').type('form').send({ _csrf: csrfFrom(form.text), code: '000000' });
      assert.equal(wrong.status, 401);
      assert.equal(errorCodeFrom(wrong.text), 'accounts.totp_invalid');
      assert.equal((await agent.get('/applications')).status, 302);

      // A code seen once (shoulder-surfed, phished) does not work a second time.
      const code = await nextTotpCode(dana.secret, web.clock);
      const ok = await agent.post('/login/totp').type('form').send({ _csrf: csrfFrom(wrong.text), code });
      assert.equal(ok.status, 303);
      const thief = web.agent();
      await postForm(thief, '/login', { email: dana.email, password: dana.password });
      const replay = await thief.post('/login/totp').type('form').send({ _csrf: csrfFrom((await page(thief, '/login/totp')).text), code });
      assert.equal(replay.status, 401);
      assert.equal(errorCodeFrom(replay.text), 'accounts.totp_invalid');
      assert.equal((await thief.get('/applications')).status, 302);
      assert.equal(JSON.parse(String(auditActions(web, 'auth.totp.failed').at(-1)!.data)).reason, 'replayed');
    });

    it('creates no session for anonymous error pages; a signed-in 403 page still has the sign-out form', async () => {
      const before = count(web, 'SELECT COUNT(*) AS n FROM sessions');
      const r = await page(web.agent(), '/no/such/page');
      assert.equal(r.status, 404);
      assert.equal(sessionCookie(r), null);
      assert.equal(count(web, 'SELECT COUNT(*) AS n FROM sessions'), before);
      const agent = web.agent();
      await loginApplicant(agent, dana);
      const forbidden = await page(agent, '/staff/applications');
      assert.equal(forbidden.status, 403);
      assert.match(forbidden.text, /action="\/logout"[^>]*><input type="hidden" name="_csrf" value="[A-Za-z0-9_-]{43}"/);
    });

    it('sends the code step back to sign-in when no password step is pending', async () => {
      const r = await page(web.agent(), '/login/totp');
      assert.equal(r.status, 303);
      assert.equal(r.headers.location, '/login');
    });

    it('renews the session id at sign-in: a cookie set before sign-in is not signed in after it (fixation)', async () => {
      const agent = web.agent();
      const before = sessionCookie(await page(agent, '/login'))!;
      assert.ok(before);
      await loginApplicant(agent, dana);
      const after = sessionCookie(await agent.get('/applications'))!;
      assert.notEqual(sidOf(after), sidOf(before));
      assert.equal(await whoAmI(web, cookieValue(after)), 'applicant login@fintech.example');
      assert.equal(await whoAmI(web, cookieValue(before)), '302 /login?next=%2Fapplications');
      assert.equal(count(web, 'SELECT COUNT(*) AS n FROM sessions WHERE sid = ?', sidOf(before)), 0);
    });

    it('sets the session cookie __Host-, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain; 60 min idle', async () => {
      const agent = web.agent();
      await loginApplicant(agent, dana);
      const r = await agent.get('/applications');
      const c = sessionCookie(r)!;
      const attrs = c.split(';').map((s) => s.trim().toLowerCase());
      assert.ok(attrs[0]!.startsWith('__host-portal.sid=s%3a'));
      for (const a of ['secure', 'httponly', 'samesite=lax', 'path=/']) assert.ok(attrs.includes(a), `${a} in ${c}`);
      assert.ok(!attrs.some((a) => a.startsWith('domain')), c);
      const expires = Date.parse(attrs.find((a) => a.startsWith('expires='))!.slice('expires='.length));
      assert.ok(Math.abs(expires - Date.now() - 60 * 60_000) < 5_000, `expires ${new Date(expires).toISOString()}`);
      assert.equal(r.headers['cache-control'], 'no-store');
    });

    it('ends a session 12 hours after sign-in whatever the activity', async () => {
      const agent = web.agent();
      await loginApplicant(agent, dana);
      web.clock.advance!(11 * 60 * 60_000);
      assert.equal((await agent.get('/applications')).status, 200);
      web.clock.advance!(60 * 60_000);
      const r = await agent.get('/applications');
      assert.equal(r.status, 302);
      assert.equal(r.headers.location, '/login?next=%2Fapplications');
      assert.match((await page(agent, '/login')).text, /Your session ended after 12 hours/);
    });

    it('signs out: the server-side session is gone, replaying the old cookie goes to sign-in', async () => {
      const agent = web.agent();
      await loginApplicant(agent, dana);
      const cookie = sessionCookie(await agent.get('/applications'))!;
      const home = await page(agent, '/account/password');
      const out = await agent.post('/logout').type('form').send({ _csrf: csrfFrom(home.text) });
      assert.equal(out.status, 303);
      assert.equal(out.headers.location, '/login');
      assert.equal(count(web, 'SELECT COUNT(*) AS n FROM sessions WHERE sid = ?', sidOf(cookie)), 0);
      assert.equal(await whoAmI(web, cookieValue(cookie)), '302 /login?next=%2Fapplications');
      assert.match((await page(agent, '/login')).text, /You are signed out\./);
      const logout = auditActions(web, 'auth.logout').at(-1)!;
      assert.equal(logout.actor_label, dana.email);
    });
  });

  describe('CSRF', () => {
    let cred: Credentials;
    let agent: Agent;
    before(async () => {
      agent = web.agent();
      cred = await signUpAndEnrol(agent, 'csrf@fintech.example');
    });

    const change = { currentPassword: TEST_PASSWORD, newPassword: 'a new long password', confirmPassword: 'a new long password' };

    it('refuses a missing, wrong or other session\'s token (403 csrf.invalid) and changes nothing', async () => {
      const before = snapshot(web);
      const other = web.agent();
      const otherToken = csrfFrom((await page(other, '/login')).text);
      const own = csrfFrom((await page(agent, '/account/password')).text);
      for (const token of [undefined, 'x'.repeat(43), otherToken, `${own}x`, own.slice(1)]) {
        const r = await agent
          .post('/account/password')
          .type('form')
          .set('Accept', 'text/html')
          .send({ ...change, ...(token === undefined ? {} : { _csrf: token }) });
        assert.equal(r.status, 403, String(token));
        assert.equal(errorCodeFrom(r.text), 'csrf.invalid');
      }
      // JSON callers get a problem document with the same code.
      const json = await agent.post('/account/password').type('form').send(change);
      assert.equal(json.status, 403);
      assert.equal(json.body.code, 'csrf.invalid');
      assert.equal(snapshot(web), before);
      assert.equal(auditActions(web, 'auth.password.changed').length, 0);
      // The token of one session is refused in another even for the sign-in form.
      const login = await web.agent().post('/login').type('form').send({ _csrf: own, email: cred.email, password: cred.password });
      assert.equal(login.status, 403);
    });

    it('refuses a cross-origin POST even with a valid token; accepts its own origin', async () => {
      const before = snapshot(web);
      const token = csrfFrom((await page(agent, '/account/password')).text);
      for (const origin of ['https://evil.example', 'null', web.url.replace('https:', 'http:')]) {
        const r = await agent.post('/account/password').type('form').set('Origin', origin).send({ ...change, _csrf: token });
        assert.equal(r.status, 403, origin);
        assert.equal(r.body.code, 'csrf.invalid');
      }
      const site = await agent.post('/account/password').type('form').set('Sec-Fetch-Site', 'cross-site').send({ ...change, _csrf: token });
      assert.equal(site.status, 403);
      // `Origin: null` is only believed with fetch metadata saying same-origin (what Chromium sends on our forms).
      for (const fetchSite of ['cross-site', 'same-site', 'none']) {
        const r = await agent.post('/account/password').type('form').set('Origin', 'null').set('Sec-Fetch-Site', fetchSite).send({ ...change, _csrf: token });
        assert.equal(r.status, 403, fetchSite);
      }
      assert.equal(snapshot(web), before);
      const ok = await agent.post('/account/password').type('form').set('Origin', web.url).send({ ...change, _csrf: token });
      assert.equal(ok.status, 303);
      cred.password = change.newPassword;
      // Same-origin fetch metadata with `Origin: null` still needs the token.
      const back = { currentPassword: change.newPassword, newPassword: change.currentPassword, confirmPassword: change.currentPassword };
      const noToken = await agent.post('/account/password').type('form').set('Origin', 'null').set('Sec-Fetch-Site', 'same-origin').send(back);
      assert.equal(noToken.status, 403);
    });

    it('rotates the token at sign-in', async () => {
      const a = web.agent();
      const before = csrfFrom((await page(a, '/login')).text);
      await loginApplicant(a, cred);
      const after = csrfFrom((await page(a, '/account/password')).text);
      assert.notEqual(after, before);
    });
  });

  describe('password change', () => {
    it('needs the current password; success renews the session and ends the other sessions', async () => {
      const a = web.agent();
      const cred = await signUpAndEnrol(a, 'pw@fintech.example');
      const b = web.agent();
      await loginApplicant(b, cred);
      const before = snapshot(web);

      const wrong = await postForm(a, '/account/password', { currentPassword: 'not my password', newPassword: 'a new long password', confirmPassword: 'a new long password' });
      assert.equal(wrong.status, 400);
      assert.equal(errorCodeFrom(wrong.text), 'accounts.password_incorrect');
      assert.match(wrong.text, /id="field-currentPassword-error"/);
      const weak = await postForm(a, '/account/password', { currentPassword: cred.password, newPassword: 'short', confirmPassword: 'short' });
      assert.equal(weak.status, 400);
      assert.equal(errorCodeFrom(weak.text), 'input.invalid');
      assert.match(weak.text, /id="field-newPassword-error">Use at least 12/);
      assert.equal(snapshot(web), before);

      const cookieBefore = sessionCookie(await a.get('/applications'))!;
      const ok = await postForm(a, '/account/password', { currentPassword: cred.password, newPassword: 'a new long password', confirmPassword: 'a new long password' });
      assert.equal(ok.status, 303);
      assert.equal(ok.headers.location, '/applications');
      const cookieAfter = sessionCookie(ok)!;
      assert.notEqual(sidOf(cookieAfter), sidOf(cookieBefore));
      assert.equal((await a.get('/applications')).text, 'applicant pw@fintech.example');
      assert.equal((await b.get('/applications')).status, 302); // the other browser is signed out
      await loginApplicant(web.agent(), { ...cred, password: 'a new long password' });
      assert.deepEqual(
        [auditActions(web, 'auth.password.change_failed'), auditActions(web, 'auth.password.changed')].map((rows) => rows.at(-1)!.actor_label),
        ['pw@fintech.example', 'pw@fintech.example'],
      );
    });

    it('sends a signed-out visitor to sign-in', async () => {
      const r = await web.agent().get('/account/password');
      assert.equal(r.status, 302);
      assert.equal(r.headers.location, '/login?next=%2Faccount%2Fpassword');
    });
  });

  describe('staff sign-in, roles and administration', () => {
    let admin: Credentials & { userId: string };
    let reviewer: Credentials & { userId: string };
    let adminAgent: Agent;

    before(async () => {
      admin = await seedStaff(web, 'admin@bank.example', ['admin', 'approver']);
      reviewer = await seedStaff(web, 'reviewer@bank.example', ['reviewer']);
      adminAgent = web.agent();
      const done = await loginStaff(adminAgent, admin);
      assert.equal(done.headers.location, '/staff/applications');
    });

    it('keeps applicants and staff apart (403 auth.forbidden) and checks roles (403 auth.role_required)', async () => {
      const applicant = web.agent();
      await signUpAndEnrol(applicant, 'nosy@fintech.example');
      for (const path of ['/staff/admin/staff', '/staff/applications']) {
        const r = await page(applicant, path);
        assert.equal(r.status, 403, path);
        assert.equal(errorCodeFrom(r.text), 'auth.forbidden');
      }
      const post = await applicant.post('/staff/admin/staff').type('form').send({ _csrf: csrfFrom((await page(applicant, '/account/password')).text), email: 'x@bank.example', displayName: 'X', roles: 'admin' });
      assert.equal(post.status, 403);
      assert.equal(post.body.code, 'auth.forbidden');
      assert.equal(count(web, "SELECT COUNT(*) AS n FROM users WHERE email = 'x@bank.example'"), 0);

      const anonymous = await web.agent().get('/staff/admin/staff');
      assert.equal(anonymous.status, 302);
      assert.equal(anonymous.headers.location, '/staff/login?next=%2Fstaff%2Fadmin%2Fstaff');

      const rev = web.agent();
      await loginStaff(rev, reviewer);
      const admin403 = await page(rev, '/staff/admin/staff');
      assert.equal(admin403.status, 403);
      assert.equal(errorCodeFrom(admin403.text), 'auth.role_required');
      assert.equal((await rev.get('/staff/decisions')).body.code, 'auth.role_required');
      const staffOnApplicant = await page(rev, '/applications');
      assert.equal(staffOnApplicant.status, 403);
      assert.equal(errorCodeFrom(staffOnApplicant.text), 'auth.forbidden');
      // Staff sessions idle out after 30 minutes.
      const c = sessionCookie(await rev.get('/staff/applications'))!;
      const expires = Date.parse(/expires=([^;]+)/i.exec(c)![1]!);
      assert.ok(Math.abs(expires - Date.now() - 30 * 60_000) < 5_000);
      // Applicant credentials do not open the staff sign-in.
      const cross = await postForm(web.agent(), '/staff/login', { email: 'nosy@fintech.example', password: TEST_PASSWORD });
      assert.equal(cross.status, 401);
      assert.equal(errorCodeFrom(cross.text), 'accounts.login_failed');
    });

    it('admin creates a staff member, who must enrol TOTP and replace the temporary password first', async () => {
      const list = await page(adminAgent, '/staff/admin/staff');
      assert.equal(list.status, 200);
      assert.match(list.text, /reviewer@bank\.example/);
      const created = await adminAgent
        .post('/staff/admin/staff')
        .type('form')
        .send({ _csrf: csrfFrom(list.text), email: 'new.officer@bank.example', displayName: 'New Officer', roles: ['reviewer', 'approver'] });
      assert.equal(created.status, 201);
      assert.equal(created.headers['cache-control'], 'no-store');
      const temp = /id="temp-password">([A-Za-z0-9_-]{24})</.exec(created.text)![1]!;
      assert.equal(auditActions(web, 'staff.created').at(-1)!.actor_label, 'admin@bank.example');

      const officer = web.agent();
      const pw = await postForm(officer, '/staff/login', { email: 'new.officer@bank.example', password: temp });
      assert.equal(pw.status, 303);
      assert.equal(pw.headers.location, '/staff/enrol');
      const enrol = await page(officer, '/staff/enrol');
      const secret = /id="totp-secret">([A-Z2-7]{32})</.exec(enrol.text)![1]!;
      const confirm = await officer.post('/staff/enrol').type('form').send({ _csrf: csrfFrom(enrol.text), code: await nextTotpCode(secret, web.clock) });
      assert.equal(confirm.status, 303);
      assert.equal(confirm.headers.location, '/staff/enrol/password');
      // Nothing else is reachable before the password is replaced.
      assert.equal((await officer.get('/staff/applications')).status, 302);
      const form = await page(officer, '/staff/enrol/password');
      assert.match(form.text, /Temporary password/);
      const bad = await officer.post('/staff/enrol/password').type('form').send({ _csrf: csrfFrom(form.text), currentPassword: 'wrong temporary', newPassword: 'officer long password', confirmPassword: 'officer long password' });
      assert.equal(bad.status, 400);
      assert.equal(errorCodeFrom(bad.text), 'accounts.password_incorrect');
      const done = await officer.post('/staff/enrol/password').type('form').send({ _csrf: csrfFrom(bad.text), currentPassword: temp, newPassword: 'officer long password', confirmPassword: 'officer long password' });
      assert.equal(done.status, 303);
      assert.equal(done.headers.location, '/staff/applications');
      assert.equal((await officer.get('/staff/applications')).text, 'staff new.officer@bank.example');
      assert.equal((await officer.get('/staff/decisions')).text, 'approver page');
      // The temporary password no longer works.
      const old = await postForm(web.agent(), '/staff/login', { email: 'new.officer@bank.example', password: temp });
      assert.equal(old.status, 401);
      await loginStaff(web.agent(), { email: 'new.officer@bank.example', password: 'officer long password', secret });
      const id = (web.db.prepare("SELECT id FROM users WHERE email = 'new.officer@bank.example'").get() as { id: string }).id;
      assert.deepEqual(
        (web.db.prepare('SELECT action FROM audit_events WHERE subject_id = ? ORDER BY seq').all(id) as { action: string }[]).map((r) => r.action),
        ['staff.created', 'auth.totp.enrolled', 'auth.login.succeeded', 'auth.password.change_failed', 'auth.password.changed', 'auth.login.failed', 'auth.login.succeeded'],
      );
    });

    it('refuses bad staff input (400/409) keeping the form, and stores nothing', async () => {
      const before = snapshot(web);
      const bad = await postForm(adminAgent, '/staff/admin/staff', { email: 'bad', displayName: 'Bad <i>', roles: [] as string[] });
      assert.equal(bad.status, 400);
      assert.equal(errorCodeFrom(bad.text), 'input.invalid');
      assert.match(bad.text, /id="field-email-error"/);
      assert.match(bad.text, /value="Bad &lt;i&gt;"/);
      const noRole = await postForm(adminAgent, '/staff/admin/staff', { email: 'ok@bank.example', displayName: 'OK' });
      assert.equal(noRole.status, 400);
      assert.match(noRole.text, /id="field-roles-error">Choose at least one role/);
      const evil = await postForm(adminAgent, '/staff/admin/staff', { email: 'ok@bank.example', displayName: 'OK', roles: 'superuser' });
      assert.equal(evil.status, 400);
      const dup = await postForm(adminAgent, '/staff/admin/staff', { email: 'REVIEWER@bank.example', displayName: 'Dup', roles: 'reviewer' });
      assert.equal(dup.status, 409);
      assert.equal(errorCodeFrom(dup.text), 'accounts.staff_exists');
      assert.equal(snapshot(web), before);
    });

    it('admin cannot disable themselves or drop their own admin role (409), nothing changes', async () => {
      const before = snapshot(web);
      const self = await postForm(adminAgent, '/staff/admin/staff', {}, `/staff/admin/staff/${admin.userId}/disable`);
      assert.equal(self.status, 409);
      assert.equal(errorCodeFrom(self.text), 'accounts.self_change_refused');
      const demote = await postForm(adminAgent, '/staff/admin/staff', { roles: 'approver' }, `/staff/admin/staff/${admin.userId}/roles`);
      assert.equal(demote.status, 409);
      assert.equal(errorCodeFrom(demote.text), 'accounts.self_change_refused');
      assert.equal(snapshot(web), before);
      const missing = await postForm(adminAgent, '/staff/admin/staff', {}, '/staff/admin/staff/not-a-uuid/disable');
      assert.equal(missing.status, 404);
    });

    it('role changes and disabling take effect on the next request of a signed-in staff member', async () => {
      const victim = await seedStaff(web, 'temp.staff@bank.example', ['reviewer']);
      const agent = web.agent();
      await loginStaff(agent, victim);
      assert.equal((await agent.get('/staff/decisions')).status, 403);

      const roles = await postForm(adminAgent, '/staff/admin/staff', { roles: ['reviewer', 'approver'] }, `/staff/admin/staff/${victim.userId}/roles`);
      assert.equal(roles.status, 303);
      assert.equal((await agent.get('/staff/decisions')).text, 'approver page');
      assert.match((await page(adminAgent, '/staff/admin/staff')).text, /Roles of temp\.staff@bank\.example are now: reviewer, approver\./);

      const off = await postForm(adminAgent, '/staff/admin/staff', {}, `/staff/admin/staff/${victim.userId}/disable`);
      assert.equal(off.status, 303);
      const after = await agent.get('/staff/applications');
      assert.equal(after.status, 302);
      assert.equal(after.headers.location, '/staff/login?next=%2Fstaff%2Fapplications');
      const login = await postForm(web.agent(), '/staff/login', { email: victim.email, password: victim.password });
      assert.equal(login.status, 401);
      assert.equal(errorCodeFrom(login.text), 'accounts.login_failed');
      const changed = auditActions(web, 'staff.roles_changed').at(-1)!;
      assert.deepEqual(JSON.parse(String(changed.data)), { email: victim.email, from: ['reviewer'], to: ['reviewer', 'approver'] });
      assert.equal(auditActions(web, 'staff.disabled').at(-1)!.subject_id, victim.userId);
    });

    it('never writes passwords, codes or TOTP secrets to the audit log', async () => {
      const raw = JSON.stringify(web.db.prepare('SELECT * FROM audit_events').all());
      for (const secret of [TEST_PASSWORD, admin.secret, reviewer.secret, 'officer long password', 'a new long password']) {
        assert.ok(!raw.includes(secret), secret);
      }
      assert.equal((await web.audit.verify()).ok, true);
    });
  });
});

describe('sign-in throttling over HTTPS', function () {
  this.timeout(60_000);

  it('per account: 5 failures lock it; the 6th attempt is refused even with the right password (429)', async () => {
    const web = await startWebApp({ extraRouters: () => [landing()] });
    try {
      const cred = await signUpAndEnrol(web.agent(), 'target@fintech.example');
      const agent = web.agent();
      for (let i = 0; i < 5; i++) {
        const r = await postForm(agent, '/login', { email: cred.email, password: `wrong password ${i}` });
        assert.equal(r.status, 401);
      }
      const sessions = count(web, 'SELECT COUNT(*) AS n FROM sessions');
      const r = await postForm(web.agent(), '/login', { email: cred.email, password: cred.password });
      assert.equal(r.status, 429);
      assert.equal(errorCodeFrom(r.text), 'accounts.login_throttled');
      assert.equal(r.headers['retry-after'], '900');
      assert.match(r.text, /Too many failed attempts/);
      // No pending sign-in was created.
      assert.doesNotMatch(JSON.stringify(web.db.prepare('SELECT data FROM sessions').all()), /pendingLogin/);
      assert.ok(count(web, 'SELECT COUNT(*) AS n FROM sessions') <= sessions + 1);
      const throttled = auditActions(web, 'auth.throttled').map((e) => JSON.parse(String(e.data)));
      assert.deepEqual(throttled.map((d) => [d.scope, d.refused]), [['account', false], ['account', true]]);
      // Another account from the same address is unaffected (below the address limit).
      const other = await signUpAndEnrol(web.agent(), 'other@fintech.example');
      await loginApplicant(web.agent(), other);
    } finally {
      await web.close();
    }
  });

  it('per address: 20 failures on any accounts lock the address (429) for every account', async () => {
    const web = await startWebApp({ extraRouters: () => [landing()] });
    try {
      const cred = await signUpAndEnrol(web.agent(), 'victim@fintech.example');
      const agent = web.agent();
      const token = csrfFrom((await page(agent, '/login')).text);
      for (let i = 0; i < 20; i++) {
        const r = await agent.post('/login').type('form').set('Accept', 'text/html').send({ _csrf: token, email: `spray${i}@fintech.example`, password: 'Summer2026!!' });
        assert.equal(r.status, 401, `attempt ${i}`);
        assert.equal(errorCodeFrom(r.text), 'accounts.login_failed');
      }
      const r = await postForm(web.agent(), '/login', { email: cred.email, password: cred.password });
      assert.equal(r.status, 429);
      assert.equal(errorCodeFrom(r.text), 'accounts.login_throttled');
      const last = auditActions(web, 'auth.throttled').map((e) => JSON.parse(String(e.data)));
      assert.deepEqual(last.map((d) => d.scope), ['ip', 'ip']);
      assert.equal(count(web, "SELECT failures AS n FROM auth_throttle WHERE key = 'ip:127.0.0.1'"), 20);
    } finally {
      await web.close();
    }
  });
});

