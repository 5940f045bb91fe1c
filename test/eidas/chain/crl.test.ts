import assert from 'node:assert/strict';
import { buildCrl, type CrlEntry } from '../../../src/devpki/crl.js';
import { verifyCrlStatus } from '../../../src/eidas/chain/crl.js';
import { validatePath } from '../../../src/eidas/chain/index.js';
import { x509 } from '../../../src/eidas/x509.js';
import { AT, codes, hierarchy, type Issued, issue } from './helpers.js';

async function crlOf(issuer: Issued, entries: CrlEntry[] = [], opts: { thisUpdate?: Date; nextUpdate?: Date } = {}) {
  const crl = await buildCrl({
    issuer: { cert: issuer.cert, keys: issuer.keys },
    entries,
    thisUpdate: opts.thisUpdate ?? new Date('2025-05-01T00:00:00Z'),
    nextUpdate: opts.nextUpdate ?? new Date('2025-07-01T00:00:00Z'),
    crlNumber: 1,
  });
  return new Uint8Array(crl.rawData);
}

const revokedAt = new Date('2025-05-15T00:00:00Z');

describe('chain/crl', function () {
  this.timeout(20_000);

  describe('verifyCrlStatus', () => {
    it('good when the serial is not listed, with the CRL times', async () => {
      const h = await hierarchy();
      const crl = await crlOf(h.ca);
      const r = await verifyCrlStatus({ cert: h.leaf.der, issuer: h.ca.der, crl, at: AT });
      assert.equal(r.status, 'good');
      assert.equal(r.thisUpdate?.toISOString(), '2025-05-01T00:00:00.000Z');
      assert.equal(r.nextUpdate?.toISOString(), '2025-07-01T00:00:00.000Z');
    });

    it('revoked with date and reason when listed', async () => {
      const h = await hierarchy();
      const crl = await crlOf(h.ca, [{ serial: h.leaf.cert.serialNumber, revokedAt, reason: 'keyCompromise' }]);
      const r = await verifyCrlStatus({ cert: h.leaf.der, issuer: h.ca.der, crl, at: AT });
      assert.equal(r.status, 'revoked');
      assert.equal(r.revokedAt?.toISOString(), revokedAt.toISOString());
      assert.equal(r.reason, 'keyCompromise');
    });

    it('invalid when signed by another key with the same name', async () => {
      const h = await hierarchy();
      const impostor = await issue({ subject: 'CN=Test Issuing CA, O=Chain Tests, C=DE', ca: {} });
      const crl = await crlOf(impostor);
      const r = await verifyCrlStatus({ cert: h.leaf.der, issuer: h.ca.der, crl, at: AT });
      assert.equal(r.status, 'invalid');
      assert.match(r.error ?? '', /authority key identifier|signature/);
    });

    it('invalid when nextUpdate has passed', async () => {
      const h = await hierarchy();
      const crl = await crlOf(h.ca, [], { thisUpdate: new Date('2025-04-01T00:00:00Z'), nextUpdate: new Date('2025-05-01T00:00:00Z') });
      const r = await verifyCrlStatus({ cert: h.leaf.der, issuer: h.ca.der, crl, at: AT });
      assert.equal(r.status, 'invalid');
      assert.match(r.error ?? '', /expired/);
    });

    it("invalid when the CRL is not the certificate issuer's", async () => {
      const h = await hierarchy();
      const crl = await crlOf(h.root);
      const r = await verifyCrlStatus({ cert: h.leaf.der, issuer: h.ca.der, crl, at: AT });
      assert.equal(r.status, 'invalid');
    });

    it('invalid when the issuer key may not sign CRLs (keyUsage without cRLSign)', async () => {
      const h = await hierarchy({ ca: { keyUsage: x509.KeyUsageFlags.keyCertSign } });
      const crl = await crlOf(h.ca);
      const r = await verifyCrlStatus({ cert: h.leaf.der, issuer: h.ca.der, crl, at: AT });
      assert.equal(r.status, 'invalid');
      assert.match(r.error ?? '', /cRLSign/);
    });

    it('invalid, never a throw, for bytes that are not a CRL', async () => {
      const h = await hierarchy();
      const r = await verifyCrlStatus({ cert: h.leaf.der, issuer: h.ca.der, crl: new Uint8Array([1, 2, 3]), at: AT });
      assert.equal(r.status, 'invalid');
      const r2 = await verifyCrlStatus({ cert: new Uint8Array(0), issuer: h.ca.der, crl: new Uint8Array([1]), at: AT });
      assert.equal(r2.status, 'invalid');
    });
  });

  describe('validatePath with offline CRLs', () => {
    it('no findings when every certificate is covered and good', async () => {
      const h = await hierarchy();
      const crls = [await crlOf(h.ca), await crlOf(h.root)];
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT, crls });
      assert.deepEqual(codes(r.findings), []);
    });

    it('revoked leaf: revoked on certIndex 0', async () => {
      const h = await hierarchy();
      const crls = [await crlOf(h.ca, [{ serial: h.leaf.cert.serialNumber, revokedAt, reason: 'keyCompromise' }]), await crlOf(h.root)];
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT, crls });
      assert.deepEqual(codes(r.findings), ['revoked']);
      assert.equal(r.findings[0]?.certIndex, 0);
      assert.match(r.findings[0]?.message ?? '', /keyCompromise/);
    });

    it('revoked intermediate: revoked on certIndex 1', async () => {
      const h = await hierarchy();
      const crls = [await crlOf(h.ca), await crlOf(h.root, [{ serial: h.ca.cert.serialNumber, revokedAt, reason: 'cACompromise' }])];
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT, crls });
      assert.deepEqual(codes(r.findings), ['revoked']);
      assert.equal(r.findings[0]?.certIndex, 1);
    });

    it('a certificate no supplied CRL covers: revocation.unavailable', async () => {
      const h = await hierarchy();
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT, crls: [await crlOf(h.ca)] });
      assert.deepEqual(codes(r.findings), ['revocation.unavailable']);
      assert.equal(r.findings[0]?.certIndex, 1);
    });

    it('without crls no revocation check is made', async () => {
      const h = await hierarchy();
      const r = await validatePath({ leaf: h.leaf.der, intermediates: [h.ca.der], anchors: [h.anchor], at: AT });
      assert.deepEqual(codes(r.findings), []);
    });
  });
});
