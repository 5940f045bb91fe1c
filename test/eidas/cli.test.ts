/** `npm run cert:inspect`: the CLI run as a user runs it, against a dev PKI written to a temp dir. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateDevPki, type DevPki } from '../../src/devpki/generate.js';
import { writeDevPki } from '../../src/devpki/index.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('cert:inspect CLI', function () {
  this.timeout(120_000);
  let dir: string;
  let pki: DevPki;
  const file = (...p: string[]) => path.join(dir, ...p);

  function inspect(args: string[], env: Record<string, string> = {}) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cert-inspect.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, CERTS_DIR: dir, LOG_LEVEL: 'silent', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cert-inspect-'));
    pki = await generateDevPki({ responderBaseUrl: 'http://127.0.0.1:9', keyAlgorithm: 'EC-P256' });
    await writeDevPki(pki, dir);
    writeFileSync(file('garbage.pem'), 'not a certificate at all');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a readable report and exits 0 for a valid QWAC', () => {
    const r = inspect(['--revocation', 'off', file('partners', 'acme-payments', 'qwac.pem')]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Verdict\s+PASS \(QWAC\)/);
    assert.match(r.stdout, /PSD2\s+roles PSP_AI, PSP_PI; NCA Federal Financial Supervisory Authority \(DE-BAFIN\)/);
    assert.match(r.stdout, /Findings\s+none/);
  });

  it('exits 1 and explains each finding for a failing certificate', () => {
    const r = inspect(['--revocation', 'off', '--expect', 'qwac', file('bad', 'expired.pem')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /Verdict\s+FAIL/);
    assert.match(r.stdout, /x error\s+expired/);
    assert.match(r.stdout, /Renew the certificate/);
    assert.match(r.stdout, /RFC 5280 §6\.1\.3/);
  });

  it('prints one JSON report for one file and an array for several', () => {
    const one = inspect(['--json', '--revocation', 'off', file('partners', 'acme-payments', 'qseal.pem')]);
    assert.equal(one.code, 0, one.stderr);
    const report = JSON.parse(one.stdout);
    assert.equal(report.type, 'QSealC');
    assert.equal(report.verdict, 'pass');
    const two = inspect(['--json', '--revocation', 'off', file('partners', 'acme-payments', 'qseal.pem'), file('garbage.pem')]);
    assert.equal(two.code, 1);
    const reports = JSON.parse(two.stdout);
    assert.equal(reports.length, 2);
    assert.deepEqual(reports[1].findings.map((f: { code: string }) => f.code), ['malformed']);
  });

  it('honours --at: the same certificate is expired ten years later and not yet valid before issuance', () => {
    const qwac = file('partners', 'acme-payments', 'qwac.pem');
    const later = inspect(['--json', '--revocation', 'off', '--at', '2040-01-01T00:00:00Z', qwac]);
    assert.equal(later.code, 1);
    assert.ok(JSON.parse(later.stdout).findings.some((f: { code: string }) => f.code === 'expired'));
    const before = inspect(['--json', '--revocation', 'off', '--at', '2001-01-01T00:00:00Z', qwac]);
    assert.ok(JSON.parse(before.stdout).findings.some((f: { code: string }) => f.code === 'not-yet-valid'));
  });

  it('honours --trust: with only the rogue CA trusted, the partner QWAC is untrusted', () => {
    const r = inspect(['--json', '--revocation', 'off', '--trust', file('ca', 'rogue-ca.pem'), file('partners', 'acme-payments', 'qwac.pem')]);
    assert.equal(r.code, 1);
    const codes = JSON.parse(r.stdout).findings.map((f: { code: string }) => f.code);
    assert.ok(codes.includes('chain.untrusted') || codes.includes('chain.incomplete'), codes.join());
  });

  it('exits 2 for usage errors and unreadable files, with a message on stderr', () => {
    for (const args of [[], ['--revocation', 'maybe', 'x.pem'], ['--at', 'yesterday', 'x.pem'], ['--bogus', 'x.pem'], [file('nope.pem')]]) {
      const r = inspect(args);
      assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}\n${r.stdout}`);
      assert.match(r.stderr, /^cert:inspect: /);
      assert.equal(r.stdout, '');
    }
  });

  it('exits 2 with a hint when the sandbox trust profile has no dev PKI', () => {
    const r = inspect([file('partners', 'acme-payments', 'qwac.pem')], { CERTS_DIR: path.join(dir, 'missing') });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /npm run pki:dev/);
  });
});
