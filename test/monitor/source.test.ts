/**
 * The register source reader: a file or an https URL, bounded in size, no redirects followed; every failure a
 * RegisterSourceError in words an officer can act on.
 */
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { issueCertificate } from '../../src/devpki/builder.js';
import { createRegisterSourceReader, RegisterSourceError } from '../../src/monitor/source.js';

describe('monitor: register source reader', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'monitor-source-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const refused = (pattern: RegExp) => (err: unknown) => {
    assert.ok(err instanceof RegisterSourceError, String(err));
    assert.match(err.message, pattern);
    return true;
  };

  it('reads a file; refuses a missing file, a directory and a file over the cap', async () => {
    const read = createRegisterSourceReader({ maxBytes: 10 });
    writeFileSync(path.join(dir, 'ok.json'), '[[],[]]');
    assert.equal((await read(path.join(dir, 'ok.json'))).toString(), '[[],[]]');
    await assert.rejects(read(path.join(dir, 'none.json')), refused(/cannot be opened \(ENOENT\)$/));
    mkdirSync(path.join(dir, 'sub'));
    await assert.rejects(read(path.join(dir, 'sub')), refused(/is not a file$/));
    writeFileSync(path.join(dir, 'big.json'), 'x'.repeat(11));
    await assert.rejects(read(path.join(dir, 'big.json')), refused(/larger than 10 bytes$/));
  });

  describe('over https', () => {
    let server: https.Server;
    let base: string;
    let fetchWithCa: typeof fetch;
    const routes: Record<string, (res: ServerResponse) => void> = {
      '/register.json': (res) => res.end('[[],[]]'),
      '/big.json': (res) => res.end('x'.repeat(64)),
      '/chunked.json': (res) => {
        res.write('x'.repeat(40));
        res.end('x'.repeat(40));
      },
      '/missing.json': (res) => {
        res.statusCode = 404;
        res.end('not here');
      },
      '/moved.json': (res) => {
        res.statusCode = 302;
        res.setHeader('location', '/register.json');
        res.end();
      },
    };

    before(async () => {
      const { cert, keys } = await issueCertificate({
        subject: 'CN=localhost',
        keyAlgorithm: 'EC-P256',
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 3600_000),
        san: { dns: ['localhost'], ip: ['127.0.0.1'] },
        eku: ['1.3.6.1.5.5.7.3.1'],
      });
      const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
      const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64')}\n-----END PRIVATE KEY-----\n`;
      const pem = cert.toString('pem');
      server = https.createServer({ cert: pem, key }, (req, res) => (routes[req.url ?? ''] ?? routes['/missing.json']!)(res));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const dispatcher = new Agent({ connect: { ca: pem } });
      fetchWithCa = ((url: string, init: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher })) as unknown as typeof fetch;
    });
    after(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('downloads the register', async () => {
      const read = createRegisterSourceReader({ fetch: fetchWithCa });
      assert.equal((await read(`${base}/register.json`)).toString(), '[[],[]]');
    });

    it('refuses an untrusted certificate, an HTTP error, a redirect, a body over the cap (declared or streamed) and http://', async () => {
      await assert.rejects(createRegisterSourceReader()(`${base}/register.json`), refused(/cannot be reached/));
      const read = createRegisterSourceReader({ fetch: fetchWithCa, maxBytes: 50 });
      await assert.rejects(read(`${base}/missing.json`), refused(/answered HTTP 404$/));
      await assert.rejects(read(`${base}/moved.json`), refused(/cannot be reached/));
      await assert.rejects(read(`${base}/big.json`), refused(/larger than 50 bytes$/));
      await assert.rejects(read(`${base}/chunked.json`), refused(/larger than 50 bytes$/));
      await assert.rejects(read(base.replace('https:', 'http:')), refused(/must use https$/));
    });

    it('gives up after the timeout', async () => {
      routes['/slow.json'] = () => undefined; // never answers
      const read = createRegisterSourceReader({ fetch: fetchWithCa, timeoutMs: 200 });
      await assert.rejects(read(`${base}/slow.json`), refused(/cannot be reached \((TimeoutError|AbortError)\)$/));
    });
  });
});
