import assert from 'node:assert/strict';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { issueCertificate } from '../../src/devpki/builder.js';
import { type DevPki, generateDevPki } from '../../src/devpki/generate.js';
import { type Responder, startResponder } from '../../src/devpki/responder.js';
import { ensurePkijsEngine } from '../../src/eidas/pkijs-engine.js';
import { x509 } from '../../src/eidas/x509.js';

const id_pkix_ocsp_nonce = '1.3.6.1.5.5.7.48.1.2';

const toPkijs = (c: x509.X509Certificate) => pkijs.Certificate.fromBER(c.rawData);

async function ocspRequest(
  cert: x509.X509Certificate,
  issuer: x509.X509Certificate,
  opts: { nonce?: Uint8Array; hash?: string } = {},
): Promise<Uint8Array> {
  const req = new pkijs.OCSPRequest();
  await req.createForCertificate(toPkijs(cert), { hashAlgorithm: opts.hash ?? 'SHA-1', issuerCertificate: toPkijs(issuer) });
  if (opts.nonce) {
    req.tbsRequest.requestExtensions = [
      new pkijs.Extension({
        extnID: id_pkix_ocsp_nonce,
        critical: false,
        extnValue: new asn1js.OctetString({ valueHex: opts.nonce }).toBER(false),
      }),
    ];
  }
  return new Uint8Array(req.toSchema(true).toBER(false));
}

interface Parsed {
  status: number;
  basic?: pkijs.BasicOCSPResponse;
}

function parseOcsp(body: Uint8Array): Parsed {
  const resp = pkijs.OCSPResponse.fromBER(body);
  const status = resp.responseStatus.valueBlock.valueDec;
  if (!resp.responseBytes) return { status };
  return { status, basic: pkijs.BasicOCSPResponse.fromBER(resp.responseBytes.response.valueBlock.valueHexView) };
}

describe('devpki/responder', function () {
  this.timeout(30_000);
  let pki: DevPki;
  let responder: Responder;

  before(async () => {
    ensurePkijsEngine();
    // The certificates' URLs are not used here: requests go straight to the ephemeral port.
    pki = await generateDevPki({ responderBaseUrl: 'http://127.0.0.1:1', keyAlgorithm: 'EC-P256' });
    responder = await startResponder({ pki, port: 0 });
  });
  after(() => responder?.close());

  const post = async (ca: string, body: Uint8Array, type = 'application/ocsp-request') =>
    fetch(`${responder.url}/ocsp/${ca}`, { method: 'POST', headers: { 'content-type': type }, body });

  async function askStatus(cert: x509.X509Certificate, ca: 'qwac-ca' | 'qseal-ca', nonce?: Uint8Array) {
    const issuer = pki.cas[ca].cert;
    const res = await post(ca, await ocspRequest(cert, issuer, nonce ? { nonce } : {}));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/ocsp-response');
    const parsed = parseOcsp(new Uint8Array(await res.arrayBuffer()));
    assert.equal(parsed.status, 0, 'successful');
    const basic = parsed.basic!;
    // RFC 6960 §4.2.2.2: signed by the CA itself, checked against the CA certificate we trust.
    assert.equal(await basic.verify({ trustedCerts: [toPkijs(pki.cas.root.cert)] }), true);
    assert.ok(basic.tbsResponseData.responderID instanceof pkijs.RelativeDistinguishedNames);
    const single = basic.tbsResponseData.responses[0]!;
    assert.ok(single.nextUpdate && single.nextUpdate > single.thisUpdate);
    const status = await basic.getCertificateStatus(toPkijs(cert), toPkijs(issuer));
    assert.equal(status.isForCertificate, true);
    return { status: status.status, single, basic };
  }

  it('answers good for a partner QWAC and echoes the nonce', async () => {
    const nonce = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    const { status, basic } = await askStatus(pki.partners[0]!.qwac.cert, 'qwac-ca', nonce);
    assert.equal(status, 0);
    const ext = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
    assert.ok(ext);
    const inner = asn1js.fromBER(ext.extnValue.valueBlock.valueHexView).result as asn1js.OctetString;
    assert.deepEqual(new Uint8Array(inner.valueBlock.valueHexView), nonce);
  });

  it('answers revoked with time and reason for the revoked bad certificate', async () => {
    const bad = pki.bad.find((b) => b.name === 'revoked')!;
    const { status, single } = await askStatus(bad.cert, 'qwac-ca');
    assert.equal(status, 1);
    const info = single.certStatus as asn1js.Constructed;
    const [time, reason] = info.valueBlock.value as [asn1js.GeneralizedTime, asn1js.Constructed];
    const entry = pki.issued['qwac-ca'].find((e) => e.serial === bad.cert.serialNumber)!;
    assert.equal(time.toDate().getTime(), Math.floor(entry.revokedAt!.getTime() / 1000) * 1000);
    assert.equal((reason.valueBlock.value[0] as asn1js.Enumerated).valueBlock.valueDec, x509.X509CrlReason.keyCompromise);
  });

  it('answers unknown for a serial the CA never issued', async () => {
    const stray = await issueCertificate({
      subject: 'CN=never recorded',
      issuer: pki.cas['qwac-ca'],
      keyAlgorithm: 'EC-P256',
      notBefore: pki.generatedAt,
      notAfter: new Date(pki.generatedAt.getTime() + 86_400_000),
    });
    const { status } = await askStatus(stray.cert, 'qwac-ca');
    assert.equal(status, 2);
  });

  it('accepts CertIDs hashed with SHA-256', async () => {
    const cert = pki.partners[1]!.qseal.cert;
    const res = await post('qseal-ca', await ocspRequest(cert, pki.cas['qseal-ca'].cert, { hash: 'SHA-256' }));
    const { basic } = parseOcsp(new Uint8Array(await res.arrayBuffer()));
    const status = await basic!.getCertificateStatus(toPkijs(cert), toPkijs(pki.cas['qseal-ca'].cert));
    assert.deepEqual(status, { isForCertificate: true, status: 0 });
  });

  it('serves the RFC 6960 A.1 GET form (base64url and URL-encoded base64)', async () => {
    const cert = pki.partners[0]!.qseal.cert;
    const der = Buffer.from(await ocspRequest(cert, pki.cas['qseal-ca'].cert));
    for (const enc of [der.toString('base64url'), encodeURIComponent(der.toString('base64'))]) {
      const res = await fetch(`${responder.url}/ocsp/qseal-ca/${enc}`);
      assert.equal(res.status, 200);
      const { status, basic } = parseOcsp(new Uint8Array(await res.arrayBuffer()));
      assert.equal(status, 0);
      assert.equal((await basic!.getCertificateStatus(toPkijs(cert), toPkijs(pki.cas['qseal-ca'].cert))).status, 0);
    }
  });

  it('says unauthorized when asked about another CA, malformedRequest for garbage', async () => {
    const cert = pki.partners[0]!.qwac.cert;
    const wrong = await post('qseal-ca', await ocspRequest(cert, pki.cas['qwac-ca'].cert));
    assert.equal(parseOcsp(new Uint8Array(await wrong.arrayBuffer())).status, 6);
    const garbage = await post('qwac-ca', new Uint8Array([0x30, 0x03, 0x02, 0x01]));
    assert.equal(parseOcsp(new Uint8Array(await garbage.arrayBuffer())).status, 1);
    const badGet = await fetch(`${responder.url}/ocsp/qwac-ca/%E0%A4%A`);
    assert.equal(parseOcsp(new Uint8Array(await badGet.arrayBuffer())).status, 1);
    assert.equal((await post('qwac-ca', new Uint8Array([1]), 'text/plain')).status, 415);
    assert.equal((await post('qwac-ca', new Uint8Array(70 * 1024))).status, 413);
    assert.equal((await fetch(`${responder.url}/ocsp/nope`, { method: 'POST' })).status, 404);
  });

  it('serves fresh signed CRLs and the CA certificates', async () => {
    const res = await fetch(`${responder.url}/crl/qwac-ca.crl`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/pkix-crl');
    const crl = new x509.X509Crl(await res.arrayBuffer());
    assert.ok(await crl.verify({ publicKey: pki.cas['qwac-ca'].cert.publicKey }));
    assert.ok(crl.thisUpdate.getTime() >= pki.generatedAt.getTime() - 1000);
    assert.ok(crl.nextUpdate && crl.nextUpdate > crl.thisUpdate);
    const revoked = pki.bad.find((b) => b.name === 'revoked')!;
    assert.ok(crl.findRevoked(revoked.cert));

    const ca = await fetch(`${responder.url}/ca/root.cer`);
    assert.equal(ca.headers.get('content-type'), 'application/pkix-cert');
    assert.deepEqual(new Uint8Array(await ca.arrayBuffer()), new Uint8Array(pki.cas.root.cert.rawData));
    assert.equal((await fetch(`${responder.url}/crl/unknown.crl`)).status, 404);
  });

  it('revoke() changes OCSP and the CRL at once', async () => {
    const cert = pki.partners[1]!.qseal.cert;
    assert.throws(() => responder.revoke('0badbeef'), /no dev CA issued/);
    assert.throws(() => responder.revoke(cert.serialNumber, 'because'), /unknown revocation reason/);
    responder.revoke(cert.serialNumber.toUpperCase(), 'superseded');
    const { status } = await askStatus(cert, 'qseal-ca');
    assert.equal(status, 1);
    const crl = new x509.X509Crl(await (await fetch(`${responder.url}/crl/qseal-ca.crl`)).arrayBuffer());
    assert.equal(crl.findRevoked(cert)?.reason, x509.X509CrlReason.superseded);
  });

  it('setDown(true) makes every request fail until setDown(false)', async () => {
    responder.setDown(true);
    try {
      await assert.rejects(fetch(`${responder.url}/crl/root.crl`));
      await assert.rejects(post('qwac-ca', await ocspRequest(pki.partners[0]!.qwac.cert, pki.cas['qwac-ca'].cert)));
    } finally {
      responder.setDown(false);
    }
    assert.equal((await fetch(`${responder.url}/crl/root.crl`)).status, 200);
  });
});
