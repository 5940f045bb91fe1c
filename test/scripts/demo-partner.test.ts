/**
 * `npm run demo:partner` as a user runs it: a child process, alone (it starts its own portal in a temporary
 * folder and leaves nothing behind), and against a running portal (twice in a row: its clean-up lets it run
 * again), plus the refusals a user can meet (the software already registered, no portal, bad configuration).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/devpki.js';
import { startOAuthPortal, type OAuthHarness } from '../oauth/harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const STEPS = [
  /^Step 1: discovery$/m,
  /^Step 2: registration over mutual TLS with a signed request carrying the software statement$/m,
  /^Step 3: client_credentials token over mutual TLS/m,
  /^Step 4: call the protected API \(GET \/api\/v1\/connection\)/m,
  /^Step 5: the same token over another certificate \(Nordic Insights’ QWAC\)$/m,
  /^Step 6: create an account-access consent/m,
  /^Step 7: push the authorization request \(PAR, PKCE S256, the consent as openbanking_intent_id\)$/m,
  /^Step 8: the customer \(casey@customer\.test\) signs in with password and TOTP and shares one account$/m,
  /^Step 9: exchange the code for bound tokens, then GET \/api\/v1\/accounts$/m,
  /^Step 10: clean-up: delete the client \(RFC 7592\)$/m,
];
/** A compact JWS (token or statement): the demo must print none whole. */
const JWS = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

interface Run {
  code: number | null;
  out: string;
}

function demo(env: Record<string, string>): Promise<Run> {
  const base = { ...process.env };
  for (const k of ['PORTAL_URL', 'PORTAL_MTLS_URL', 'CERTS_DIR', 'LOG_LEVEL']) delete base[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo-partner.ts'], {
      cwd: ROOT,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out }));
  });
}

function assertAllSteps(run: Run, clientIds: Set<string>): void {
  assert.equal(run.code, 0, run.out);
  for (const step of STEPS) assert.match(run.out, step);
  assert.match(run.out, /The token is bound to the QWAC: cnf\.x5t#S256 equals its thumbprint\./);
  assert.match(run.out, /status: 200/);
  assert.match(run.out, /answer: 401 invalid_token: the access token is bound to another certificate/);
  assert.match(run.out, /Refused: a stolen token is useless without the certificate it is bound to\./);
  assert.match(run.out, /permission: Your account balances/);
  assert.match(run.out, /Only the account the customer chose, only the data the permissions allow\./);
  assert.match(run.out, /All steps passed\./);
  assert.doesNotMatch(run.out, JWS);
  const id = /client_id: (\S+)/.exec(run.out)?.[1];
  assert.ok(id, 'the client id is printed');
  assert.ok(!clientIds.has(id), 'each run registers a new client');
  clientIds.add(id);
  assert.match(run.out, new RegExp(`Client ${id} deleted`));
}

describe('scripts: npm run demo:partner', function () {
  // A run may wait up to 30 s for a fresh TOTP step when earlier runs used the current ones.
  this.timeout(120_000);

  it('alone (no PORTAL_URL): starts its own portal, passes every step, and leaves no temporary files', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'demo-partner-test-'));
    try {
      const run = await demo({ TMPDIR: tmp });
      assertAllSteps(run, new Set());
      assert.match(run.out, /starting a portal of its own/);
      // tsx keeps its compile cache there too; the demo's own folder is what must be gone.
      assert.deepEqual(
        readdirSync(tmp).filter((f) => f.startsWith('demo-partner-')),
        [],
        'the temporary data and certificates directory is removed',
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  describe('against a running portal (PORTAL_URL)', () => {
    let h: OAuthHarness;
    let env: Record<string, string>;
    const clients = () => h.count("SELECT COUNT(*) AS n FROM oauth_models WHERE model = 'Client'");

    before(async () => {
      h = await startOAuthPortal();
      env = { PORTAL_URL: h.publicUrl, CERTS_DIR: path.join(h.dir, 'certs') };
    });
    after(async () => h?.stop());

    it('passes every step twice in a row: the clean-up deletes the client, nothing is left registered', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 2; i++) {
        const run = await demo(env);
        assertAllSteps(run, ids);
        assert.doesNotMatch(run.out, /started by this demo/);
        // The partner's private signing key is never printed.
        assert.ok(!run.out.includes(String(h.demo.signingJwk.d)));
        assert.equal(clients(), 0, `run ${i + 1} left a client behind`);
      }
    });

    it('PORTAL_MTLS_URL sends every mutual-TLS request there (a TCP relay in front of the mutual-TLS listener)', async () => {
      // TLS passes through the relay untouched, so the client certificate still reaches the portal.
      let connections = 0;
      const relay = createServer((socket) => {
        connections++;
        const upstream = connect(h.portal.mtlsPort, '127.0.0.1');
        socket.pipe(upstream).pipe(socket);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
      });
      await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
      const mtls = `https://127.0.0.1:${(relay.address() as AddressInfo).port}`;
      try {
        const run = await demo({ ...env, PORTAL_MTLS_URL: mtls });
        assertAllSteps(run, new Set());
        assert.match(run.out, new RegExp(`note: PORTAL_MTLS_URL is set: mutual-TLS requests go to ${mtls} instead of ${h.mtlsUrl}`));
        // Acme's agent keeps its connection alive; Nordic's (step 5) opens another.
        assert.ok(connections >= 2, `the relay saw ${connections} connection(s)`);
        assert.equal(clients(), 0);
      } finally {
        relay.close();
      }
    });

    it('the software already registered (a run that crashed before clean-up): exit 1, says so, hints RFC 7592 or a re-seed', async () => {
      const reg = await h.request(h.client('acme-payments'), 'POST', `${h.mtlsUrl}/oauth/register`, {
        body: await h.signedRequest({ scope: 'accounts' }),
        headers: { 'content-type': 'application/jwt' },
      });
      assert.equal(reg.status, 201, reg.text);
      try {
        const run = await demo(env);
        assert.equal(run.code, 1, run.out);
        assert.match(run.out, /Step 2 \(registration .*\) failed: the software \S+ is already registered at this portal/);
        assert.match(run.out, /Delete the old client with RFC 7592/);
        assert.match(run.out, /npm run demo:seed/);
        assert.doesNotMatch(run.out, /^Step 3/m);
        assert.equal(clients(), 1, 'the demo neither created nor deleted a client');
      } finally {
        await h.request(h.client('acme-payments'), 'DELETE', String(reg.json.registration_client_uri), {
          headers: { authorization: `Bearer ${String(reg.json.registration_access_token)}` },
        });
      }
      assert.equal(clients(), 0);
    });

    it('no portal at PORTAL_URL: exit 1, naming the step and the cause', async () => {
      const run = await demo({ ...env, PORTAL_URL: `https://127.0.0.1:${await freePort()}` });
      assert.equal(run.code, 1, run.out);
      assert.match(run.out, /Step 1 \(discovery\) failed: .*ECONNREFUSED/);
    });
  });

  it('configuration errors exit 2 with the reason: an http PORTAL_URL, a CERTS_DIR without the partner files', async () => {
    const http = await demo({ PORTAL_URL: 'http://127.0.0.1:3443' });
    assert.equal(http.code, 2, http.out);
    assert.match(http.out, /PORTAL_URL must be an https URL/);
    const empty = mkdtempSync(path.join(tmpdir(), 'demo-partner-certs-'));
    try {
      const missing = await demo({ PORTAL_URL: 'https://127.0.0.1:3443', CERTS_DIR: empty });
      assert.equal(missing.code, 2, missing.out);
      assert.match(missing.out, /partners\/acme-payments\/ssa\.jwt is missing/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
