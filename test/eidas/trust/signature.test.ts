import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  announcedSigners,
  type Lotl,
  parseLotl,
  type SignatureCheck,
  verifyNationalList,
  verifyTrustedListSignature,
} from '../../../src/eidas/trust/index.js';
import { buildList, makeSigner, type Signer, signList } from './tl-builder.js';

const TL_DIR = process.env.TRUSTED_LISTS_DIR ?? '../shared/fixtures/trusted-lists';
const AT_2019 = new Date('2019-09-15T00:00:00Z');

function fixture(ctx: Mocha.Context, name: string): Buffer {
  const file = path.join(TL_DIR, name);
  if (!existsSync(file)) ctx.skip();
  return readFileSync(file);
}

function assertFails(res: SignatureCheck, code: string, reason?: RegExp): void {
  assert.equal(res.ok, false, 'expected a failed signature check');
  if (res.ok) return;
  assert.equal(res.code, code, res.reason);
  if (reason) assert.match(res.reason, reason);
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('eidas/trust: trusted-list signatures (real EU lists)', () => {
  let lotl: Lotl;
  before(function () {
    const file = path.join(TL_DIR, 'eu-lotl-sn248.xml');
    if (!existsSync(file)) this.skip();
    lotl = parseLotl(readFileSync(file), { at: AT_2019 });
  });

  it('LOTL 248 verifies with one of the 8 certificates of its own EU pointer', async function () {
    const eu = announcedSigners(lotl, 'EU');
    assert.equal(eu.length, 8);
    const res = await verifyTrustedListSignature(fixture(this, 'eu-lotl-sn248.xml'), eu);
    assert.ok(res.ok, res.ok ? '' : res.reason);
    assert.ok(eu.some((c) => sha(c) === sha(res.signer)));
  });

  for (const [file, territory] of [
    ['tl-cz-sn77.xml', 'CZ'],
    ['tl-el-sn42.xml', 'EL'],
    ['tl-lu-sn37.xml', 'LU'],
    ['tl-be-sn43.xml', 'BE'], // Reference URI="#TSL-BE-2019-T2v2" (by Id)
  ] as const) {
    it(`${territory}: signed by a key LOTL 248 announces for ${territory}`, async function () {
      const res = await verifyNationalList(fixture(this, file), lotl);
      assert.ok(res.ok, res.ok ? '' : res.reason);
      assert.ok(announcedSigners(lotl, territory).some((c) => sha(c) === sha(res.signer)));
    });
  }

  it('FI 2024: the signature holds but its signer is not announced in LOTL 248', async function () {
    const xml = fixture(this, 'tl-fi-sn49-2024.xml');
    const res = await verifyNationalList(xml, lotl);
    assertFails(res, 'tl.signer-not-announced', /NCSC-FI_B/);
    // Cryptographically valid: it verifies when its own certificate is allowed.
    assert.ok(!res.ok && res.signer);
    const own = await verifyTrustedListSignature(xml, [res.signer!]);
    assert.ok(own.ok);
  });

  it('a list checked against another territory’s keys is not accepted', async function () {
    const res = await verifyTrustedListSignature(fixture(this, 'tl-lu-sn37.xml'), announcedSigners(lotl, 'CZ'));
    assertFails(res, 'tl.signer-not-announced');
  });

  it('the broken-signature LOTL fails with tl.signature-invalid (digest mismatch)', async function () {
    const res = await verifyTrustedListSignature(fixture(this, 'bad-eu-lotl-sn248-broken-sig.xml'), announcedSigners(lotl, 'EU'));
    assertFails(res, 'tl.signature-invalid', /digest/i);
  });

  it('the not-parsable LOTL fails with tl.malformed', async function () {
    const res = await verifyTrustedListSignature(fixture(this, 'bad-eu-lotl-sn248-not-parsable.xml'), announcedSigners(lotl, 'EU'));
    assertFails(res, 'tl.malformed');
  });
});

describe('eidas/trust: trusted-list signatures (synthetic)', () => {
  let signer: Signer;
  let other: Signer;
  let ca: Signer;
  let xml: string;
  let signed: string;
  before(async () => {
    [signer, other, ca] = await Promise.all([makeSigner('ZZ TL signer'), makeSigner('Someone else'), makeSigner('ZZ CA')]);
    xml = buildList({
      territory: 'ZZ',
      services: [{ name: 'CA', status: 'withdrawn', start: '2019-01-01T00:00:00Z', certs: [ca.der] }],
    });
    signed = await signList(xml, signer);
  });

  it('accepts the list signed by an allowed key (URI "" and URI "#root Id")', async () => {
    const a = await verifyTrustedListSignature(signed, [other.der, signer.der]);
    assert.ok(a.ok && sha(a.signer) === sha(signer.der));
    const b = await verifyTrustedListSignature(await signList(xml, signer, { uri: 'id' }), [signer.der]);
    assert.ok(b.ok);
  });

  it('finds the signer among the allowed keys when KeyInfo carries no certificate', async () => {
    const res = await verifyTrustedListSignature(await signList(xml, signer, { keyInfo: false }), [other.der, signer.der]);
    assert.ok(res.ok && sha(res.signer) === sha(signer.der));
    assertFails(await verifyTrustedListSignature(await signList(xml, signer, { keyInfo: false }), [other.der]), 'tl.signature-invalid');
  });

  it('reports a valid signature by a key that is not allowed as tl.signer-not-announced', async () => {
    const res = await verifyTrustedListSignature(signed, [other.der]);
    assertFails(res, 'tl.signer-not-announced', /ZZ TL signer/);
  });

  it('detects a service status changed after signing', async () => {
    const tampered = signed.replace('Svcstatus/withdrawn', 'Svcstatus/granted');
    assert.notEqual(tampered, signed);
    assertFails(await verifyTrustedListSignature(tampered, [signer.der]), 'tl.signature-invalid', /digest/i);
  });

  it('refuses an unsigned list', async () => {
    assertFails(await verifyTrustedListSignature(xml, [signer.der]), 'tl.signature-invalid', /not signed/);
  });

  it('refuses a XAdES SigningCertificate that names another certificate', async () => {
    const res = await verifyTrustedListSignature(await signList(xml, signer, { signingCertDigestOf: other.der }), [signer.der]);
    assertFails(res, 'tl.signature-invalid', /SigningCertificate/);
  });

  it('refuses SHA-1 / HMAC signature methods and foreign transforms before any crypto', async () => {
    const rsaSha1 = signed.replace(
      'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
      'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
    );
    assertFails(await verifyTrustedListSignature(rsaSha1, [signer.der]), 'tl.unsupported', /signature method/);
    const hmac = signed.replace(
      'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
      'http://www.w3.org/2000/09/xmldsig#hmac-sha1',
    );
    assertFails(await verifyTrustedListSignature(hmac, [signer.der]), 'tl.unsupported');
    const xpath = signed.replace(
      '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>',
      '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"/>',
    );
    assertFails(await verifyTrustedListSignature(xpath, [signer.der]), 'tl.unsupported', /transform/);
  });

  it('refuses signature-wrapping shapes', async () => {
    // A signature that is not a child of the root.
    const nested = signed
      .replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, '')
      .replace('</SchemeInformation>', `</SchemeInformation><Wrapper>${/<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signed)![0]}</Wrapper>`);
    assertFails(await verifyTrustedListSignature(nested, [signer.der]), 'tl.signature-invalid', /not a child/);
    // A reference to an element other than the root.
    const partial = signed.replace('<ds:Reference URI="">', '<ds:Reference URI="#SchemeInfo">').replace('<SchemeInformation>', '<SchemeInformation Id="SchemeInfo">');
    assertFails(await verifyTrustedListSignature(partial, [signer.der]), 'tl.signature-invalid', /whole list/);
    // Two signatures.
    const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signed)![0];
    const twice = signed.replace('</TrustServiceStatusList>', `${sig.replace(/Id="sig-1"/, 'Id="sig-2"')}</TrustServiceStatusList>`);
    assertFails(await verifyTrustedListSignature(twice, [signer.der]), 'tl.signature-invalid', /more than one/);
    // Duplicate Id: a second element carrying the root's Id.
    const idSigned = await signList(xml, signer, { uri: 'id' });
    const dupId = idSigned.replace('<SchemeInformation>', '<SchemeInformation Id="TSL-ZZ">');
    assertFails(await verifyTrustedListSignature(dupId, [signer.der]), 'tl.signature-invalid', /Duplicate Id/);
  });

  it('never throws on hostile input', async () => {
    assertFails(await verifyTrustedListSignature('<!DOCTYPE x [<!ENTITY a "b">]><x/>', []), 'tl.malformed');
    assertFails(await verifyTrustedListSignature(new Uint8Array([0xff, 0xfe]), []), 'tl.malformed');
    const garbageValue = signed.replace(/<ds:SignatureValue>[^<]*</, '<ds:SignatureValue>!!!<');
    assertFails(await verifyTrustedListSignature(garbageValue, [signer.der]), 'tl.signature-invalid');
  });

  it('verifyNationalList: signer announced for the territory by a LOTL', async () => {
    const lotl = parseLotl(buildList({ territory: 'EU', lotl: true, pointers: [{ territory: 'ZZ', signers: [signer.der] }] }));
    assert.ok((await verifyNationalList(signed, lotl)).ok);
    const otherLotl = parseLotl(buildList({ territory: 'EU', lotl: true, pointers: [{ territory: 'ZZ', signers: [other.der] }] }));
    assertFails(await verifyNationalList(signed, otherLotl), 'tl.signer-not-announced');
    const noPointer = parseLotl(buildList({ territory: 'EU', lotl: true, pointers: [{ territory: 'YY', signers: [signer.der] }] }));
    assertFails(await verifyNationalList(signed, noPointer), 'tl.signer-not-announced', /no signing certificate for territory ZZ/);
  });
});
