/**
 * OCSP request building and response verification (RFC 6960, RFC 5019 profile) with pkijs.
 * Verification is done here rather than with BasicOCSPResponse.verify(): that one validates the signer
 * chain at the wall-clock time and needs the signer embedded, while we validate at `at` and the issuer
 * usually signs directly without embedding itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CRL_REASONS } from '../chain/crl.js';
import { id_kp_OCSPSigning } from '../oids.js';
import { ensurePkijsEngine } from '../pkijs-engine.js';

const id_pkix_ocsp_basic = '1.3.6.1.5.5.7.48.1.1';
const id_pkix_ocsp_nonce = '1.3.6.1.5.5.7.48.1.2';
const id_ce_extKeyUsage = '2.5.29.37';
const id_ce_keyUsage = '2.5.29.15';

const MAX_SINGLE_RESPONSES = 64;
const MAX_EMBEDDED_CERTS = 8;


export type OcspOutcome =
  | {
      ok: true;
      status: 'good' | 'revoked' | 'unknown';
      revokedAt?: Date;
      reason?: string;
      thisUpdate: Date;
      nextUpdate?: Date;
    }
  | { ok: false; error: string };

function crypto(): pkijs.ICryptoEngine {
  ensurePkijsEngine();
  return pkijs.getCrypto(true);
}

function eq(a: ArrayBuffer | Uint8Array, b: ArrayBuffer | Uint8Array): boolean {
  return Buffer.from(a instanceof Uint8Array ? a : new Uint8Array(a)).equals(
    Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)),
  );
}

function der(obj: { toSchema(): asn1js.BaseBlock }): Uint8Array {
  return new Uint8Array(obj.toSchema().toBER(false));
}

/** Parses DER with nothing trailing; null when it is not one well-formed element. */
export function parseDer(bytes: Uint8Array): asn1js.AsnType | null {
  const parsed = asn1js.fromBER(bytes);
  if (parsed.offset === -1 || parsed.offset !== bytes.length) return null;
  return parsed.result;
}

export function parsePkijsCertificate(bytes: Uint8Array): pkijs.Certificate | null {
  try {
    const asn = parseDer(bytes);
    return asn ? new pkijs.Certificate({ schema: asn }) : null;
  } catch {
    return null;
  }
}

/** RFC 6960 §4.1.1 request for one certificate; CertID over SHA-1 as RFC 5019 §2.1.1 requires. */
export async function buildOcspRequest(
  cert: pkijs.Certificate,
  issuer: pkijs.Certificate,
  nonce?: Uint8Array,
): Promise<Uint8Array> {
  const req = new pkijs.OCSPRequest();
  await req.createForCertificate(cert, { hashAlgorithm: 'SHA-1', issuerCertificate: issuer }, crypto());
  if (nonce) {
    req.tbsRequest.requestExtensions = [
      new pkijs.Extension({
        extnID: id_pkix_ocsp_nonce,
        critical: false,
        extnValue: new asn1js.OctetString({ valueHex: nonce }).toBER(false),
      }),
    ];
  }
  return new Uint8Array(req.toSchema(true).toBER(false));
}

export function newNonce(): Uint8Array {
  return new Uint8Array(randomBytes(16));
}

function hashNameFor(oid: string): string | null {
  const alg = crypto().getAlgorithmByOID(oid, false) as { name?: string };
  return alg && typeof alg.name === 'string' && /^SHA-(1|256|384|512)$/.test(alg.name) ? alg.name : null;
}

/** RFC 6960 §4.1.1 CertID equality, computed with the hash algorithm the responder used. */
async function matchesCert(id: pkijs.CertID, cert: pkijs.Certificate, issuer: pkijs.Certificate): Promise<boolean> {
  const name = hashNameFor(id.hashAlgorithm.algorithmId);
  if (!name) return false;
  const ours = await pkijs.CertID.create(cert, { hashAlgorithm: name, issuerCertificate: issuer }, crypto());
  return ours.isEqual(id);
}

function sameCertificate(a: pkijs.Certificate, b: pkijs.Certificate): boolean {
  return eq(der(a), der(b));
}

async function matchesResponderId(responderID: unknown, cert: pkijs.Certificate): Promise<boolean> {
  if (responderID instanceof pkijs.RelativeDistinguishedNames) return cert.subject.isEqual(responderID);
  if (responderID instanceof asn1js.OctetString) {
    // RFC 6960 §4.2.2.3: KeyHash is the SHA-1 of the subjectPublicKey BIT STRING value.
    const key = cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
    return eq(createHash('sha1').update(key).digest(), responderID.valueBlock.valueHexView);
  }
  return false;
}

function extension(cert: pkijs.Certificate, oid: string): pkijs.Extension | undefined {
  return cert.extensions?.find((e) => e.extnID === oid);
}

function hasOcspSigningEku(cert: pkijs.Certificate): boolean {
  const ext = extension(cert, id_ce_extKeyUsage);
  if (!ext) return false;
  try {
    const asn = parseDer(ext.extnValue.valueBlock.valueHexView);
    if (!asn) return false;
    return new pkijs.ExtKeyUsage({ schema: asn }).keyPurposes.includes(id_kp_OCSPSigning);
  } catch {
    return false;
  }
}

function keyUsageAllowsSigning(cert: pkijs.Certificate): boolean {
  const ext = extension(cert, id_ce_keyUsage);
  if (!ext) return true;
  const asn = parseDer(ext.extnValue.valueBlock.valueHexView);
  if (!(asn instanceof asn1js.BitString)) return false;
  const first = asn.valueBlock.valueHexView[0];
  // digitalSignature is bit 0 (RFC 5280 §4.2.1.3).
  return first !== undefined && (first & 0x80) !== 0;
}

/**
 * RFC 6960 §4.2.2.2: the responder is the issuer itself, or a certificate issued directly by the issuer
 * with id-kp-OCSPSigning, valid at `at`. Returns why not, or null when authorised.
 */
async function responderRefusal(signer: pkijs.Certificate, issuer: pkijs.Certificate, at: Date): Promise<string | null> {
  if (sameCertificate(signer, issuer)) return null;
  if (
    signer.subject.isEqual(issuer.subject) &&
    eq(der(signer.subjectPublicKeyInfo), der(issuer.subjectPublicKeyInfo))
  ) {
    return null;
  }
  if (!signer.issuer.isEqual(issuer.subject)) return 'the responder certificate is not issued by the certificate issuer';
  let signedByIssuer: boolean;
  try {
    signedByIssuer = await signer.verify(issuer, crypto());
  } catch {
    signedByIssuer = false;
  }
  if (!signedByIssuer) return 'the responder certificate is not signed by the certificate issuer';
  if (!hasOcspSigningEku(signer)) return 'the responder certificate lacks the id-kp-OCSPSigning extended key usage';
  if (!keyUsageAllowsSigning(signer)) return 'the responder certificate key usage does not allow digitalSignature';
  if (at < signer.notBefore.value || at > signer.notAfter.value) {
    return 'the responder certificate is not valid at the validation time';
  }
  return null;
}

function readCertStatus(raw: unknown): { status: 'good' | 'revoked' | 'unknown'; revokedAt?: Date; reason?: string } | null {
  if (!(raw instanceof asn1js.BaseBlock)) return null;
  const { tagClass, tagNumber } = raw.idBlock;
  if (tagClass !== 3) return null;
  if (tagNumber === 0) return { status: 'good' };
  if (tagNumber === 2) return { status: 'unknown' };
  if (tagNumber !== 1 || !(raw instanceof asn1js.Constructed)) return null;
  // RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
  const [time, reasonTagged] = raw.valueBlock.value;
  if (!(time instanceof asn1js.GeneralizedTime)) return null;
  if (Number.isNaN(time.toDate().getTime())) return null;
  const out: { status: 'revoked'; revokedAt: Date; reason?: string } = { status: 'revoked', revokedAt: time.toDate() };
  if (reasonTagged instanceof asn1js.Constructed && reasonTagged.idBlock.tagClass === 3 && reasonTagged.idBlock.tagNumber === 0) {
    const en = reasonTagged.valueBlock.value[0];
    if (en instanceof asn1js.Enumerated) out.reason = CRL_REASONS[en.valueBlock.valueDec] ?? `reason ${en.valueBlock.valueDec}`;
  }
  return out;
}

const RESPONSE_STATUS_NAMES: Record<number, string> = {
  1: 'malformedRequest',
  2: 'internalError',
  3: 'tryLater',
  5: 'sigRequired',
  6: 'unauthorized',
};

export interface VerifyOcspInput {
  body: Uint8Array;
  cert: pkijs.Certificate;
  issuer: pkijs.Certificate;
  at: Date;
  /** The nonce sent; a response that echoes a different one is rejected (RFC 8954 §2.1). */
  nonce?: Uint8Array;
  skewMs: number;
}

/** Verifies an OCSPResponse for `cert`; never throws. */
export async function verifyOcspResponse(input: VerifyOcspInput): Promise<OcspOutcome> {
  try {
    return await verifyOcspResponseUnsafe(input);
  } catch {
    return { ok: false, error: 'the response could not be decoded as an OCSP response' };
  }
}

async function verifyOcspResponseUnsafe(input: VerifyOcspInput): Promise<OcspOutcome> {
  const { cert, issuer, at, skewMs } = input;
  const asn = parseDer(input.body);
  if (!asn) return { ok: false, error: 'the response is not DER' };
  const resp = new pkijs.OCSPResponse({ schema: asn });
  const rs = resp.responseStatus.valueBlock.valueDec;
  if (rs !== 0) return { ok: false, error: `the responder answered ${RESPONSE_STATUS_NAMES[rs] ?? `status ${rs}`}` };
  if (!resp.responseBytes || resp.responseBytes.responseType !== id_pkix_ocsp_basic) {
    return { ok: false, error: 'the response is not a BasicOCSPResponse' };
  }
  const basicAsn = parseDer(resp.responseBytes.response.valueBlock.valueHexView);
  if (!basicAsn) return { ok: false, error: 'the BasicOCSPResponse is not DER' };
  const basic = new pkijs.BasicOCSPResponse({ schema: basicAsn });
  const tbs = basic.tbsResponseData;
  if (tbs.responses.length > MAX_SINGLE_RESPONSES) return { ok: false, error: 'the response has too many entries' };

  // RFC 6960 §3.2 (2)-(4): signature by an authorised responder.
  const candidates = [issuer, ...(basic.certs ?? []).slice(0, MAX_EMBEDDED_CERTS)];
  let refusal = 'no certificate matches the responder ID';
  let trusted = false;
  for (const candidate of candidates) {
    if (!(await matchesResponderId(tbs.responderID, candidate))) continue;
    let sigOk: boolean;
    try {
      sigOk = await crypto().verifyWithPublicKey(
        tbs.tbsView,
        basic.signature,
        candidate.subjectPublicKeyInfo,
        basic.signatureAlgorithm,
      );
    } catch {
      sigOk = false;
    }
    if (!sigOk) {
      refusal = 'the response signature does not verify';
      continue;
    }
    const why = await responderRefusal(candidate, issuer, at);
    if (why === null) {
      trusted = true;
      break;
    }
    refusal = why;
  }
  if (!trusted) return { ok: false, error: `the response is not trusted: ${refusal}` };

  if (input.nonce) {
    const ext = tbs.responseExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
    if (ext) {
      const inner = parseDer(ext.extnValue.valueBlock.valueHexView);
      const echoed = inner instanceof asn1js.OctetString ? inner.valueBlock.valueHexView : ext.extnValue.valueBlock.valueHexView;
      if (!eq(echoed, input.nonce)) return { ok: false, error: 'the response nonce does not match the request' };
    }
  }

  // RFC 6960 §3.2 (1): the response must be about this certificate.
  let single: pkijs.SingleResponse | undefined;
  for (const r of tbs.responses) {
    if (await matchesCert(r.certID, cert, issuer)) {
      single = r;
      break;
    }
  }
  if (!single) return { ok: false, error: 'the response does not cover this certificate' };

  // RFC 6960 §3.2 (5), (6); RFC 5019 §4: sufficiently recent, not past nextUpdate.
  const t = at.getTime();
  const valid = (d: Date | undefined) => d instanceof Date && !Number.isNaN(d.getTime());
  if (!valid(single.thisUpdate) || (single.nextUpdate !== undefined && !valid(single.nextUpdate))) {
    return { ok: false, error: 'the response carries an invalid thisUpdate or nextUpdate' };
  }
  if (single.thisUpdate.getTime() > t + skewMs) {
    return { ok: false, error: `the response thisUpdate ${single.thisUpdate.toISOString()} is after the validation time` };
  }
  if (single.nextUpdate && t >= single.nextUpdate.getTime()) {
    return { ok: false, error: `the response expired at ${single.nextUpdate.toISOString()}` };
  }
  const status = readCertStatus(single.certStatus);
  if (!status) return { ok: false, error: 'the certificate status is malformed' };
  const out: OcspOutcome = { ok: true, ...status, thisUpdate: single.thisUpdate };
  if (single.nextUpdate) out.nextUpdate = single.nextUpdate;
  return out;
}
