import assert from 'node:assert/strict';
import { validatePath } from '../../../src/eidas/chain/index.js';
import { x509 } from '../../../src/eidas/x509.js';
import {
  AT,
  anchorOf,
  codes,
  flipLastBit,
  hierarchy,
  issue,
  keys,
  NA,
  NB,
  nameConstraintsExtension,
  policyConstraintsExtension,
} from './helpers.js';

const serverAuth = '1.3.6.1.5.5.7.3.1';
const clientAuth = '1.3.6.1.5.5.7.3.2';

describe('chain/validatePath', function () {
  this.timeout(20_000);

  describe('building', () => {
    it('validates leaf → issuing CA → root anchor and reports the chain', async () => {
      const h = await hierarchy();
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(r.findings, []);
      assert.equal(r.path.length, 3);
      assert.deepEqual(r.path[2], h.root.der);
      assert.equal(r.anchor, h.anchor);
      assert.equal(r.chain.length, 3);
      assert.equal(r.chain[0]?.anchor, false);
      assert.equal(r.chain[2]?.anchor, true);
      assert.equal(r.chain[2]?.anchorSource, 'pem:test-root.pem');
      assert.match(r.chain[1]?.subject ?? '', /Test Issuing CA/);
      assert.equal(r.chain[0]?.serialNumber, h.leaf.cert.serialNumber.toLowerCase());
    });

    it('finds the path in an unordered pool with unrelated and duplicate certificates', async () => {
      const h = await hierarchy();
      const other = await hierarchy();
      const r = await validatePath({
        leaf: h.leaf.der,
        intermediates: [other.ca.der, h.root.der, other.leaf.der, h.ca.der, h.ca.der],
        anchors: [other.anchor, h.anchor],
        at: AT,
      });
      assert.deepEqual(codes(r.findings), []);
      assert.equal(r.anchor, h.anchor);
      assert.equal(r.path.length, 3);
    });

    it('accepts an issuing CA listed as the trust anchor (a TL service)', async () => {
      const h = await hierarchy();
      const caAnchor = anchorOf(h.ca, 'tl:DE:Test Issuing CA');
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [], anchors: [caAnchor], at: AT });
      assert.deepEqual(r.findings, []);
      assert.equal(r.path.length, 2);
      assert.equal(r.anchor, caAnchor);
    });

    it('prefers the currently valid one of two issuer certificates with the same name and key', async () => {
      const h = await hierarchy();
      const oldCa = await issue({
        subject: 'CN=Test Issuing CA, O=Chain Tests, C=DE',
        issuer: h.root,
        keys: h.ca.keys,
        ca: { pathLength: 0 },
        notBefore: new Date('2023-01-01T00:00:00Z'),
        notAfter: new Date('2024-01-01T00:00:00Z'),
      });
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [oldCa.der, h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(r.findings, []);
      assert.deepEqual(r.path[1], h.ca.der);
    });

    it('treats a submitted anchor certificate as a path of one', async () => {
      const h = await hierarchy();
      const r = await validatePath({ leaf: h.root.der, intermediates: [], anchors: [h.anchor], at: AT });
      assert.deepEqual(r.findings, []);
      assert.equal(r.path.length, 1);
      assert.equal(r.anchor, h.anchor);
    });

    it('matches issuer names case- and space-insensitively (RFC 5280 §7.1)', async () => {
      const root = await issue({ subject: 'CN=Name Root, O=Chain Tests, C=DE', ca: {} });
      const ca = await issue({ subject: 'CN=Mixed  Case CA, O=Chain Tests, C=DE', issuer: root, ca: {} });
      // The leaf's issuer name is written differently (case, spaces) from the CA's subject.
      const leafKeys = await keys();
      const leafCert = await x509.X509CertificateGenerator.create({
        serialNumber: '01',
        subject: 'CN=leaf.example.com',
        issuer: 'CN=mixed case ca, O=CHAIN TESTS, C=de',
        notBefore: NB,
        notAfter: NA,
        publicKey: leafKeys.publicKey,
        signingKey: ca.keys.privateKey,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      });
      const r = await validatePath({
        leaf: new Uint8Array(leafCert.rawData),
        intermediates: [ca.der],
        anchors: [anchorOf(root)],
        at: AT,
      });
      assert.deepEqual(codes(r.findings), []);
      assert.equal(r.path.length, 3);
    });
  });

  describe('no path', () => {
    it('names the missing intermediate: chain.incomplete', async () => {
      const h = await hierarchy();
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r.findings), ['chain.incomplete']);
      assert.match(r.findings[0]?.message ?? '', /Test Issuing CA/);
      assert.deepEqual(r.path, []);
      assert.equal(r.anchor, null);
      assert.deepEqual(r.chain, []);
    });

    it('reports a chain ending at a root that is not an anchor: chain.untrusted', async () => {
      const h = await hierarchy();
      const other = await hierarchy();
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [h.ca.der, h.root.der], anchors: [other.anchor], at: AT });
      assert.deepEqual(codes(r.findings), ['chain.untrusted']);
      assert.match(r.findings[0]?.message ?? '', /Test Root CA/);
    });

    it('reports the missing root DN when only leaf and CA are given and the root is not trusted', async () => {
      const h = await hierarchy();
      const other = await hierarchy();
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [h.ca.der], anchors: [other.anchor], at: AT });
      assert.deepEqual(codes(r.findings), ['chain.incomplete']);
      assert.match(r.findings[0]?.message ?? '', /Test Root CA/);
    });

    it('does not use an issuer whose SKI differs from the AKI (RFC 5280 §4.2.1.1)', async () => {
      const h = await hierarchy();
      const impostor = await issue({ subject: 'CN=Test Issuing CA, O=Chain Tests, C=DE', issuer: h.root, ca: {} });
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [impostor.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r.findings), ['chain.incomplete']);
      assert.match(r.findings[0]?.message ?? '', /key identifier/);
    });

    it("still reports the leaf's own validity without a path", async () => {
      const h = await hierarchy({ leaf: { notAfter: new Date('2025-03-01T00:00:00Z') } });
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r.findings), ['chain.incomplete', 'expired']);
      assert.equal(r.findings.find((f) => f.code === 'expired')?.certIndex, 0);
    });

    it('returns malformed for bytes that are not a certificate', async () => {
      const h = await hierarchy();
      const r = await validatePath({ leaf: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), intermediates: [], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r.findings), ['malformed']);
    });
  });

  describe('RFC 5280 §6.1 checks', () => {
    it('expired intermediate: expired on certIndex 1', async () => {
      const h = await hierarchy({ ca: { notAfter: new Date('2025-05-01T00:00:00Z') } });
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r.findings), ['expired']);
      assert.equal(r.findings[0]?.certIndex, 1);
      assert.equal(r.path.length, 3);
    });

    it('leaf not yet valid: not-yet-valid on certIndex 0', async () => {
      const h = await hierarchy({ leaf: { notBefore: new Date('2025-07-01T00:00:00Z') } });
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r.findings), ['not-yet-valid']);
      assert.equal(r.findings[0]?.certIndex, 0);
    });

    it('an expired anchor is reported as info only (RFC 5280 §6.1 does not check it)', async () => {
      const root = await issue({ subject: 'CN=Old Root', ca: {}, notAfter: new Date('2025-02-01T00:00:00Z') });
      const leaf = await issue({ subject: 'CN=leaf', issuer: root });
      const r = await validatePath({ leaf: leaf.der, intermediates: [], anchors: [anchorOf(root)], at: AT });
      assert.deepEqual(codes(r.findings), []);
      const info = r.findings.find((f) => f.code === 'expired');
      assert.equal(info?.severity, 'info');
      assert.equal(info?.certIndex, 1);
    });

    it('a bit-flipped signature: signature.invalid', async () => {
      const h = await hierarchy();
      const r = await validatePath({ leaf: flipLastBit(h.leaf.der), intermediates: [h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r.findings), ['signature.invalid']);
      assert.equal(r.findings[0]?.certIndex, 0);
      assert.equal(r.path.length, 3, 'the best (unverified) path is shown, with the error');
    });

    it('pathLenConstraint 0 with a second CA below: chain.path-length', async () => {
      const h = await hierarchy();
      const sub = await issue({ subject: 'CN=Sub CA', issuer: h.ca, ca: {} });
      const leaf = await issue({ subject: 'CN=leaf below sub', issuer: sub });
      const r = await validatePath({ leaf: leaf.der, intermediates: [sub.der, h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r.findings), ['chain.path-length']);
      assert.equal(r.findings[0]?.certIndex, 1);
      assert.match(r.findings[0]?.message ?? '', /Test Issuing CA/);
    });

    it('an intermediate without cA: chain.ca-invalid', async () => {
      const root = await issue({ subject: 'CN=Root', ca: {} });
      const notCa = await issue({ subject: 'CN=Not a CA', issuer: root, keyUsage: x509.KeyUsageFlags.keyCertSign });
      const leaf = await issue({ subject: 'CN=leaf', issuer: notCa });
      const r = await validatePath({ leaf: leaf.der, intermediates: [notCa.der], anchors: [anchorOf(root)], at: AT });
      assert.deepEqual(codes(r.findings), ['chain.ca-invalid']);
      assert.equal(r.findings[0]?.certIndex, 1);
    });

    it('a CA whose keyUsage lacks keyCertSign: chain.ca-invalid', async () => {
      const root = await issue({ subject: 'CN=Root', ca: {} });
      const ca = await issue({ subject: 'CN=CA', issuer: root, ca: {}, keyUsage: x509.KeyUsageFlags.cRLSign });
      const leaf = await issue({ subject: 'CN=leaf', issuer: ca });
      const r = await validatePath({ leaf: leaf.der, intermediates: [ca.der], anchors: [anchorOf(root)], at: AT });
      assert.deepEqual(codes(r.findings), ['chain.ca-invalid']);
      assert.match(r.findings[0]?.message ?? '', /keyCertSign/);
    });

    it('DNS name outside the permitted subtree: chain.name-constraints; inside: valid', async () => {
      const h = await hierarchy({ ca: { extraExtensions: [nameConstraintsExtension({ permittedDns: ['example.com'] })] } });
      const ok = await validatePath({ leaf: h.leaf.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(ok.findings), []);
      const bad = await issue({ subject: 'CN=evil', issuer: h.ca, san: { dns: ['api.evil.test'] } });
      const r = await validatePath({ leaf: bad.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r.findings), ['chain.name-constraints']);
      assert.match(r.findings[0]?.message ?? '', /api\.evil\.test/);
    });

    it('excluded DNS subtree and permitted directory names', async () => {
      const h = await hierarchy({
        ca: {
          extraExtensions: [
            nameConstraintsExtension({ excludedDns: ['internal.example.com'], permittedDn: ['C=DE, O=Example Bank'] }),
          ],
        },
      });
      const excluded = await issue({ subject: 'C=DE, O=Example Bank, CN=x', issuer: h.ca, san: { dns: ['a.internal.example.com'] } });
      const r1 = await validatePath({ leaf: excluded.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r1.findings), ['chain.name-constraints']);
      const wrongDn = await issue({ subject: 'C=DE, O=Other Bank, CN=x', issuer: h.ca, san: { dns: ['ok.example.com'] } });
      const r2 = await validatePath({ leaf: wrongDn.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r2.findings), ['chain.name-constraints']);
      const fine = await issue({ subject: 'C=DE, O=Example Bank, CN=y', issuer: h.ca, san: { dns: ['ok.example.com'] } });
      const r3 = await validatePath({ leaf: fine.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r3.findings), []);
    });

    it('name constraints of an anchor certificate apply (RFC 5937)', async () => {
      const root = await issue({ subject: 'CN=Constrained Root', ca: {}, extraExtensions: [nameConstraintsExtension({ permittedDns: ['example.com'] })] });
      const leaf = await issue({ subject: 'CN=x', issuer: root, san: { dns: ['www.example.org'] } });
      const r = await validatePath({ leaf: leaf.der, intermediates: [], anchors: [anchorOf(root)], at: AT });
      assert.deepEqual(codes(r.findings), ['chain.name-constraints']);
    });

    it('an unknown critical extension: critical-extension.unknown (leaf and CA)', async () => {
      const unknown = new x509.Extension('1.3.6.1.4.1.99999.1', true, new Uint8Array([0x05, 0x00]));
      const h = await hierarchy({ leaf: { extraExtensions: [unknown] } });
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r.findings), ['critical-extension.unknown']);
      assert.equal(r.findings[0]?.certIndex, 0);
      const h2 = await hierarchy({ ca: { extraExtensions: [unknown] } });
      const r2 = await validatePath({ leaf: h2.leaf.der, intermediates: [h2.ca.der], anchors: [h2.anchor], at: AT });
      assert.deepEqual(codes(r2.findings), ['critical-extension.unknown']);
      assert.equal(r2.findings[0]?.certIndex, 1);
      const nonCritical = new x509.Extension('1.3.6.1.4.1.99999.1', false, new Uint8Array([0x05, 0x00]));
      const h3 = await hierarchy({ leaf: { extraExtensions: [nonCritical] } });
      const r3 = await validatePath({ leaf: h3.leaf.der, intermediates: [h3.ca.der], anchors: [h3.anchor], at: AT });
      assert.deepEqual(codes(r3.findings), []);
    });

    it('a CA restricted to serverAuth and a leaf asserting clientAuth: chain.eku-mismatch', async () => {
      const h = await hierarchy({ ca: { eku: [serverAuth] } });
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r.findings), ['chain.eku-mismatch']);
      assert.match(r.findings[0]?.message ?? '', /1\.3\.6\.1\.5\.5\.7\.3\.2/);
      const ok = await issue({ subject: 'CN=tls only', issuer: h.ca, eku: [serverAuth] });
      const r2 = await validatePath({ leaf: ok.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r2.findings), []);
      const both = await hierarchy({ ca: { eku: [serverAuth, clientAuth] } });
      const r3 = await validatePath({ leaf: both.leaf.der, intermediates: [both.ca.der], anchors: [both.anchor], at: AT });
      assert.deepEqual(codes(r3.findings), []);
    });

    it('requireExplicitPolicy 0 and a leaf without policies: chain.policy', async () => {
      const h = await hierarchy({ ca: { policies: ['2.5.29.32.0'], extraExtensions: [policyConstraintsExtension(0)] } });
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r.findings), ['chain.policy']);
      const withPolicy = await issue({ subject: 'CN=with policy', issuer: h.ca, policies: ['0.4.0.194112.1.4'] });
      const r2 = await validatePath({ leaf: withPolicy.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r2.findings), []);
    });
  });

  describe('bounds', () => {
    it('A ↔ B cross-signed loop: chain.limit-exceeded within a second', async () => {
      const ka = await keys();
      const kb = await keys();
      const seedA = await issue({ subject: 'CN=Loop A', keys: ka, ca: {} });
      const seedB = await issue({ subject: 'CN=Loop B', keys: kb, ca: {} });
      const aByB = await issue({ subject: 'CN=Loop A', keys: ka, issuer: seedB, ca: {} });
      const bByA = await issue({ subject: 'CN=Loop B', keys: kb, issuer: seedA, ca: {} });
      const leaf = await issue({ subject: 'CN=leaf in loop', issuer: aByB });
      const other = await hierarchy();
      const t0 = performance.now();
      const r = await validatePath({ leaf: leaf.der, intermediates: [aByB.der, bByA.der], anchors: [other.anchor], at: AT });
      assert.ok(performance.now() - t0 < 1000);
      assert.deepEqual(codes(r.findings), ['chain.limit-exceeded']);
      assert.match(r.findings[0]?.message ?? '', /loop/);
    });

    it('a loop next to a real path still finds the path', async () => {
      const root = await issue({ subject: 'CN=Loop Root', ca: {} });
      const ka = await keys();
      const kb = await keys();
      const seedA = await issue({ subject: 'CN=Loop A', keys: ka, ca: {} });
      const seedB = await issue({ subject: 'CN=Loop B', keys: kb, ca: {} });
      const aByB = await issue({ subject: 'CN=Loop A', keys: ka, issuer: seedB, ca: {} });
      const bByA = await issue({ subject: 'CN=Loop B', keys: kb, issuer: seedA, ca: {} });
      const aByRoot = await issue({ subject: 'CN=Loop A', keys: ka, issuer: root, ca: {} });
      const leaf = await issue({ subject: 'CN=leaf', issuer: aByB });
      const r = await validatePath({ leaf: leaf.der, intermediates: [aByB.der, bByA.der, aByRoot.der], anchors: [anchorOf(root)], at: AT });
      assert.deepEqual(codes(r.findings), []);
      assert.equal(r.path.length, 3);
    });

    it('100 candidate issuers with the same name and key: chain.limit-exceeded within a second', async () => {
      const caKeys = await keys();
      const orphanRoot = await issue({ subject: 'CN=Orphan Root 0', ca: {} });
      const decoys = [];
      for (let i = 0; i < 100; i++) {
        // Same name and key, different certificates (e.g. cross-certificates), all issued by a missing root.
        decoys.push(await issue({ subject: 'CN=Popular CA', keys: caKeys, issuer: orphanRoot, ca: {}, serialNumber: (i + 1).toString(16).padStart(2, '0') }));
      }
      const leaf = await issue({ subject: 'CN=leaf', issuer: decoys[0] });
      const other = await hierarchy();
      const t0 = performance.now();
      const r = await validatePath({ leaf: leaf.der, intermediates: decoys.map((d) => d.der), anchors: [other.anchor], at: AT });
      const ms = performance.now() - t0;
      assert.ok(ms < 1000, `took ${ms} ms`);
      assert.deepEqual(codes(r.findings), ['chain.limit-exceeded']);
      assert.match(r.findings[0]?.message ?? '', /50 candidate/);
    });

    it('a path of 20 CAs: chain.limit-exceeded within a second (maxDepth 8)', async () => {
      const root = await issue({ subject: 'CN=Deep Root', ca: {} });
      const chain = [root];
      for (let i = 1; i <= 20; i++) {
        chain.push(await issue({ subject: `CN=Deep CA ${i}`, issuer: chain[chain.length - 1], ca: {} }));
      }
      const leaf = await issue({ subject: 'CN=deep leaf', issuer: chain[chain.length - 1] });
      const t0 = performance.now();
      const r = await validatePath({ leaf: leaf.der, intermediates: chain.slice(1).map((c) => c.der), anchors: [anchorOf(root)], at: AT });
      assert.ok(performance.now() - t0 < 1000);
      assert.deepEqual(codes(r.findings), ['chain.limit-exceeded']);
      assert.match(r.findings[0]?.message ?? '', /longer than 8/);
      const deep = await validatePath({
        leaf: leaf.der,
        intermediates: chain.slice(1).map((c) => c.der),
        anchors: [anchorOf(root)],
        at: AT,
        limits: { maxDepth: 25 },
      });
      assert.deepEqual(codes(deep.findings), []);
      assert.equal(deep.path.length, 22);
    });
  });
});
