/**
 * The portal as started by `npm start`: real HTTPS listeners on ephemeral ports, the dev PKI generated
 * on first start, a real SQLite file, and real client certificates on the mutual-TLS listener.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type Portal, startPortal } from '../../src/main.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, pathname: string, opts: { ca: Buffer; cert?: Buffer; key?: Buffer; accept?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: pathname,
        method: 'GET',
        ca: opts.ca,
        servername: 'localhost',
        headers: { accept: opts.accept ?? 'application/json' },
        ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('portal: HTTPS listeners, health and the mutual-TLS certificate check', function () {
  this.timeout(120_000);
  let dir: string;
  let portal: Portal;
  let ca: Buffer;
  const partner = (slug: string, file: string) => readFileSync(path.join(dir, 'certs', 'partners', slug, file));

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'portal-'));
    const config = loadConfig(
      {
        PORT: '0',
        MTLS_PORT: '0',
        OPS_PORT: '0',
        DATA_DIR: path.join(dir, 'data'),
        CERTS_DIR: path.join(dir, 'certs'),
        // Nothing listens here: revocation is unavailable, a warning under the default soft-fail.
        PKI_RESPONDER_URL: 'http://127.0.0.1:9',
        REVOCATION_TIMEOUT_MS: '500',
      },
      dir,
    );
    portal = await startPortal(config, createLogger({ level: 'silent' }));
    ca = readFileSync(path.join(dir, 'certs', 'ca', 'root.pem'));
  });
  after(async () => {
    await portal?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generated the dev PKI and the SQLite database on first start', () => {
    assert.ok(existsSync(path.join(dir, 'certs', 'pki.json')));
    assert.ok(existsSync(path.join(dir, 'certs', 'trusted-list.xml')));
    assert.ok(existsSync(path.join(dir, 'data', 'portal.sqlite')));
  });

  it('serves /health as JSON with every check ok, over TLS verified against the dev root', async () => {
    const r = await get(portal.publicPort, '/health', { ca });
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body);
    assert.equal(body.status, 'ok');
    assert.deepEqual(
      body.checks.map((c: { name: string; status: string }) => [c.name, c.status]),
      [
        ['Database', 'ok'],
        ['Trust profile', 'ok'],
        ['Revocation policy', 'ok'],
      ],
    );
    assert.equal(body.mtlsPort, portal.mtlsPort);
  });

  it('sends the security headers and a request id, and no framework banner', async () => {
    const r = await get(portal.publicPort, '/health', { ca });
    assert.match(String(r.headers['strict-transport-security']), /max-age=31536000/);
    assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['x-powered-by'], undefined);
    assert.match(String(r.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('renders the status page for browsers', async () => {
    const r = await get(portal.publicPort, '/health', { ca, accept: 'text/html' });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /text\/html/);
    assert.match(r.body, /<h1>Partner Portal<\/h1>/);
    assert.match(r.body, /Trust profile/);
  });

  it('answers unknown paths with a JSON problem (404, code not_found)', async () => {
    const r = await get(portal.publicPort, '/no/such/page', { ca });
    assert.equal(r.status, 404);
    assert.match(String(r.headers['content-type']), /application\/problem\+json/);
    assert.equal(JSON.parse(r.body).code, 'not_found');
  });

  it('does not serve the certificate check on the public listener', async () => {
    const r = await get(portal.publicPort, '/mtls/certificate', { ca });
    assert.equal(r.status, 404);
  });

  it('refuses /mtls/certificate without a client certificate (401 certificate.missing)', async () => {
    const r = await get(portal.mtlsPort, '/mtls/certificate', { ca });
    assert.equal(r.status, 401);
    const body = JSON.parse(r.body);
    assert.equal(body.code, 'certificate.missing');
  });

  it('validates the QWAC presented in the TLS handshake: pass, with its PSD2 roles', async () => {
    const r = await get(portal.mtlsPort, '/mtls/certificate', {
      ca,
      cert: partner('acme-payments', 'qwac-chain.pem'),
      key: partner('acme-payments', 'qwac.key'),
    });
    assert.equal(r.status, 200);
    const { report } = JSON.parse(r.body);
    assert.equal(report.verdict, 'pass', JSON.stringify(report.findings));
    assert.equal(report.type, 'QWAC');
    assert.deepEqual(report.psd2.roles, ['PSP_AI', 'PSP_PI']);
    assert.equal(report.organizationIdentifier.nca, 'BAFIN');
    // No responder runs in this test: the default soft-fail policy reports it as a warning.
    assert.equal(report.revocation.status, 'unavailable');
    assert.deepEqual(
      report.findings.map((f: { code: string; severity: string }) => `${f.code}:${f.severity}`),
      ['revocation.unavailable:warning'],
    );
  });

  it('fails a QSealC presented for TLS (qc.type-mismatch) and a rogue-CA certificate (chain.untrusted)', async () => {
    const seal = await get(portal.mtlsPort, '/mtls/certificate', {
      ca,
      cert: partner('acme-payments', 'qseal.pem'),
      key: partner('acme-payments', 'qseal.key'),
    });
    assert.equal(seal.status, 200);
    const sealReport = JSON.parse(seal.body).report;
    assert.equal(sealReport.verdict, 'fail');
    assert.ok(sealReport.findings.some((f: { code: string }) => f.code === 'qc.type-mismatch'));

    const rogue = await get(portal.mtlsPort, '/mtls/certificate', {
      ca,
      // The leaf with its (self-signed) issuer: a complete chain that ends outside the trust profile.
      cert: Buffer.concat([
        readFileSync(path.join(dir, 'certs', 'bad', 'rogue-ca.pem')),
        readFileSync(path.join(dir, 'certs', 'ca', 'rogue-ca.pem')),
      ]),
      key: readFileSync(path.join(dir, 'certs', 'bad', 'rogue-ca.key')),
    });
    const rogueReport = JSON.parse(rogue.body).report;
    assert.equal(rogueReport.verdict, 'fail');
    assert.ok(rogueReport.findings.some((f: { code: string }) => f.code === 'chain.untrusted'));
  });

  it('`npm start` (src/main.ts) starts, serves /health/live and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      env: {
        ...process.env,
        NODE_ENV: 'development',
        PORT: '0',
        MTLS_PORT: '0',
        OPS_PORT: '0',
        DATA_DIR: path.join(dir, 'data-cli'),
        CERTS_DIR: path.join(dir, 'certs'),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line in:\n${out}`)), 60_000);
      child.stdout.on('data', () => {
        const line = out.split('\n').find((l) => l.includes('"portal listening"'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line).url);
        }
      });
      child.on('exit', (code) => reject(new Error(`exited early with ${code}:\n${out}`)));
    });
    const port = Number(new URL(url).port);
    const r = await get(port, '/health/live', { ca });
    assert.equal(r.status, 200);
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exit, 0);
    assert.doesNotMatch(out, /SESSION_SECRET=|BEGIN (RSA |EC )?PRIVATE KEY/);
  });
});
