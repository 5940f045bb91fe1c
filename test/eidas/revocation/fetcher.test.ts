import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { addressRefusal, createHttpFetcher, FetchError } from '../../../src/eidas/revocation/fetcher.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function serve(handler: Handler): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = http.createServer(handler);
  server.on('connection', () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function rejectsWith(p: Promise<unknown>, kind: string): Promise<FetchError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof FetchError, `expected a FetchError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    return e;
  }
  assert.fail(`expected a ${kind} FetchError`);
}

describe('revocation/fetcher', () => {
  const fetcher = createHttpFetcher({ allowPrivateNetworks: true, timeoutMs: 2000 });

  it('GETs a body with its status and content type, sending Accept and the Host of the URL', async () => {
    let seen: http.IncomingHttpHeaders = {};
    const s = await serve((req, res) => {
      seen = req.headers;
      res.writeHead(200, { 'content-type': 'application/pkix-crl' });
      res.end(Buffer.from([1, 2, 3]));
    });
    try {
      const r = await fetcher.get(`${s.url}/ca.crl`, { maxBytes: 10, accept: 'application/pkix-crl' });
      assert.equal(r.status, 200);
      assert.equal(r.contentType, 'application/pkix-crl');
      assert.deepEqual([...r.body], [1, 2, 3]);
      assert.equal(seen.accept, 'application/pkix-crl');
      assert.equal(seen.host, new URL(s.url).host);
    } finally {
      await s.close();
    }
  });

  it('POSTs the body with its content type and length', async () => {
    let got = Buffer.alloc(0);
    let ct = '';
    const s = await serve((req, res) => {
      ct = req.headers['content-type'] ?? '';
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        got = Buffer.concat(parts);
        res.writeHead(200, { 'content-type': 'application/ocsp-response' });
        res.end('ok');
      });
    });
    try {
      const r = await fetcher.post(`${s.url}/ocsp`, new Uint8Array([9, 8, 7]), {
        contentType: 'application/ocsp-request',
        maxBytes: 10,
      });
      assert.equal(r.status, 200);
      assert.equal(ct, 'application/ocsp-request');
      assert.deepEqual([...got], [9, 8, 7]);
    } finally {
      await s.close();
    }
  });

  it('does not follow redirects', async () => {
    const paths: string[] = [];
    const s = await serve((req, res) => {
      paths.push(req.url ?? '');
      if (req.url === '/start') {
        res.writeHead(302, { location: '/elsewhere' });
        res.end();
      } else {
        res.end('followed');
      }
    });
    try {
      const r = await fetcher.get(`${s.url}/start`, { maxBytes: 100 });
      assert.equal(r.status, 302);
      assert.deepEqual(paths, ['/start']);
    } finally {
      await s.close();
    }
  });

  it('aborts a streamed body past maxBytes', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200);
      // Chunked, no Content-Length: only the streaming limit can stop it.
      const chunk = Buffer.alloc(16 * 1024, 0x41);
      let sent = 0;
      const pump = (): void => {
        while (sent < 4 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.on('error', () => undefined);
      pump();
    });
    try {
      await rejectsWith(fetcher.get(`${s.url}/big`, { maxBytes: 64 * 1024 }), 'too-large');
    } finally {
      await s.close();
    }
  });

  it('refuses a body whose declared Content-Length is over maxBytes', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(2_000_000) });
      res.write(Buffer.alloc(10));
    });
    try {
      await rejectsWith(fetcher.get(`${s.url}/big`, { maxBytes: 1000 }), 'too-large');
    } finally {
      await s.close();
    }
  });

  it('gives up on a server that never answers within the configured timeout', async () => {
    const s = await serve(() => undefined);
    const quick = createHttpFetcher({ allowPrivateNetworks: true, timeoutMs: 300 });
    try {
      const t0 = Date.now();
      await rejectsWith(quick.get(`${s.url}/hang`, { maxBytes: 100 }), 'timeout');
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 250 && elapsed < 1500, `took ${elapsed} ms`);
      // A per-request timeout overrides the fetcher's.
      const t1 = Date.now();
      await rejectsWith(fetcher.post(`${s.url}/hang`, new Uint8Array(1), { contentType: 'x/y', maxBytes: 1, timeoutMs: 200 }), 'timeout');
      assert.ok(Date.now() - t1 < 1200);
    } finally {
      await s.close();
    }
  });

  it('refuses link-local and metadata addresses even when private networks are allowed, without connecting', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[fe80::1]/ocsp',
      'http://[::ffff:169.254.169.254]/',
      'http://[fd00:ec2::254]/',
      'http://0.0.0.0/',
    ]) {
      const t0 = Date.now();
      await rejectsWith(fetcher.get(url, { maxBytes: 100 }), 'blocked');
      // No connection attempt: an unreachable address would otherwise hang until the timeout.
      assert.ok(Date.now() - t0 < 200, url);
    }
  });

  it('refuses loopback and private addresses unless allowed, checking the resolved address of a name', async () => {
    const s = await serve((_req, res) => res.end('x'));
    const strict = createHttpFetcher({ timeoutMs: 1000 });
    try {
      await rejectsWith(strict.get(`${s.url}/`, { maxBytes: 10 }), 'blocked');
      const port = new URL(s.url).port;
      // The host string is not an IP: only the resolved address shows it is loopback.
      await rejectsWith(strict.get(`http://localhost:${port}/`, { maxBytes: 10 }), 'blocked');
      await rejectsWith(strict.get('http://10.1.2.3/', { maxBytes: 10 }), 'blocked');
      await rejectsWith(strict.get('http://[::1]/', { maxBytes: 10 }), 'blocked');
      assert.equal(s.connections(), 0);
    } finally {
      await s.close();
    }
  });

  it('accepts only http and https URLs without credentials', async () => {
    await rejectsWith(fetcher.get('ldap://ldap.example/cn=CA?certificateRevocationList', { maxBytes: 10 }), 'url');
    await rejectsWith(fetcher.get('file:///etc/passwd', { maxBytes: 10 }), 'url');
    await rejectsWith(fetcher.get('http://user:pw@127.0.0.1/', { maxBytes: 10 }), 'url');
    await rejectsWith(fetcher.get('not a url', { maxBytes: 10 }), 'url');
  });

  it('reports a refused connection as a network error', async () => {
    const s = await serve((_req, res) => res.end());
    const url = s.url;
    await s.close();
    await rejectsWith(fetcher.get(`${url}/gone`, { maxBytes: 10 }), 'network');
  });

  it('classifies addresses', () => {
    assert.match(addressRefusal('169.254.169.254', true) ?? '', /link-local/);
    assert.match(addressRefusal('fe80::abcd', true) ?? '', /link-local/);
    assert.equal(addressRefusal('127.0.0.1', true), null);
    assert.match(addressRefusal('127.0.0.1', false) ?? '', /private or loopback/);
    assert.match(addressRefusal('192.168.1.1', false) ?? '', /private/);
    assert.match(addressRefusal('172.31.255.255', false) ?? '', /private/);
    assert.match(addressRefusal('fd12::1', false) ?? '', /private/);
    assert.match(addressRefusal('::ffff:10.0.0.1', false) ?? '', /private/);
    assert.equal(addressRefusal('172.32.0.1', false), null);
    assert.equal(addressRefusal('93.184.216.34', false), null);
    assert.equal(addressRefusal('2a00:1450:4001::1', false), null);
  });
});
