import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CertificateChoices,
  CertificateSet,
  CMSVersion,
  ContentInfo,
  DigestAlgorithmIdentifiers,
  EncapsulatedContentInfo,
  id_data,
  id_signedData,
  SignedData,
  SignerInfos,
} from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import forge from 'node-forge';
import { type CryptoKeyPair, generateKeys, issueCertificate } from '../../src/devpki/builder.js';
import { parseCertificate } from '../../src/eidas/certificate.js';
import { INPUT_LIMITS, readCertificates } from '../../src/eidas/input.js';
import type { x509 } from '../../src/eidas/x509.js';

const DAY = 86_400_000;
const now = new Date();

/** Asserts a failed read with the given code and that it took less than `ms`. */
function expectFailure(run: () => { ok: boolean; finding?: { code: string; message: string } }, code: string, ms = 1000) {
  const t0 = performance.now();
  const r = run();
  const elapsed = performance.now() - t0;
  assert.equal(r.ok, false, 'expected a finding');
  assert.equal(r.finding?.code, code, r.finding?.message);
  assert.ok(elapsed < ms, `took ${elapsed.toFixed(0)} ms`);
  return r.finding?.message ?? '';
}

/**
 * readCertificates, then parseCertificate on what it returned: a plain PEM CERTIFICATE block is passed
 * on undecoded and its structure is checked once, by parseCertificate.
 */
function readThenParse(input: Uint8Array | string) {
  const read = readCertificates(input);
  if (!read.ok) return read;
  return parseCertificate(read.ders[0]!);
}

function pem(label: string, der: Uint8Array, eol = '\n'): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, `$&${eol}`);
  return `-----BEGIN ${label}-----${eol}${b64}${b64.endsWith(eol) ? '' : eol}-----END ${label}-----${eol}`;
}

function pkcs7(ders: Uint8Array[]): Uint8Array {
  const sd = new SignedData({
    version: CMSVersion.v1,
    digestAlgorithms: new DigestAlgorithmIdentifiers(),
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: id_data }),
    certificates: new CertificateSet(ders.map((d) => new CertificateChoices({ certificate: AsnConvert.parse(d, Certificate) }))),
    signerInfos: new SignerInfos(),
  });
  return new Uint8Array(AsnConvert.serialize(new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(sd) })));
}

function nestedSequences(depth: number): Uint8Array {
  let inner = Buffer.from([0x05, 0x00]);
  for (let i = 0; i < depth; i++) {
    const len = inner.length;
    const header =
      len < 0x80 ? [0x30, len] : len < 0x100 ? [0x30, 0x81, len] : len < 0x10000 ? [0x30, 0x82, len >> 8, len & 0xff] : [0x30, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff];
    inner = Buffer.concat([Buffer.from(header), inner]);
  }
  return new Uint8Array(inner);
}

describe('eidas input: readCertificates and parseCertificate', () => {
  let caKeys: CryptoKeyPair;
  let ca: x509.X509Certificate;
  let leaf: x509.X509Certificate;
  let leafDer: Uint8Array;
  let caDer: Uint8Array;

  before(async () => {
    caKeys = await generateKeys('EC-P256');
    ca = (await issueCertificate({ subject: 'CN=Test CA, O=QTSP, C=DE', keys: caKeys, ca: {}, notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + 30 * DAY) })).cert;
    leaf = (
      await issueCertificate({
        subject: 'CN=api.tpp.example, O=TPP, 2.5.4.97=PSDDE-BAFIN-1, C=DE',
        keys: await generateKeys('EC-P256'),
        issuer: { cert: ca, keys: caKeys },
        notBefore: new Date(now.getTime() - DAY),
        notAfter: new Date(now.getTime() + 30 * DAY),
      })
    ).cert;
    leafDer = new Uint8Array(leaf.rawData);
    caDer = new Uint8Array(ca.rawData);
  });

  const same = (a: Uint8Array | undefined, b: Uint8Array) => assert.ok(a && Buffer.from(a).equals(Buffer.from(b)), 'DER differs');

  describe('formats', () => {
    it('reads a single PEM certificate (string and bytes)', () => {
      for (const input of [pem('CERTIFICATE', leafDer), Buffer.from(pem('CERTIFICATE', leafDer))]) {
        const r = readCertificates(input);
        assert.ok(r.ok);
        assert.equal(r.ders.length, 1);
        same(r.ders[0], leafDer);
      }
    });

    it('reads a PEM bundle with CRLF, text around the blocks and a private key, in the order given', () => {
      const text = `Bag Attributes\r\n    friendlyName: tpp\r\n${pem('CERTIFICATE', leafDer, '\r\n')}\r\nsome text\r\n${pem('PRIVATE KEY', new Uint8Array([0x30, 0x00]), '\r\n')}${pem('CERTIFICATE', caDer, '\r\n')}trailing`;
      const r = readCertificates(text);
      assert.ok(r.ok);
      assert.equal(r.ders.length, 2);
      same(r.ders[0], leafDer);
      same(r.ders[1], caDer);
    });

    it('reads DER, concatenated DER and bare base64', () => {
      const one = readCertificates(leafDer);
      assert.ok(one.ok);
      same(one.ders[0], leafDer);
      const two = readCertificates(new Uint8Array(Buffer.concat([leafDer, caDer])));
      assert.ok(two.ok);
      assert.equal(two.ders.length, 2);
      same(two.ders[1], caDer);
      const b64 = readCertificates(Buffer.from(leafDer).toString('base64'));
      assert.ok(b64.ok);
      same(b64.ders[0], leafDer);
    });

    it('reads a PKCS#7 bundle (DER and PEM) and puts the leaf first', () => {
      const p7 = pkcs7([caDer, leafDer]);
      for (const input of [p7, pem('PKCS7', p7)]) {
        const r = readCertificates(input);
        assert.ok(r.ok, r.ok ? '' : r.finding.message);
        assert.equal(r.ders.length, 2);
        same(r.ders[0], leafDer);
        same(r.ders[1], caDer);
      }
    });

    it('a PKCS#7 bundle without certificates is malformed', () => {
      expectFailure(() => readCertificates(pkcs7([])), 'malformed');
    });

    describe('PKCS#12', () => {
      let p12: Uint8Array;
      let rsaLeafDer: Uint8Array;
      before(async function () {
        this.timeout(30000);
        // node-forge writes PKCS#12 for RSA only.
        const rsa = await issueCertificate({
          subject: 'CN=api.tpp.example, O=TPP, C=DE',
          keyAlgorithm: 'RSA-2048',
          notBefore: new Date(now.getTime() - DAY),
          notAfter: new Date(now.getTime() + 30 * DAY),
        });
        rsaLeafDer = new Uint8Array(rsa.cert.rawData);
        const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', rsa.keys.privateKey));
        const key = forge.pki.privateKeyFromPem(pem('PRIVATE KEY', pkcs8)) as forge.pki.rsa.PrivateKey;
        const cert = forge.pki.certificateFromPem(pem('CERTIFICATE', rsaLeafDer));
        const asn1 = forge.pkcs12.toPkcs12Asn1(key, [cert], 'secret', { algorithm: 'aes256' });
        p12 = new Uint8Array(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'));
      });

      it('reads the certificate with the right password and never returns the key', () => {
        const r = readCertificates(p12, { password: 'secret' });
        assert.ok(r.ok, r.ok ? '' : r.finding.message);
        assert.equal(r.ders.length, 1);
        same(r.ders[0], rsaLeafDer);
        assert.deepEqual(Object.keys(r), ['ok', 'ders']);
      });

      it('a wrong or missing password is input.password', () => {
        assert.match(expectFailure(() => readCertificates(p12, { password: 'wrong' }), 'input.password'), /password given/);
        assert.match(expectFailure(() => readCertificates(p12), 'input.password'), /no password was given/);
      });

      it('a hostile iteration count is refused before any key derivation', () => {
        // Raise the MAC iteration count (macData.iterations) to 10^9.
        const asn1 = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(p12).toString('binary')));
        const macData = (asn1.value as forge.asn1.Asn1[])[2];
        assert.ok(macData);
        const iterations = (macData.value as forge.asn1.Asn1[])[2];
        assert.ok(iterations);
        iterations.value = forge.asn1.integerToDer(1_000_000_000).getBytes();
        const hostile = new Uint8Array(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'));
        assert.match(expectFailure(() => readCertificates(hostile, { password: 'secret' }), 'malformed', 500), /1000000000 key-derivation iterations/);
      });

      it('reads an OpenSSL 3 PKCS#12 with an EC key (PBES2/AES, SHA-256 MAC)', async function () {
        try {
          execFileSync('openssl', ['version'], { stdio: 'ignore' });
        } catch {
          this.skip();
        }
        const dir = mkdtempSync(join(tmpdir(), 'p12-'));
        try {
          const keys = await generateKeys('EC-P256');
          const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
          const { cert } = await issueCertificate({ subject: 'CN=ec.tpp.example, O=TPP, C=DE', keys, notBefore: now, notAfter: new Date(now.getTime() + DAY) });
          writeFileSync(join(dir, 'key.pem'), pem('PRIVATE KEY', pkcs8), { mode: 0o600 });
          writeFileSync(join(dir, 'cert.pem'), pem('CERTIFICATE', new Uint8Array(cert.rawData)) + pem('CERTIFICATE', caDer));
          execFileSync('openssl', ['pkcs12', '-export', '-in', join(dir, 'cert.pem'), '-inkey', join(dir, 'key.pem'), '-out', join(dir, 'x.p12'), '-passout', 'pass:pw'], { stdio: 'ignore' });
          const r = readCertificates(readFileSync(join(dir, 'x.p12')), { password: 'pw' });
          assert.ok(r.ok, r.ok ? '' : r.finding.message);
          assert.equal(r.ders.length, 2);
          same(r.ders[0], new Uint8Array(cert.rawData));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  });

  describe('hostile input', () => {
    it('garbage is malformed', () => {
      expectFailure(() => readCertificates(new Uint8Array(webcrypto.getRandomValues(new Uint8Array(4096)).map((b) => (b === 0x30 ? 0x31 : b)))), 'malformed');
      expectFailure(() => readCertificates(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])), 'malformed');
      expectFailure(() => readCertificates('hello world'), 'malformed');
      expectFailure(() => readCertificates(''), 'malformed');
      expectFailure(() => parseCertificate(new Uint8Array([1, 2, 3])), 'malformed');
    });

    it('truncated DER is malformed', () => {
      const half = leafDer.subarray(0, Math.floor(leafDer.length / 2));
      assert.match(expectFailure(() => readCertificates(half), 'malformed'), /not valid DER/);
      expectFailure(() => parseCertificate(half), 'malformed');
      expectFailure(() => readCertificates(pem('CERTIFICATE', leafDer).slice(0, 200)), 'malformed');
      expectFailure(() => readThenParse(pem('CERTIFICATE', half)), 'malformed');
    });

    it('trailing bytes after a certificate are malformed', () => {
      expectFailure(() => readCertificates(new Uint8Array([...leafDer, 0x00, 0x01])), 'malformed');
      expectFailure(() => parseCertificate(new Uint8Array([...leafDer, 0x00])), 'malformed');
    });

    it('a 5 MB blob is refused at once', () => {
      const blob = new Uint8Array(5 * 1024 * 1024).fill(0x30);
      assert.match(expectFailure(() => readCertificates(blob), 'malformed', 100), /larger than/);
      expectFailure(() => readCertificates('A'.repeat(5 * 1024 * 1024)), 'malformed', 100);
      expectFailure(() => parseCertificate(blob), 'malformed', 100);
    });

    it('10,000-deep nested SEQUENCEs are malformed', () => {
      const deep = nestedSequences(10_000);
      expectFailure(() => readCertificates(deep), 'malformed');
      expectFailure(() => parseCertificate(deep), 'malformed');
      expectFailure(() => readThenParse(pem('CERTIFICATE', deep)), 'malformed');
    });

    it('a certificate with 10,000 SANs is malformed, quickly', async function () {
      this.timeout(20000);
      const dns = Array.from({ length: 10_000 }, (_, i) => `h${i}.tpp.example`);
      const { cert } = await issueCertificate({ subject: 'CN=many', keys: await generateKeys('EC-P256'), notBefore: now, notAfter: new Date(now.getTime() + DAY), san: { dns } });
      const der = new Uint8Array(cert.rawData);
      const read = readCertificates(der);
      assert.ok(read.ok);
      assert.match(expectFailure(() => parseCertificate(der), 'malformed'), /too large \(more than 1000 names\)/);
    });

    it('many PEM BEGIN lines without END lines stay linear', () => {
      const text = '-----BEGIN CERTIFICATE-----\nAAAA\n'.repeat(20_000);
      expectFailure(() => readCertificates(text), 'malformed');
    });

    it('more than 20 certificates are refused', () => {
      const many = Array.from({ length: INPUT_LIMITS.maxCertificates + 1 }, () => pem('CERTIFICATE', caDer)).join('');
      assert.match(expectFailure(() => readCertificates(many), 'malformed'), /more than 20 certificates/);
      expectFailure(() => readCertificates(new Uint8Array(Buffer.concat(Array.from({ length: 21 }, () => caDer)))), 'malformed');
    });

    it('a PEM without certificate blocks is malformed', () => {
      assert.match(expectFailure(() => readCertificates(pem('PRIVATE KEY', new Uint8Array([0x30, 0x00]))), 'malformed'), /no CERTIFICATE or PKCS7 block/);
    });
  });

  describe('parseCertificate', () => {
    it('models the certificate once: names, validity, key, extensions', () => {
      const r = parseCertificate(leafDer);
      assert.ok(r.ok);
      const c = r.cert;
      assert.equal(c.subject, leaf.subject);
      assert.equal(c.issuer, ca.subject);
      assert.equal(c.serialNumber, leaf.serialNumber);
      assert.equal(c.version, 3);
      assert.equal(c.notAfter.getTime(), leaf.notAfter.getTime());
      assert.match(c.sha256, /^[0-9a-f]{64}$/);
      assert.equal(c.publicKey.algorithm, 'EC');
      assert.equal(c.signatureAlgorithm.hash, 'SHA-256');
      assert.ok(c.extensions.some((e) => e.oid === '2.5.29.35'));
      const orgId = c.subjectAttributes.find((a) => a.oid === '2.5.4.97');
      assert.equal(orgId?.value, 'PSDDE-BAFIN-1');
      assert.ok(orgId && ['utf8', 'printable'].includes(orgId.tag));
      assert.ok(c.x509.equal(leaf));
    });

    it('keeps the first 100 dNSNames and counts the rest', async () => {
      const dns = Array.from({ length: 300 }, (_, i) => `h${i}.tpp.example`);
      const { cert } = await issueCertificate({ subject: 'CN=some', keys: caKeys, notBefore: now, notAfter: new Date(now.getTime() + DAY), san: { dns } });
      const r = parseCertificate(new Uint8Array(cert.rawData));
      assert.ok(r.ok);
      assert.equal(r.cert.subjectAltName?.dnsNames.length, 100);
      assert.equal(r.cert.subjectAltName?.dnsCount, 300);
    });
  });
});
