import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeValue, Name, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { indexAnchors, nameKey, parseTrustedList, pemAnchor, type TrustAnchor } from '../../../src/eidas/trust/index.js';
import { x509 } from '../../../src/eidas/x509.js';

const TL_DIR = process.env.TRUSTED_LISTS_DIR ?? '../shared/fixtures/trusted-lists';
const CORPUS_DIR = process.env.EIDAS_CORPUS_DIR ?? '../shared/fixtures/third-party-certs';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

function anchorOf(cert: x509.X509Certificate): TrustAnchor {
  return pemAnchor(new Uint8Array(cert.rawData), 'pem:test');
}

describe('eidas/trust: indexAnchors', () => {
  let keys: webcrypto.CryptoKeyPair;
  let withSki: x509.X509Certificate;
  let withoutSki: x509.X509Certificate;
  let multi: x509.X509Certificate;
  let anchors: TrustAnchor[];

  before(async () => {
    keys = (await webcrypto.subtle.generateKey(ALG, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const make = async (name: string, ski: boolean) =>
      x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: '01',
        name,
        notBefore: new Date('2020-01-01T00:00:00Z'),
        notAfter: new Date('2030-01-01T00:00:00Z'),
        keys,
        signingAlgorithm: ALG,
        extensions: ski ? [await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)] : [],
      });
    [withSki, withoutSki, multi] = await Promise.all([
      make('C=ZZ, O=Acme Trust, CN=Acme Root CA', true),
      make('C=ZZ, O=Other, CN=No SKI CA', false),
      make('C=ZZ, CN=Multi+O=Valued', false),
    ]);
    anchors = [withSki, withoutSki, multi].map(anchorOf);
  });

  it('finds an anchor by subject Name or its DER', () => {
    const idx = indexAnchors(anchors);
    assert.deepEqual(idx.bySubject(withSki.subjectName), [anchors[0]]);
    assert.deepEqual(idx.bySubject(withSki.subjectName.toArrayBuffer()), [anchors[0]]);
    assert.deepEqual(idx.bySubject(new x509.Name('C=ZZ, O=Acme Trust, CN=Other CA')), []);
  });

  it('compares names as RFC 5280 §7.1: case, insignificant spaces and string type do not matter', () => {
    const name = AsnConvert.parse(withSki.subjectName.toArrayBuffer(), Name);
    const cn = name[2]![0]!;
    assert.equal(cn.type, '2.5.4.3');
    cn.value = new AttributeValue({ printableString: '  acme   ROOT ca ' });
    const o = name[1]![0]!;
    o.value = new AttributeValue({ bmpString: 'ACME TRUST' });
    const idx = indexAnchors(anchors);
    assert.deepEqual(idx.bySubject(AsnConvert.serialize(name)), [anchors[0]]);
    assert.equal(nameKey(AsnConvert.serialize(name)), nameKey(withSki.subjectName));
  });

  it('treats a multi-valued RDN as a set', () => {
    const name = AsnConvert.parse(multi.subjectName.toArrayBuffer(), Name);
    assert.equal(name[1]!.length, 2);
    name[1]!.reverse();
    assert.deepEqual(indexAnchors(anchors).bySubject(AsnConvert.serialize(name)), [anchors[2]]);
  });

  it('finds anchors by SKI, or by the RFC 5280 §4.2.1.2 (1) key id when the SKI is absent', () => {
    const idx = indexAnchors(anchors);
    const ski = withSki.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
    // Same key in all three certificates: the computed id matches them all.
    const spki = AsnConvert.parse(withoutSki.publicKey.rawData, SubjectPublicKeyInfo);
    const m1 = createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest();
    assert.equal(ski, m1.toString('hex')); // @peculiar/x509 uses method (1) too
    assert.deepEqual(idx.byKeyId(ski.toUpperCase()), anchors);
    assert.deepEqual(idx.byKeyId(m1), anchors);
    assert.deepEqual(idx.byKeyId('00'), []);
  });

  it('finds anchors by sha256 and rebuilds when the array grows', () => {
    const list = [...anchors];
    const idx = indexAnchors(list);
    assert.equal(indexAnchors(list), idx);
    assert.equal(idx.bySha256(anchors[1]!.sha256.toUpperCase()), anchors[1]);
    list.push({ ...anchors[0]!, sha256: 'ff'.repeat(32), der: new Uint8Array([1, 2, 3]) });
    const again = indexAnchors(list);
    assert.notEqual(again, idx);
    assert.equal(again.bySha256('ff'.repeat(32))?.der.length, 3); // an unreadable DER is still found by hash
    assert.deepEqual(again.bySubject(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])), []); // not a Name: no throw
  });

  it('real data: the BE QuoVadis G2 service is the issuer of the EC_DIGIT QSealC', function () {
    const tlFile = path.join(TL_DIR, 'tl-be-sn43.xml');
    const certFile = path.join(CORPUS_DIR, 'dss-ec-digit-qseal-nonpsd2.pem');
    if (!existsSync(tlFile) || !existsSync(certFile)) this.skip();
    const tl = parseTrustedList(readFileSync(tlFile), { at: new Date('2018-03-07T12:00:00Z') });
    const leaf = new x509.X509Certificate(readFileSync(certFile, 'utf8'));
    const idx = indexAnchors(tl.anchors);
    const bySubject = idx.bySubject(leaf.issuerName);
    assert.ok(bySubject.length >= 1);
    const svc = bySubject.find((a) => a.source === 'tl:BE:QuoVadis BE PKI Certification Authority G2');
    assert.ok(svc, bySubject.map((a) => a.source).join(', '));
    assert.equal(svc.status, 'granted');
    assert.equal(svc.qualifiers?.eseal, true);
    const aki = leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
    assert.ok(aki);
    assert.ok(idx.byKeyId(aki).includes(svc));
  });
});
