/**
 * Where the client certificate of a mutual-TLS request comes from: the TLS socket, or a trusted proxy's
 * header (RFC 9440 Client-Cert / Client-Cert-Chain, or a URL-encoded PEM). Real HTTPS listeners asking for
 * client certificates, real certificates from the dev PKI and issued here, requests sent with exact headers.
 */
import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import express from 'express';
import { issueCertificate, type CryptoKeyPair } from '../../src/devpki/builder.js';
import { generateDevPki, type DevPki } from '../../src/devpki/generate.js';
import { x509 } from '../../src/eidas/x509.js';
import { createCertificateSource, type CertificateSourceResult } from '../../src/http/middleware/client-cert.js';

type Reply = { status: number; body: Record<string, unknown> };
type Headers = Record<string, string | string[]>;

const sha256 = (der: Uint8Array | ArrayBuffer) => createHash('sha256').update(new Uint8Array(der)).digest('hex');
const b64 = (der: Uint8Array | ArrayBuffer) => Buffer.from(new Uint8Array(der)).toString('base64');
const seq = (der: Uint8Array | ArrayBuffer) => `:${b64(der)}:`;
const pem = (c: x509.X509Certificate) => `${c.toString('pem').trimEnd()}\n`;

async function pemKey(keys: CryptoKeyPair): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
}

describe('client certificate source: TLS socket or trusted proxy header', function () {
  this.timeout(60_000);
  let pki: DevPki;
  let rootPem: string;
  let serverTls: { cert: string; key: string };
  /** What the TLS connection presents (the demo partner's QWAC). */
  let socketClient: { cert: string; key: string; der: ArrayBuffer };
  /** What the proxy says the client presented: a different QWAC, issued here. */
  let headerCert: x509.X509Certificate;
  let qwacCa: x509.X509Certificate;
  let root: x509.X509Certificate;
  const open: https.Server[] = [];

  before(async () => {
    pki = await generateDevPki({ responderBaseUrl: 'http://127.0.0.1:9', keyAlgorithm: 'EC-P256' });
    root = pki.cas.root.cert;
    qwacCa = pki.cas['qwac-ca'].cert;
    rootPem = pem(root);
    serverTls = { cert: pem(pki.server.cert) + pem(qwacCa), key: await pemKey(pki.server.keys) };
    const partner = pki.partners[0]!;
    socketClient = { cert: pem(partner.qwac.cert), key: await pemKey(partner.qwac.keys), der: partner.qwac.cert.rawData };
    const now = Date.now();
    // A DER length that is not a multiple of 3, so its base64 has padding (the unpadded case needs it).
    do {
      ({ cert: headerCert } = await issueCertificate({
        subject: 'CN=api.header-client.test, O=Header Client Ltd, 2.5.4.97=PSDGB-FCA-999999, C=GB',
        issuer: pki.cas['qwac-ca'],
        keyAlgorithm: 'EC-P256',
        notBefore: new Date(now - 86_400_000),
        notAfter: new Date(now + 86_400_000 * 30),
      }));
    } while (headerCert.rawData.byteLength % 3 === 0);
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  /** An HTTPS listener asking for (not requiring) a client certificate; it answers what the source read. */
  async function serve(opts: { trusted: string[]; header?: string }, host = '127.0.0.1'): Promise<number> {
    const source = createCertificateSource({ trusted: opts.trusted, header: opts.header ?? 'client-cert' });
    const app = express();
    app.get('/', (req, res) => {
      const r: CertificateSourceResult = source.read(req);
      const peer = req.socket.remoteAddress;
      if (r.ok) res.json({ ok: true, source: r.source, fingerprints: r.ders.map(sha256), peer });
      else res.status(r.status).json({ ...r, peer });
    });
    // Large enough for the oversized-value cases to reach the parser rather than Node's header limit.
    const server = https.createServer(
      { ...serverTls, requestCert: true, rejectUnauthorized: false, maxHeaderSize: 256 * 1024 },
      app,
    );
    open.push(server);
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return (server.address() as AddressInfo).port;
  }

  function call(port: number, opts: { host?: string; headers?: Headers; client?: { cert: string; key: string } } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: opts.host ?? '127.0.0.1',
          port,
          path: '/',
          method: 'GET',
          ca: rootPem,
          servername: 'localhost',
          // An array value is sent as that many header lines.
          headers: { accept: 'application/json', ...(opts.headers ?? {}) },
          ...(opts.client ?? {}),
          agent: false,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) as Record<string, unknown> }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  function assertCerts(r: Reply, source: 'tls' | 'proxy-header', ders: (Uint8Array | ArrayBuffer)[]) {
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.source, source);
    assert.deepEqual(r.body.fingerprints, ders.map(sha256));
  }

  function assertRefused(r: Reply, code: string, detail?: RegExp) {
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.ok, false);
    assert.equal(r.body.code, code);
    assert.equal(typeof r.body.message, 'string');
    if (detail) assert.match(String(r.body.detail), detail);
  }

  describe('the TLS socket', () => {
    it('gives the certificate the client presented on the connection (source tls)', async () => {
      const port = await serve({ trusted: [] });
      assertCerts(await call(port, { client: socketClient }), 'tls', [socketClient.der]);
    });

    it('gives no certificate when none is presented (ders [])', async () => {
      const port = await serve({ trusted: [] });
      assertCerts(await call(port), 'tls', []);
    });

    it('reads the socket for a peer that is not a proxy even when proxies are configured', async () => {
      const port = await serve({ trusted: ['10.0.0.0/8', '192.0.2.7'] });
      assertCerts(await call(port, { client: socketClient }), 'tls', [socketClient.der]);
    });
  });

  it('reads the handshake certificate once per connection (tlsLeaf on keep-alive), and anew on each new connection', async () => {
    const source = createCertificateSource({ trusted: [], header: 'client-cert' });
    const app = express();
    app.get('/', (req, res) => {
      const leaf = source.tlsLeaf(req);
      res.json({ leaf: leaf ? sha256(leaf) : null });
    });
    const server = https.createServer({ ...serverTls, requestCert: true, rejectUnauthorized: false }, app);
    open.push(server);
    // Counts what the socket is asked, per connection.
    const reads: number[] = [];
    server.on('secureConnection', (socket: TLSSocket) => {
      const i = reads.push(0) - 1;
      const original = socket.getPeerCertificate.bind(socket);
      socket.getPeerCertificate = ((detailed?: boolean) => {
        reads[i]!++;
        return original(detailed as true);
      }) as typeof socket.getPeerCertificate;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const get = (agent: https.Agent) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, path: '/', ca: rootPem, servername: 'localhost', agent }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
          })
          .on('error', reject);
      });
    const withCert = new https.Agent({ keepAlive: true, maxSockets: 1, ...socketClient });
    const without = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 3; i++) assert.deepEqual(await get(withCert), { leaf: sha256(socketClient.der) });
      assert.deepEqual(await get(without), { leaf: null });
      assert.deepEqual(await get(without), { leaf: null });
      assert.deepEqual(reads, [1, 1], 'one read per connection: three requests on the first, two on the second');
    } finally {
      withCert.destroy();
      without.destroy();
    }
  });

  describe('RFC 9440 headers from a trusted proxy', () => {
    it("takes Client-Cert over the proxy's own TLS certificate", async () => {
      const port = await serve({ trusted: ['127.0.0.1'] });
      const r = await call(port, { client: socketClient, headers: { 'Client-Cert': seq(headerCert.rawData) } });
      assertCerts(r, 'proxy-header', [headerCert.rawData]);
    });

    it('appends Client-Cert-Chain after the leaf, in order, also when split over several lines', async () => {
      const port = await serve({ trusted: ['127.0.0.1'] });
      const one = await call(port, {
        headers: { 'Client-Cert': seq(headerCert.rawData), 'Client-Cert-Chain': `${seq(qwacCa.rawData)}, ${seq(root.rawData)}` },
      });
      assertCerts(one, 'proxy-header', [headerCert.rawData, qwacCa.rawData, root.rawData]);
      const split = await call(port, {
        headers: { 'Client-Cert': seq(headerCert.rawData), 'Client-Cert-Chain': [seq(qwacCa.rawData), seq(root.rawData)] },
      });
      assertCerts(split, 'proxy-header', [headerCert.rawData, qwacCa.rawData, root.rawData]);
    });

    it('accepts base64 without its = padding (RFC 8941 parsers should)', async () => {
      const port = await serve({ trusted: ['127.0.0.1'] });
      const unpadded = `:${b64(headerCert.rawData).replace(/=+$/, '')}:`;
      assert.notEqual(unpadded, seq(headerCert.rawData));
      assertCerts(await call(port, { headers: { 'Client-Cert': unpadded } }), 'proxy-header', [headerCert.rawData]);
    });

    it('an empty Client-Cert means no certificate', async () => {
      const port = await serve({ trusted: ['127.0.0.1'] });
      assertCerts(await call(port, { client: socketClient, headers: { 'Client-Cert': '' } }), 'proxy-header', []);
    });

    it("a proxy that sends no header means no certificate, never the proxy's own TLS certificate", async () => {
      const port = await serve({ trusted: ['127.0.0.1'] });
      assertCerts(await call(port, { client: socketClient }), 'proxy-header', []);
    });

    it('matches a CIDR range (127.0.0.0/8)', async () => {
      const port = await serve({ trusted: ['127.0.0.0/8'] });
      assertCerts(await call(port, { headers: { 'Client-Cert': seq(headerCert.rawData) } }), 'proxy-header', [headerCert.rawData]);
    });
  });

  describe('URL-encoded PEM header (nginx $ssl_client_escaped_cert) under a custom name', () => {
    const header = 'x-ssl-client-cert';

    it('reads the leaf and the chain, leaf first, ignoring the TLS certificate', async () => {
      const port = await serve({ trusted: ['127.0.0.1'], header });
      const value = encodeURIComponent(pem(headerCert) + pem(qwacCa));
      const r = await call(port, { client: socketClient, headers: { 'X-SSL-Client-Cert': value } });
      assertCerts(r, 'proxy-header', [headerCert.rawData, qwacCa.rawData]);
    });

    it('reads CRLF line ends and an empty value (no certificate)', async () => {
      const port = await serve({ trusted: ['127.0.0.1'], header });
      const crlf = encodeURIComponent(pem(headerCert).replace(/\n/g, '\r\n'));
      assertCerts(await call(port, { headers: { [header]: crlf } }), 'proxy-header', [headerCert.rawData]);
      assertCerts(await call(port, { client: socketClient, headers: { [header]: '' } }), 'proxy-header', []);
    });

    it('ignores Client-Cert when the configured header is another one (the socket certificate stands)', async () => {
      const port = await serve({ trusted: [], header });
      const r = await call(port, { client: socketClient, headers: { 'Client-Cert': seq(headerCert.rawData) } });
      assertCerts(r, 'tls', [socketClient.der]);
    });

    const malformed: [string, () => string | string[], RegExp][] = [
      ['bad URL encoding', () => '%E0%A4%A', /URL encoding/],
      ['text outside the blocks', () => encodeURIComponent(`subject=CN=x\n${pem(headerCert)}`), /outside CERTIFICATE/],
      ['a private key block', () => encodeURIComponent('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), /outside CERTIFICATE/],
      ['a block without END', () => encodeURIComponent(pem(headerCert).replace(/-----END CERTIFICATE-----\n$/, '')), /without its END/],
      ['a non-base64 line in the block', () => encodeURIComponent(pem(headerCert).replace(/\n(.)/, '\n$1 ')), /not base64/],
      ['base64 of garbage', () => encodeURIComponent(`-----BEGIN CERTIFICATE-----\n${b64(Buffer.from('not a certificate at all'))}\n-----END CERTIFICATE-----\n`), /not a DER certificate/],
      ['12 certificates', () => encodeURIComponent(pem(headerCert).repeat(12)), /more than 11/],
      ['two header lines', () => [encodeURIComponent(pem(headerCert)), encodeURIComponent(pem(qwacCa))], /sent 2 times/],
      ['an oversized value', () => 'A'.repeat(70 * 1024), /more than 65536/],
    ];
    for (const [name, value, detail] of malformed) {
      it(`refuses ${name}: certificate.header_malformed 400`, async () => {
        const port = await serve({ trusted: ['127.0.0.1'], header });
        assertRefused(await call(port, { client: socketClient, headers: { [header]: value() } }), 'certificate.header_malformed', detail);
      });
    }
  });

  describe('a certificate header from an address that is not a trusted proxy', () => {
    it('refuses Client-Cert with certificate.header_untrusted 400, naming the peer', async () => {
      const port = await serve({ trusted: ['10.0.0.0/8'] });
      const r = await call(port, { client: socketClient, headers: { 'Client-Cert': seq(headerCert.rawData) } });
      assertRefused(r, 'certificate.header_untrusted', /client-cert from 127\.0\.0\.1,/);
    });

    it('refuses with no proxy configured, for Client-Cert-Chain alone and for an empty Client-Cert', async () => {
      const port = await serve({ trusted: [] });
      assertRefused(await call(port, { headers: { 'Client-Cert-Chain': seq(qwacCa.rawData) } }), 'certificate.header_untrusted', /client-cert-chain from 127\.0\.0\.1/);
      assertRefused(await call(port, { client: socketClient, headers: { 'Client-Cert': '' } }), 'certificate.header_untrusted', /127\.0\.0\.1/);
    });

    it('refuses the custom PEM header too', async () => {
      const port = await serve({ trusted: ['127.0.0.2'], header: 'x-ssl-client-cert' });
      const r = await call(port, { headers: { 'X-SSL-Client-Cert': encodeURIComponent(pem(headerCert)) } });
      assertRefused(r, 'certificate.header_untrusted', /x-ssl-client-cert from 127\.0\.0\.1/);
    });
  });

  describe('malformed RFC 9440 values from a trusted proxy: certificate.header_malformed 400', () => {
    const cases: [string, () => Headers, RegExp][] = [
      ['not a byte sequence (no colons)', () => ({ 'Client-Cert': b64(headerCert.rawData) }), /not a single structured-field byte sequence/],
      ['whitespace inside the byte sequence', () => ({ 'Client-Cert': `: ${b64(headerCert.rawData)}:` }), /not a single structured-field/],
      ['a parameter after the byte sequence', () => ({ 'Client-Cert': `${seq(headerCert.rawData)};v=1` }), /not a single structured-field/],
      ['two values in one line', () => ({ 'Client-Cert': `${seq(headerCert.rawData)}, ${seq(qwacCa.rawData)}` }), /not a single structured-field/],
      ['bad base64 characters', () => ({ 'Client-Cert': `:${b64(headerCert.rawData).slice(0, 40)}$%*${b64(headerCert.rawData).slice(43)}:` }), /not a single structured-field/],
      ['bad base64 length', () => ({ 'Client-Cert': ':AAAAA:' }), /not valid base64 \(bad length or padding\)/],
      ['bad base64 padding', () => ({ 'Client-Cert': ':AAA==:' }), /not valid base64 \(bad length or padding\)/],
      ['non-canonical base64', () => ({ 'Client-Cert': ':AB==:' }), /not canonical base64/],
      ['base64 of garbage', () => ({ 'Client-Cert': seq(Buffer.from('this is not a certificate, only text')) }), /not a DER certificate/],
      ['a truncated certificate', () => ({ 'Client-Cert': seq(new Uint8Array(headerCert.rawData).slice(0, 200)) }), /not valid DER/],
      ['a certificate with trailing bytes', () => ({ 'Client-Cert': seq(Buffer.concat([Buffer.from(headerCert.rawData), Buffer.from([0, 0])])) }), /2 bytes after/],
      ['a DER SEQUENCE that is not a certificate', () => ({ 'Client-Cert': seq(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05])) }), /not an X\.509 certificate/],
      ['an oversized value', () => ({ 'Client-Cert': `:${'A'.repeat(20 * 1024)}:` }), /more than 16384/],
      ['two Client-Cert headers', () => ({ 'Client-Cert': [seq(headerCert.rawData), seq(headerCert.rawData)] }), /sent 2 times/],
      ['11 chain entries', () => ({ 'Client-Cert': seq(headerCert.rawData), 'Client-Cert-Chain': Array(11).fill(seq(qwacCa.rawData)).join(', ') }), /11 entries, more than 10/],
      ['an empty chain member', () => ({ 'Client-Cert': seq(headerCert.rawData), 'Client-Cert-Chain': `${seq(qwacCa.rawData)}, ` }), /entry 2 is not a single/],
      ['a garbage chain member', () => ({ 'Client-Cert': seq(headerCert.rawData), 'Client-Cert-Chain': `${seq(qwacCa.rawData)}, :AAAA:` }), /entry 2 is not a DER/],
      ['Client-Cert-Chain without Client-Cert', () => ({ 'Client-Cert-Chain': seq(qwacCa.rawData) }), /without a Client-Cert/],
      ['Client-Cert-Chain with an empty Client-Cert', () => ({ 'Client-Cert': '', 'Client-Cert-Chain': seq(qwacCa.rawData) }), /without a Client-Cert/],
    ];
    for (const [name, headers, detail] of cases) {
      it(name, async () => {
        const port = await serve({ trusted: ['127.0.0.1'] });
        const r = await call(port, { client: socketClient, headers: headers() });
        assertRefused(r, 'certificate.header_malformed', detail);
        assert.match(String(r.body.detail), /^From proxy 127\.0\.0\.1: /);
      });
    }
  });

  it('refuses hostile chain padding in bounded time (a long run of spaces inside a member)', async function () {
    this.timeout(10_000);
    const port = await serve({ trusted: ['127.0.0.1'] });
    const started = Date.now();
    const r = await call(port, { headers: { 'Client-Cert': seq(headerCert.rawData), 'Client-Cert-Chain': `:AAAA${' '.repeat(150 * 1024)}x` } });
    assertRefused(r, 'certificate.header_malformed', /entry 1 is \d+ characters, more than 16384/);
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  });

  describe('addresses', () => {
    it('IPv6 loopback: ::1 listed is a proxy, 127.0.0.1 listed does not cover ::1', async () => {
      const trusted = await serve({ trusted: ['::1'] }, '::1');
      const r = await call(trusted, { host: '::1', client: socketClient, headers: { 'Client-Cert': seq(headerCert.rawData) } });
      assert.equal(r.body.peer, '::1');
      assertCerts(r, 'proxy-header', [headerCert.rawData]);

      const other = await serve({ trusted: ['127.0.0.1'] }, '::1');
      const refused = await call(other, { host: '::1', headers: { 'Client-Cert': seq(headerCert.rawData) } });
      assertRefused(refused, 'certificate.header_untrusted', /from ::1,/);
    });

    it('an IPv6 CIDR range (::/120 style) matches', async () => {
      const port = await serve({ trusted: ['::0/120'] }, '::1');
      assertCerts(await call(port, { host: '::1', headers: { 'Client-Cert': seq(headerCert.rawData) } }), 'proxy-header', [headerCert.rawData]);
    });

    it('an IPv4-mapped peer (::ffff:127.0.0.1) matches IPv4 entries and ranges', async () => {
      for (const entry of ['127.0.0.1', '127.0.0.0/8']) {
        // An IPv6 socket bound to the mapped address takes IPv4 connections and reports mapped peers.
        const port = await serve({ trusted: [entry] }, '::ffff:127.0.0.1');
        const r = await call(port, { client: socketClient, headers: { 'Client-Cert': seq(headerCert.rawData) } });
        assert.equal(r.body.peer, '::ffff:127.0.0.1');
        assertCerts(r, 'proxy-header', [headerCert.rawData]);
      }
      const port = await serve({ trusted: ['10.0.0.0/8'] }, '::ffff:127.0.0.1');
      const r = await call(port, { headers: { 'Client-Cert': seq(headerCert.rawData) } });
      assertRefused(r, 'certificate.header_untrusted', /from ::ffff:127\.0\.0\.1,/);
    });

    it('refuses a trusted-proxy entry that is not an address or range at construction', () => {
      for (const bad of ['proxy.example', '127.0.0.1/33', '::1/129', '10.0.0.0/8/1', '127.0.0.1/x', '']) {
        assert.throws(() => createCertificateSource({ trusted: [bad], header: 'client-cert' }), /not an IP address or CIDR range/, bad);
      }
    });
  });
});
