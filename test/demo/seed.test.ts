import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, createLocalJWKSet, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { loadConfig } from '../../src/config.js';
import { formatCredentials, seedDemo } from '../../src/demo/seed.js';
import { createLogger } from '../../src/logger.js';
import { createServices, hasUsers, type Services } from '../../src/main.js';
import { createDirectory, DIRECTORY_ISSUER, type Directory } from '../../src/registration/directory.js';
import { createSoftwareService, type SoftwareService } from '../../src/registration/software.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

describe('demo seed', function () {
  this.timeout(120_000);
  let dir: string;
  let services: Services;
  let directory: Directory;
  let software: SoftwareService;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'seed-'));
    const config = loadConfig(
      { NODE_ENV: 'test', DATA_DIR: path.join(dir, 'data'), CERTS_DIR: path.join(dir, 'certs'), REVOCATION_POLICY: 'off', PORT: '0', MTLS_PORT: '0' },
      dir,
    );
    services = await createServices(config, createLogger({ level: 'silent' }));
    directory = await createDirectory({ dataDir: config.dataDir, issuer: DIRECTORY_ISSUER });
    const { db, tx, audit, partners } = services;
    software = createSoftwareService({ db, tx, audit, partners, directory });
  });
  after(() => {
    services?.db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates staff, applicants, an approved regulated partner and one application waiting for review', async () => {
    const { accounts, partners, db, config } = services;
    const result = await seedDemo({ accounts, partners, software, certsDir: config.certsDir, hasUsers: () => hasUsers(db) });
    const staff = result.credentials.filter((c) => c.kind === 'staff');
    assert.deepEqual(
      staff.map((c) => c.roles.join('+')),
      ['admin', 'reviewer', 'reviewer+approver', 'reviewer+approver'],
    );
    const states = db.prepare('SELECT id, state, track FROM applications').all() as { id: string; state: string; track: string | null }[];
    const byId = new Map(states.map((s) => [s.id, s]));
    assert.deepEqual(byId.get(result.approvedApplicationId), { id: result.approvedApplicationId, state: 'approved', track: 'regulated' });
    assert.deepEqual(byId.get(result.pendingApplicationId), { id: result.pendingApplicationId, state: 'submitted', track: 'partner' });
    assert.equal(byId.get(result.draftApplicationId)?.state, 'draft');
    // Auto-approval was decided by the named policy, and a partner exists for it.
    const decision = db.prepare("SELECT kind, policy_version FROM decisions WHERE application_id = ?").get(result.approvedApplicationId) as {
      kind: string;
      policy_version: string;
    };
    assert.deepEqual(decision, { kind: 'auto_approve', policy_version: 'regulated-auto/2026.1' });
    assert.equal((db.prepare("SELECT status FROM partners WHERE application_id = ?").get(result.approvedApplicationId) as { status: string }).status, 'active');
    // Every seeded credential can sign in (password step) and the audit chain is intact.
    for (const c of result.credentials) {
      const check = await accounts.verifyPassword(c.kind, c.email, c.password, '127.0.0.1');
      assert.equal(check.totpEnrolled, true, c.email);
    }
    assert.equal((await services.audit.verify()).ok, true);
    const text = formatCredentials(result, 'https://localhost:3443');
    assert.match(text, /admin@bank\.test/);
    assert.match(text, /\/staff\/login/);
    assert.ok(result.softwareId);
    assert.deepEqual(result.softwareFiles, {
      statement: path.join(config.certsDir, 'partners', 'acme-payments', 'ssa.jwt'),
      signingKey: path.join(config.certsDir, 'partners', 'acme-payments', 'signing.jwk.json'),
    });
    assert.ok(text.includes(`Demo partner software: Acme Payments App (software_id ${result.softwareId})`));
    assert.ok(text.includes(`software statement:    ${result.softwareFiles.statement}`));
    assert.ok(text.includes(`signing key (private): ${result.softwareFiles.signingKey}`));
  });

  it('gives the approved demo partner a software product, its statement and the private signing JWK (0600) in certs/', async () => {
    const { db, config } = services;
    const row = db.prepare("SELECT id, name, redirect_uris, roles, status FROM software_products").all() as Record<string, string>[];
    assert.equal(row.length, 1);
    const softwareId = row[0]!.id!;
    assert.deepEqual(row[0], {
      id: softwareId,
      name: 'Acme Payments App',
      redirect_uris: '["https://127.0.0.1:8443/callback"]',
      roles: '["AIS","PIS"]',
      status: 'active',
    });
    const dir = path.join(config.certsDir, 'partners', 'acme-payments');
    const ssaFile = path.join(dir, 'ssa.jwt');
    const keyFile = path.join(dir, 'signing.jwk.json');
    assert.ok(existsSync(ssaFile) && existsSync(keyFile));
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);

    // The statement verifies with the directory's published keys and names the seeded product.
    const ssa = readFileSync(ssaFile, 'utf8');
    const { payload } = await jwtVerify(ssa, createLocalJWKSet(directory.publicJwks()), { issuer: DIRECTORY_ISSUER });
    assert.equal(payload.software_id, softwareId);
    assert.equal(payload.org_id, 'PSDDE-BAFIN-152645');
    assert.deepEqual(payload.software_roles, ['AISP', 'PISP']);
    assert.deepEqual(payload.software_redirect_uris, ['https://127.0.0.1:8443/callback']);

    // The private JWK is the pair of the statement's only key: what it signs verifies with software_jwks.
    const priv = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
    assert.equal(typeof priv.d, 'string');
    assert.equal(priv.alg, 'PS256');
    const jwks = payload.software_jwks as { keys: JWK[] };
    assert.equal(jwks.keys.length, 1);
    const pub = jwks.keys[0]!;
    assert.equal(pub.kid, priv.kid);
    assert.equal(pub.kid, await calculateJwkThumbprint(pub));
    assert.equal('d' in pub, false);
    const signed = await new SignJWT({ iss: softwareId }).setProtectedHeader({ alg: 'PS256', kid: priv.kid! }).sign(await importJWK(priv, 'PS256'));
    assert.equal((await jwtVerify(signed, createLocalJWKSet(jwks))).payload.iss, softwareId);

    const statements = db.prepare('SELECT software_id FROM software_statements').all();
    assert.deepEqual(statements, [{ software_id: softwareId }]);
  });

  it('refuses a database that already has users, changing nothing', async () => {
    const { accounts, partners, db, config } = services;
    const before = (db.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    await assert.rejects(seedDemo({ accounts, partners, software, certsDir: config.certsDir, hasUsers: () => hasUsers(db) }), /empty database/);
    assert.equal((db.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n, before);
  });

  it('npm run demo:seed refuses a non-empty database with exit 1', async () => {
    const env = { ...process.env, NODE_ENV: 'test', DATA_DIR: path.join(dir, 'data'), CERTS_DIR: path.join(dir, 'certs'), REVOCATION_POLICY: 'off' };
    await assert.rejects(run(process.execPath, ['--import', 'tsx', 'scripts/demo-seed.ts'], { cwd: ROOT, env }), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /already has users/);
      return true;
    });
  });
});
