import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { type CryptoKey, issueCertificate } from '../../../src/devpki/builder.js';
import { type DevPki, generateDevPki } from '../../../src/devpki/generate.js';
import { type Responder, startResponder } from '../../../src/devpki/responder.js';
import { id_kp_OCSPSigning } from '../../../src/eidas/oids.js';
import { ensurePkijsEngine } from '../../../src/eidas/pkijs-engine.js';
import {
  checkRevocation,
  createHttpFetcher,
  createRevocationCache,
  type Fetcher,
  type FetchResponse,
} from '../../../src/eidas/revocation/index.js';
import type { RevocationPolicy } from '../../../src/eidas/types.js';
import { x509 } from '../../../src/eidas/x509.js';

const MIN = 60_000;

async function reservePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function serve(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Counts requests and lets a test reroute or replace them by URL. */
function instrumented(
  inner: Fetcher,
  route: { ocsp?: (url: string) => string | Promise<FetchResponse>; crl?: (url: string) => string } = {},
) {
  const calls: string[] = [];
  const fetcher: Fetcher = {
    async post(url, body, o) {
      calls.push(`POST ${url}`);
      const r = route.ocsp?.(url) ?? url;
      return typeof r === 'string' ? inner.post(r, body, o) : r;
    },
    get(url, o) {
      calls.push(`GET ${url}`);
      return inner.get(route.crl?.(url) ?? url, o);
    },
  };
  return { fetcher, calls };
}

const der = (c: x509.X509Certificate) => new Uint8Array(c.rawData);
const codes = (fs: { code: string }[]) => fs.map((f) => f.code);

describe('revocation/checkRevocation against the dev PKI responder', function () {
  this.timeout(20_000);

  let pki: DevPki;
  let responder: Responder;
  let http0: Fetcher;
  let deadUrl: string;

  before(async function () {
    this.timeout(120_000);
    // The certificates must name the responder's URL, and the responder needs the PKI: reserve a port.
    const port = await reservePort();
    pki = await generateDevPki({ responderBaseUrl: `http://127.0.0.1:${port}`, keyAlgorithm: 'EC-P256' });
    responder = await startResponder({ pki, port });
    http0 = createHttpFetcher({ allowPrivateNetworks: true, timeoutMs: 2000 });
    deadUrl = `http://127.0.0.1:${await reservePort()}`;
  });

  after(async () => {
    await responder?.close();
  });

  const partner = () => pki.partners[0]!;
  const qwacCa = () => der(pki.cas['qwac-ca'].cert);
  const revokedCert = () => pki.bad.find((b) => b.name === 'revoked')!;
  const toDead = (url: string) => deadUrl + new URL(url).pathname;

  it('reports good from OCSP', async () => {
    const at = new Date();
    const { fetcher, calls } = instrumented(http0);
    const r = await checkRevocation({ cert: der(partner().qwac.cert), issuer: qwacCa(), policy: 'hard-fail', at, fetcher });
    assert.deepEqual(r.result, { status: 'good', source: 'ocsp', checkedAt: at.toISOString() });
    assert.deepEqual(r.findings, []);
    assert.deepEqual(calls, [`POST ${responder.url}/ocsp/qwac-ca`]);
  });

  it('reports revoked from OCSP with the time and reason', async () => {
    const bad = revokedCert();
    const entry = pki.issued['qwac-ca'].find((e) => e.serial === bad.cert.serialNumber)!;
    const r = await checkRevocation({ cert: der(bad.cert), issuer: qwacCa(), policy: 'soft-fail', at: new Date(), fetcher: http0 });
    assert.equal(r.result.status, 'revoked');
    assert.equal(r.result.source, 'ocsp');
    assert.equal(r.result.reason, 'keyCompromise');
    assert.ok(Math.abs(Date.parse(r.result.revokedAt!) - entry.revokedAt!.getTime()) < 1000);
    assert.deepEqual(codes(r.findings), ['revoked']);
    assert.equal(r.findings[0]!.severity, 'error');
    assert.match(r.findings[0]!.message, /keyCompromise/);
  });

  it('sees a revocation made at run time', async () => {
    const cert = pki.partners[1]!.qseal.cert;
    responder.revoke(cert.serialNumber, 'superseded');
    const r = await checkRevocation({
      cert: der(cert),
      issuer: der(pki.cas['qseal-ca'].cert),
      policy: 'hard-fail',
      at: new Date(),
      fetcher: http0,
    });
    assert.equal(r.result.status, 'revoked');
    assert.equal(r.result.reason, 'superseded');
    assert.deepEqual(codes(r.findings), ['revoked']);
  });

  it('reports unknown for a serial the responder does not know', async () => {
    const ca = pki.cas['qwac-ca'];
    const stray = await issueCertificate({
      subject: 'CN=stray.test, O=Stray, C=DE',
      issuer: ca,
      keyAlgorithm: 'EC-P256',
      notBefore: new Date(Date.now() - MIN),
      notAfter: new Date(Date.now() + 60 * MIN),
      ocspUrl: `${responder.url}/ocsp/qwac-ca`,
    });
    const r = await checkRevocation({ cert: der(stray.cert), issuer: qwacCa(), policy: 'hard-fail', at: new Date(), fetcher: http0 });
    assert.deepEqual(r.result, { status: 'unknown', source: 'ocsp', checkedAt: r.result.checkedAt });
    assert.deepEqual(codes(r.findings), ['revocation.unknown']);
  });

  it('falls back to the CRL when the OCSP responder is down', async () => {
    const { fetcher, calls } = instrumented(http0, { ocsp: toDead });
    const good = await checkRevocation({ cert: der(partner().qwac.cert), issuer: qwacCa(), policy: 'hard-fail', at: new Date(), fetcher });
    assert.equal(good.result.status, 'good');
    assert.equal(good.result.source, 'crl');
    assert.deepEqual(good.findings, []);
    assert.deepEqual(calls, [`POST ${responder.url}/ocsp/qwac-ca`, `GET ${responder.url}/crl/qwac-ca.crl`]);

    const bad = await checkRevocation({ cert: der(revokedCert().cert), issuer: qwacCa(), policy: 'hard-fail', at: new Date(), fetcher });
    assert.equal(bad.result.status, 'revoked');
    assert.equal(bad.result.source, 'crl');
    assert.equal(bad.result.reason, 'keyCompromise');
    assert.deepEqual(codes(bad.findings), ['revoked']);
  });

  describe('when OCSP and CRL are both down', () => {
    before(() => responder.setDown(true));
    after(() => responder.setDown(false));

    for (const [policy, severity] of [
      ['soft-fail', 'warning'],
      ['hard-fail', 'error'],
    ] as const) {
      it(`${policy} gives revocation.unavailable as ${severity}`, async () => {
        const at = new Date();
        const r = await checkRevocation({ cert: der(partner().qwac.cert), issuer: qwacCa(), policy, at, fetcher: http0 });
        assert.deepEqual(r.result, { status: 'unavailable', source: null, checkedAt: at.toISOString() });
        assert.deepEqual(codes(r.findings), ['revocation.unavailable']);
        assert.equal(r.findings[0]!.severity, severity);
        assert.match(r.findings[0]!.message, /OCSP http:\/\/127\.0\.0\.1:\d+\/ocsp\/qwac-ca: /);
        assert.match(r.findings[0]!.message, /CRL http:\/\/127\.0\.0\.1:\d+\/crl\/qwac-ca\.crl: /);
      });
    }

    it('does not hammer a dead responder: failures are remembered for the negative TTL', async () => {
      const cache = createRevocationCache({ maxEntries: 100 });
      const { fetcher, calls } = instrumented(http0);
      const input = { cert: der(partner().qwac.cert), issuer: qwacCa(), policy: 'soft-fail' as const, fetcher, cache };
      await checkRevocation({ ...input, at: new Date() });
      assert.equal(calls.length, 2);
      const again = await checkRevocation({ ...input, cert: der(partner().qseal.cert), issuer: der(pki.cas['qseal-ca'].cert), at: new Date() });
      // Other URLs (the QSealC CA's) are still asked; the same URLs are not.
      assert.equal(calls.length, 4);
      const third = await checkRevocation({ ...input, at: new Date() });
      assert.equal(calls.length, 4);
      assert.equal(third.result.status, 'unavailable');
      assert.equal(again.result.status, 'unavailable');
      assert.match(third.findings[0]!.message, /not retried yet/);
    });
  });

  it('makes no request and no finding when the policy is off', async () => {
    const { fetcher, calls } = instrumented(http0);
    const r = await checkRevocation({ cert: der(revokedCert().cert), issuer: qwacCa(), policy: 'off', at: new Date(), fetcher });
    assert.deepEqual(r, { result: { status: 'not-checked', source: null, checkedAt: null }, findings: [] });
    assert.deepEqual(calls, []);
  });

  it('answers from the cache until nextUpdate, then asks again', async () => {
    const cache = createRevocationCache({ maxEntries: 100 });
    const { fetcher, calls } = instrumented(http0);
    const at = new Date();
    const input = { cert: der(revokedCert().cert), issuer: qwacCa(), policy: 'hard-fail' as RevocationPolicy, fetcher, cache };
    const first = await checkRevocation({ ...input, at });
    assert.equal(calls.length, 1);
    const second = await checkRevocation({ ...input, at: new Date(at.getTime() + 1000) });
    assert.equal(calls.length, 1, 'the second check is answered from the cache');
    assert.deepEqual({ ...second.result, checkedAt: null }, { ...first.result, checkedAt: null });
    assert.deepEqual(codes(second.findings), ['revoked']);

    // The responder's answers live 5 minutes: past nextUpdate the entry is not used. The fresh OCSP
    // answer (thisUpdate = now) is itself expired at that `at`, so the CRL (24 h) answers.
    const later = new Date(at.getTime() + 6 * MIN);
    const third = await checkRevocation({ ...input, at: later });
    assert.deepEqual(calls.slice(1).map((c) => c.split(' ')[0]), ['POST', 'GET']);
    assert.equal(third.result.status, 'revoked');
    assert.equal(third.result.source, 'crl');
    assert.equal(third.result.checkedAt, later.toISOString());
  });

  describe('OCSP response trust', () => {
    /** A BasicOCSPResponse for `cert` signed by `signer`, with the given responder ID and embedded certs. */
    async function forge(opts: {
      cert: x509.X509Certificate;
      issuer: x509.X509Certificate;
      signer: CryptoKey;
      responderByName?: x509.X509Certificate;
      responderByKey?: x509.X509Certificate;
      embed: x509.X509Certificate[];
      nonce?: Uint8Array;
    }): Promise<FetchResponse> {
      ensurePkijsEngine();
      const p = (c: x509.X509Certificate) => pkijs.Certificate.fromBER(c.rawData);
      const certID = await pkijs.CertID.create(p(opts.cert), { hashAlgorithm: 'SHA-1', issuerCertificate: p(opts.issuer) });
      const now = new Date();
      const basic = new pkijs.BasicOCSPResponse();
      if (opts.responderByName) basic.tbsResponseData.responderID = p(opts.responderByName).subject;
      if (opts.responderByKey) {
        const key = p(opts.responderByKey).subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
        const hash = createHash('sha1').update(key).digest();
        basic.tbsResponseData.responderID = new asn1js.OctetString({ valueHex: hash });
      }
      basic.tbsResponseData.producedAt = now;
      basic.tbsResponseData.responses = [
        new pkijs.SingleResponse({
          certID,
          certStatus: new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } }),
          thisUpdate: now,
          nextUpdate: new Date(now.getTime() + 5 * MIN),
        }),
      ];
      if (opts.nonce) {
        basic.tbsResponseData.responseExtensions = [
          new pkijs.Extension({
            extnID: '1.3.6.1.5.5.7.48.1.2',
            critical: false,
            extnValue: new asn1js.OctetString({ valueHex: opts.nonce }).toBER(false),
          }),
        ];
      }
      basic.certs = opts.embed.map(p);
      await basic.sign(opts.signer as unknown as Parameters<pkijs.BasicOCSPResponse['sign']>[0], 'SHA-256');
      const resp = new pkijs.OCSPResponse({
        responseStatus: new asn1js.Enumerated({ value: 0 }),
        responseBytes: new pkijs.ResponseBytes({
          responseType: '1.3.6.1.5.5.7.48.1.1',
          response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }),
        }),
      });
      return { status: 200, contentType: 'application/ocsp-response', body: new Uint8Array(resp.toSchema().toBER(false)) };
    }

    async function check(response: FetchResponse, policy: RevocationPolicy = 'hard-fail', crlDown = false) {
      const { fetcher, calls } = instrumented(http0, {
        ocsp: () => Promise.resolve(response),
        ...(crlDown ? { crl: toDead } : {}),
      });
      const r = await checkRevocation({ cert: der(partner().qwac.cert), issuer: qwacCa(), policy, at: new Date(), fetcher });
      return { ...r, calls };
    }

    it('does not trust a response signed by the rogue CA and falls back to the CRL', async () => {
      const rogue = pki.cas['rogue-ca'];
      const forged = await forge({
        cert: partner().qwac.cert,
        issuer: pki.cas['qwac-ca'].cert,
        signer: rogue.keys.privateKey,
        responderByName: rogue.cert,
        embed: [rogue.cert],
      });
      const r = await check(forged);
      assert.equal(r.result.status, 'good');
      assert.equal(r.result.source, 'crl');
      assert.equal(r.calls.length, 2);

      const down = await check(forged, 'hard-fail', true);
      assert.equal(down.result.status, 'unavailable');
      assert.deepEqual(codes(down.findings), ['revocation.unavailable']);
      assert.match(down.findings[0]!.message, /not trusted: the responder certificate is not issued by the certificate issuer/);
    });

    it('does not trust a response that names the issuer but is signed with another key', async () => {
      const forged = await forge({
        cert: partner().qwac.cert,
        issuer: pki.cas['qwac-ca'].cert,
        signer: pki.cas['rogue-ca'].keys.privateKey,
        responderByName: pki.cas['qwac-ca'].cert,
        embed: [],
      });
      const r = await check(forged, 'soft-fail', true);
      assert.equal(r.result.status, 'unavailable');
      assert.equal(r.findings[0]!.severity, 'warning');
      assert.match(r.findings[0]!.message, /the response signature does not verify/);
    });

    it('trusts a delegated responder issued by the issuer with id-kp-OCSPSigning (RFC 6960 §4.2.2.2)', async () => {
      const ca = pki.cas['qwac-ca'];
      const delegate = await issueCertificate({
        subject: 'CN=Dev QWAC CA OCSP Responder, O=Dev Test QTSP, C=ZZ',
        issuer: ca,
        keyAlgorithm: 'EC-P256',
        notBefore: new Date(Date.now() - MIN),
        notAfter: new Date(Date.now() + 60 * MIN),
        keyUsage: x509.KeyUsageFlags.digitalSignature,
        eku: [id_kp_OCSPSigning],
      });
      const forged = await forge({
        cert: partner().qwac.cert,
        issuer: ca.cert,
        signer: delegate.keys.privateKey,
        responderByKey: delegate.cert,
        embed: [delegate.cert],
      });
      const r = await check(forged);
      assert.deepEqual([r.result.status, r.result.source], ['good', 'ocsp']);
      assert.equal(r.calls.length, 1);
    });

    it('does not trust a delegated responder without id-kp-OCSPSigning', async () => {
      const ca = pki.cas['qwac-ca'];
      const delegate = await issueCertificate({
        subject: 'CN=Not An OCSP Responder, O=Dev Test QTSP, C=ZZ',
        issuer: ca,
        keyAlgorithm: 'EC-P256',
        notBefore: new Date(Date.now() - MIN),
        notAfter: new Date(Date.now() + 60 * MIN),
        keyUsage: x509.KeyUsageFlags.digitalSignature,
        eku: [x509.ExtendedKeyUsage.clientAuth],
      });
      const forged = await forge({
        cert: partner().qwac.cert,
        issuer: ca.cert,
        signer: delegate.keys.privateKey,
        responderByName: delegate.cert,
        embed: [delegate.cert],
      });
      const r = await check(forged, 'hard-fail', true);
      assert.equal(r.result.status, 'unavailable');
      assert.match(r.findings[0]!.message, /lacks the id-kp-OCSPSigning/);
    });

    it('rejects a response about another certificate', async () => {
      const forged = await forge({
        cert: pki.partners[1]!.qwac.cert,
        issuer: pki.cas['qwac-ca'].cert,
        signer: pki.cas['qwac-ca'].keys.privateKey,
        responderByName: pki.cas['qwac-ca'].cert,
        embed: [],
      });
      const r = await check(forged, 'hard-fail', true);
      assert.equal(r.result.status, 'unavailable');
      assert.match(r.findings[0]!.message, /does not cover this certificate/);
    });

    it('rejects a response that echoes another nonce (a replay)', async () => {
      const ca = pki.cas['qwac-ca'];
      const forged = await forge({
        cert: partner().qwac.cert,
        issuer: ca.cert,
        signer: ca.keys.privateKey,
        responderByName: ca.cert,
        embed: [],
        nonce: new Uint8Array(16).fill(7),
      });
      const r = await check(forged, 'hard-fail', true);
      assert.equal(r.result.status, 'unavailable');
      assert.match(r.findings[0]!.message, /nonce does not match/);
      // The same response without a nonce is accepted: RFC 5019 responders need not echo one.
      const plain = await forge({ cert: partner().qwac.cert, issuer: ca.cert, signer: ca.keys.privateKey, responderByName: ca.cert, embed: [] });
      const ok = await check(plain, 'hard-fail', true);
      assert.deepEqual([ok.result.status, ok.result.source], ['good', 'ocsp']);
    });

    it('rejects garbage and non-successful responses', async () => {
      const junk = await check({ status: 200, contentType: null, body: new Uint8Array([0x30, 0x82, 0xff, 0xff, 1]) }, 'hard-fail', true);
      assert.match(junk.findings[0]!.message, /not DER|could not be decoded/);
      // OCSPResponse { responseStatus tryLater (3) }
      const later = await check({ status: 200, contentType: null, body: new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x03]) }, 'hard-fail', true);
      assert.match(later.findings[0]!.message, /answered tryLater/);
      const http500 = await check({ status: 500, contentType: 'text/plain', body: new Uint8Array() }, 'hard-fail', true);
      assert.match(http500.findings[0]!.message, /HTTP status 500/);
    });

    it('rejects a response whose thisUpdate is after the validation time (beyond the clock skew)', async () => {
      const { fetcher } = instrumented(http0, { crl: toDead });
      const r = await checkRevocation({
        cert: der(partner().qwac.cert),
        issuer: qwacCa(),
        policy: 'hard-fail',
        at: new Date(Date.now() - 10 * MIN),
        fetcher,
      });
      assert.equal(r.result.status, 'unavailable');
      assert.match(r.findings[0]!.message, /thisUpdate .* is after the validation time/);
    });
  });

  describe('limits', () => {
    it('aborts an oversized OCSP response and uses the CRL; an oversized CRL leaves no status', async () => {
      const big = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.on('error', () => undefined);
        res.end(Buffer.alloc(2 * 1024 * 1024));
      });
      try {
        const toBig = (url: string) => big.url + new URL(url).pathname;
        const viaCrl = instrumented(http0, { ocsp: toBig });
        const r = await checkRevocation({ cert: der(partner().qwac.cert), issuer: qwacCa(), policy: 'hard-fail', at: new Date(), fetcher: viaCrl.fetcher });
        assert.deepEqual([r.result.status, r.result.source], ['good', 'crl']);

        const none = instrumented(http0, { ocsp: toBig, crl: toBig });
        const n = await checkRevocation({ cert: der(partner().qwac.cert), issuer: qwacCa(), policy: 'hard-fail', at: new Date(), fetcher: none.fetcher });
        assert.equal(n.result.status, 'unavailable');
        assert.match(n.findings[0]!.message, /OCSP .*65536 bytes/);
        assert.match(n.findings[0]!.message, /CRL .*1048576 bytes/);
      } finally {
        await big.close();
      }
    });

    it('gives up on a responder that never answers within the configured timeout', async () => {
      const hang = await serve(() => undefined);
      try {
        const quick = createHttpFetcher({ allowPrivateNetworks: true, timeoutMs: 300 });
        const toHang = (url: string) => hang.url + new URL(url).pathname;
        const { fetcher } = instrumented(quick, { ocsp: toHang, crl: toHang });
        const t0 = Date.now();
        const r = await checkRevocation({ cert: der(partner().qwac.cert), issuer: qwacCa(), policy: 'soft-fail', at: new Date(), fetcher });
        const elapsed = Date.now() - t0;
        assert.ok(elapsed < 2000, `took ${elapsed} ms`);
        assert.equal(r.result.status, 'unavailable');
        assert.deepEqual(codes(r.findings), ['revocation.unavailable']);
        assert.match(r.findings[0]!.message, /no answer within 300 ms/);
      } finally {
        await hang.close();
      }
    });

    it('refuses link-local OCSP and CRL URLs without connecting', async () => {
      const ca = pki.cas['qwac-ca'];
      const sneaky = await issueCertificate({
        subject: 'CN=sneaky.test, O=Sneaky, C=DE',
        issuer: ca,
        keyAlgorithm: 'EC-P256',
        notBefore: new Date(Date.now() - MIN),
        notAfter: new Date(Date.now() + 60 * MIN),
        ocspUrl: 'http://169.254.169.254/latest/meta-data/',
        crlUrl: 'http://[fe80::1]/ca.crl',
      });
      const t0 = Date.now();
      const r = await checkRevocation({ cert: der(sneaky.cert), issuer: qwacCa(), policy: 'hard-fail', at: new Date(), fetcher: http0 });
      assert.ok(Date.now() - t0 < 500);
      assert.equal(r.result.status, 'unavailable');
      assert.match(r.findings[0]!.message, /refused to connect to 169\.254\.169\.254: .*link-local/);
      assert.match(r.findings[0]!.message, /refused to connect to fe80::1: .*link-local/);
    });

    it('says so when the certificate names no OCSP responder and no CRL', async () => {
      const ca = pki.cas['qwac-ca'];
      const bare = await issueCertificate({
        subject: 'CN=bare.test, O=Bare, C=DE',
        issuer: ca,
        keyAlgorithm: 'EC-P256',
        notBefore: new Date(Date.now() - MIN),
        notAfter: new Date(Date.now() + 60 * MIN),
      });
      const { fetcher, calls } = instrumented(http0);
      const r = await checkRevocation({ cert: der(bare.cert), issuer: qwacCa(), policy: 'soft-fail', at: new Date(), fetcher });
      assert.equal(r.result.status, 'unavailable');
      assert.deepEqual(codes(r.findings), ['revocation.unavailable']);
      assert.equal(r.findings[0]!.severity, 'warning');
      assert.match(r.findings[0]!.message, /names neither an http OCSP responder .* nor an http CRL distribution point/);
      assert.deepEqual(calls, []);

      const ldapOnly = await issueCertificate({
        subject: 'CN=ldap.test, O=Ldap, C=DE',
        issuer: ca,
        keyAlgorithm: 'EC-P256',
        notBefore: new Date(Date.now() - MIN),
        notAfter: new Date(Date.now() + 60 * MIN),
        crlUrl: 'ldap://directory.example/cn=CA?certificateRevocationList',
      });
      const l = await checkRevocation({ cert: der(ldapOnly.cert), issuer: qwacCa(), policy: 'hard-fail', at: new Date(), fetcher });
      assert.match(l.findings[0]!.message, /only unsupported locations: ldap:\/\/directory\.example/);
      assert.equal(l.findings[0]!.severity, 'error');
    });

    it('never throws on undecodable input', async () => {
      const r = await checkRevocation({ cert: new Uint8Array([1, 2, 3]), issuer: qwacCa(), policy: 'hard-fail', at: new Date(), fetcher: http0 });
      assert.equal(r.result.status, 'unavailable');
      assert.deepEqual(codes(r.findings), ['revocation.unavailable']);
      const badClock = await checkRevocation({ cert: der(partner().qwac.cert), issuer: qwacCa(), policy: 'soft-fail', at: new Date(Number.NaN), fetcher: http0 });
      assert.deepEqual(badClock.result, { status: 'unavailable', source: null, checkedAt: null });
      assert.deepEqual(codes(badClock.findings), ['revocation.unavailable']);
    });
  });
});
