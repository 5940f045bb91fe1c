/**
 * `npm run monitor:once` as a child process against a temporary DATA_DIR: exit 0 when the pass ran (alerts
 * included), 1 when another pass holds the lease, 2 for usage errors.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function monitorOnce(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/monitor-once.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('monitor: npm run monitor:once', function () {
  this.timeout(120_000);
  let dir: string;
  let env: Record<string, string>;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'monitor-cli-'));
    env = {
      NODE_ENV: 'test',
      DATA_DIR: path.join(dir, 'data'),
      CERTS_DIR: path.join(dir, 'certs'),
      REGISTER_SOURCE: path.join(dir, 'no-register.json'),
      LOG_LEVEL: 'silent',
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs one pass and prints it; a register source that is missing is an alert, and the exit status is 0', async () => {
    const r = await monitorOnce([], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Monitor pass [0-9a-f-]{36} \(cli\): ok$/m);
    assert.match(r.stdout, /summary {3}0 partners, 0 certificates checked; no actions; 1 open alert \(1 new\); register: the register file .+no-register\.json cannot be opened \(ENOENT\)/);
    assert.match(r.stdout, /alerts \(open\)\n {4}- Register source unusable: /);

    const json = await monitorOnce(['--json'], env);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { status: string; trigger: string; alerts: { kind: string; seenCount: number }[] };
    assert.equal(report.status, 'ok');
    assert.equal(report.trigger, 'cli');
    assert.deepEqual(report.alerts.map((a) => [a.kind, a.seenCount]), [['register_source', 2]]);
  });

  it('exits 1 while another pass holds the lease, and 2 on a usage error', async () => {
    const db = new Database(path.join(dir, 'data', 'portal.sqlite'));
    db.prepare("INSERT INTO monitor_runs (id, trigger, started_at, status, summary) VALUES ('other', 'scheduler', ?, 'running', '{}')").run(new Date().toISOString());
    db.close();
    const busy = await monitorOnce([], env);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /^monitor:once: A monitor pass has been running since .+; try again when it has finished\.$/m);
    assert.equal(busy.stdout, '');

    const usage = await monitorOnce(['--everything'], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /Unknown option '--everything'/);
    assert.match(usage.stderr, /Usage: npm run monitor:once/);
  });
});
