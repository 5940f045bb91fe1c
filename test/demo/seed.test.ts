import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config.js';
import { formatCredentials, seedDemo } from '../../src/demo/seed.js';
import { createLogger } from '../../src/logger.js';
import { createServices, hasUsers, type Services } from '../../src/main.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

describe('demo seed', function () {
  this.timeout(120_000);
  let dir: string;
  let services: Services;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'seed-'));
    const config = loadConfig(
      { NODE_ENV: 'test', DATA_DIR: path.join(dir, 'data'), CERTS_DIR: path.join(dir, 'certs'), REVOCATION_POLICY: 'off', PORT: '0', MTLS_PORT: '0' },
      dir,
    );
    services = await createServices(config, createLogger({ level: 'silent' }));
  });
  after(() => {
    services?.db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates staff, applicants, an approved regulated partner and one application waiting for review', async () => {
    const { accounts, partners, db, config } = services;
    const result = await seedDemo({ accounts, partners, certsDir: config.certsDir, hasUsers: () => hasUsers(db) });
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
  });

  it('refuses a database that already has users, changing nothing', async () => {
    const { accounts, partners, db, config } = services;
    const before = (db.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    await assert.rejects(seedDemo({ accounts, partners, certsDir: config.certsDir, hasUsers: () => hasUsers(db) }), /empty database/);
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
