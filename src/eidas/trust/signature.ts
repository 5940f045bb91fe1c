/**
 * Trusted-list signatures (TS 119 612 §5.7: enveloped XAdES baseline B over the whole list). xmldsigjs does
 * the XMLDSig work (c14n, reference digests, signature value); this module restricts the shape first so
 * that the data later read from the DOM is exactly the data that was signed, then decides who signed.
 */
import { createHash, webcrypto } from 'node:crypto';
import type { Document, Element } from '@xmldom/xmldom';
import * as xmldsig from 'xmldsigjs';
import { x509 } from '../x509.js';
import { announcedSigners, readTrustedList } from './tl.js';
import { type Lotl, type SignatureCheck, TrustedListError, type TrustedListErrorCode } from './types.js';
import { child, children, decodeBase64, isElement, NS, parseXml, text } from './xml.js';

const SIGNED_PROPERTIES_TYPE = 'http://uri.etsi.org/01903#SignedProperties';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const C14N = new Set([
  'http://www.w3.org/2001/10/xml-exc-c14n#',
  'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments',
]);
/** SHA-1 and HMAC are refused (TS 119 312 no longer allows SHA-1 for signatures). */
const SIGNATURE_METHODS = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
  'http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1',
  'http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
]);
const REFERENCE_DIGESTS = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512',
]);
/** XAdES CertDigest may still use SHA-1 (it identifies, it does not protect: the signature covers it). */
const CERT_DIGESTS: Record<string, string> = {
  'http://www.w3.org/2000/09/xmldsig#sha1': 'sha1',
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
};
const MAX_KEYINFO_CERTS = 10;
const MAX_ALLOWED_SIGNERS = 1000;

let engineReady = false;
function ensureXmldsigEngine(): void {
  if (engineReady) return;
  // A wrapper object: xmldsigjs writes a `name` property onto the crypto object it is given.
  const crypto = { subtle: webcrypto.subtle, getRandomValues: webcrypto.getRandomValues.bind(webcrypto) };
  xmldsig.Application.setEngine('NodeJS', crypto as unknown as Parameters<typeof xmldsig.Application.setEngine>[1]);
  engineReady = true;
}

/** Exposes the two verification steps separately so references are digested once for all candidate keys. */
class TlSignedXml extends xmldsig.SignedXml {
  references(content: Element): Promise<boolean> {
    return this.ValidateReferences(content as never);
  }
  signatureValue(key: webcrypto.CryptoKey): Promise<boolean> {
    return this.ValidateSignatureValue([key as never]);
  }
}

type Failure = Extract<SignatureCheck, { ok: false }>;

function fail(code: TrustedListErrorCode, reason: string, signer?: Uint8Array): Failure {
  return signer ? { ok: false, code, reason, signer } : { ok: false, code, reason };
}

/**
 * Checks the list's enveloped signature and that its key is one of `allowedSigners` (DER certificates).
 * Never throws: every problem is a `{ ok: false, code }` result.
 */
export async function verifyTrustedListSignature(
  xml: Uint8Array | string,
  allowedSigners: Uint8Array[],
): Promise<SignatureCheck> {
  let doc: Document;
  try {
    doc = parseXml(xml);
  } catch (e) {
    if (e instanceof TrustedListError) return fail(e.code === 'tl.unsupported' ? 'tl.unsupported' : 'tl.malformed', e.message);
    return fail('tl.malformed', 'the list could not be read');
  }
  return verifyDocumentSignature(doc, allowedSigners);
}

/** The TL's signature verifies and its signer is among the certificates the LOTL announces for its territory. */
export async function verifyNationalList(tlXml: Uint8Array | string, lotl: Lotl): Promise<SignatureCheck> {
  let doc: Document;
  let territory: string;
  try {
    doc = parseXml(tlXml);
    territory = readTrustedList(doc).territory;
  } catch (e) {
    if (e instanceof TrustedListError) return fail(e.code === 'tl.unsupported' ? 'tl.unsupported' : 'tl.malformed', e.message);
    return fail('tl.malformed', 'the list could not be read');
  }
  return verifyAgainstLotl(doc, territory, lotl);
}

export async function verifyAgainstLotl(doc: Document, territory: string, lotl: Lotl): Promise<SignatureCheck> {
  const signers = announcedSigners(lotl, territory);
  if (signers.length === 0) {
    // Still report whether the signature itself holds, to tell a bad file from a missing announcement.
    const own = await verifyDocumentSignature(doc, []);
    if (!own.ok && own.code !== 'tl.signer-not-announced') return own;
    return fail(
      'tl.signer-not-announced',
      `LOTL ${lotl.sequenceNumber} announces no signing certificate for territory ${territory}`,
      own.signer,
    );
  }
  const res = await verifyDocumentSignature(doc, signers);
  if (!res.ok && res.code === 'tl.signer-not-announced') {
    return fail(
      'tl.signer-not-announced',
      `the list is signed by ${subjectOf(res.signer)}, which LOTL ${lotl.sequenceNumber} does not announce for ${territory}`,
      res.signer,
    );
  }
  return res;
}

export async function verifyDocumentSignature(doc: Document, allowedSigners: Uint8Array[]): Promise<SignatureCheck> {
  try {
    return await verifyUnchecked(doc, allowedSigners);
  } catch (e) {
    return fail('tl.signature-invalid', `the signature does not verify: ${errorText(e)}`);
  }
}

async function verifyUnchecked(doc: Document, allowedSigners: Uint8Array[]): Promise<SignatureCheck> {
  ensureXmldsigEngine();
  const root = doc.documentElement;
  if (!root) return fail('tl.malformed', 'the list has no root element');
  const shape = checkShape(doc, root);
  if ('code' in shape) return shape;
  const { sig, algorithm } = shape;

  const signed = new TlSignedXml(doc as never);
  try {
    signed.LoadXml(sig as never);
  } catch (e) {
    return fail('tl.signature-invalid', `the ds:Signature cannot be read: ${errorText(e)}`);
  }
  // Digest mismatches throw inside xmldsigjs; the caller turns that into tl.signature-invalid.
  if (!(await signed.references(root.cloneNode(true) as Element))) {
    return fail('tl.signature-invalid', 'a reference digest does not match');
  }

  const keyInfoCerts = keyInfoCertificates(sig);
  const allowed = allowedSigners.slice(0, MAX_ALLOWED_SIGNERS);
  // Try the certificate the signer names first; then every allowed key (KeyInfo is optional in XMLDSig).
  const ordered = [
    ...allowed.filter((a) => keyInfoCerts.some((k) => bytesEqual(a, k))),
    ...allowed.filter((a) => !keyInfoCerts.some((k) => bytesEqual(a, k))),
  ];
  let signer: Uint8Array | null = null;
  for (const der of ordered) {
    if (await verifiesWith(signed, der, algorithm)) {
      signer = der;
      break;
    }
  }
  if (!signer) {
    for (const der of keyInfoCerts) {
      if (await verifiesWith(signed, der, algorithm)) {
        const why = xadesSigningCertificateProblem(sig, der);
        if (why) return fail('tl.signature-invalid', why, der);
        return fail('tl.signer-not-announced', `the list is signed by ${subjectOf(der)}, which is not an allowed signer`, der);
      }
    }
    return fail('tl.signature-invalid', 'the signature value does not verify with any allowed or included key');
  }
  const why = xadesSigningCertificateProblem(sig, signer);
  if (why) return fail('tl.signature-invalid', why, signer);
  return { ok: true, signer };
}

type Shape = { sig: Element; algorithm: string } | Failure;

/**
 * Only the TS 119 612 §5.7 form is accepted: one ds:Signature, a child of the root, with one reference to the
 * whole list (URI "" or "#<root Id>") under the enveloped transform, plus at most one XAdES SignedProperties
 * reference inside the signature. Anything else could sign data other than what the parser reads.
 */
function checkShape(doc: Document, root: Element): Shape {
  const sigs = doc.getElementsByTagNameNS(NS.ds, 'Signature');
  if (sigs.length === 0) return { ok: false, code: 'tl.signature-invalid', reason: 'the list is not signed (no ds:Signature)' };
  if (sigs.length > 1) return { ok: false, code: 'tl.signature-invalid', reason: 'the list has more than one ds:Signature' };
  const sig = sigs.item(0)!;
  if (sig.parentNode !== root) {
    return { ok: false, code: 'tl.signature-invalid', reason: 'the ds:Signature is not a child of the list root (not enveloped)' };
  }
  const si = child(sig, 'SignedInfo', NS.ds);
  const c14n = child(si, 'CanonicalizationMethod', NS.ds)?.getAttribute('Algorithm') ?? '';
  if (!C14N.has(c14n)) return { ok: false, code: 'tl.unsupported', reason: `canonicalization ${c14n || '(none)'} is not accepted` };
  const algorithm = child(si, 'SignatureMethod', NS.ds)?.getAttribute('Algorithm') ?? '';
  if (!SIGNATURE_METHODS.has(algorithm)) {
    return { ok: false, code: 'tl.unsupported', reason: `signature method ${algorithm || '(none)'} is not accepted` };
  }
  const refs = children(si, 'Reference', NS.ds);
  const rootId = root.getAttribute('Id');
  let docRefs = 0;
  let propRefs = 0;
  for (const ref of refs) {
    const uri = ref.getAttribute('URI');
    const digest = child(ref, 'DigestMethod', NS.ds)?.getAttribute('Algorithm') ?? '';
    if (!REFERENCE_DIGESTS.has(digest)) {
      return { ok: false, code: 'tl.unsupported', reason: `reference digest ${digest || '(none)'} is not accepted` };
    }
    const transforms = children(child(ref, 'Transforms', NS.ds), 'Transform', NS.ds).map((t) => t.getAttribute('Algorithm') ?? '');
    if (transforms.some((t) => t !== ENVELOPED && !C14N.has(t))) {
      return { ok: false, code: 'tl.unsupported', reason: `a reference uses a transform other than enveloped/c14n` };
    }
    if (ref.getAttribute('Type') === SIGNED_PROPERTIES_TYPE) {
      const target = uri?.startsWith('#') ? findById(sig, uri.slice(1)) : null;
      if (target?.localName !== 'SignedProperties' || target.namespaceURI !== NS.xades132) {
        return { ok: false, code: 'tl.signature-invalid', reason: 'the SignedProperties reference does not point into the signature' };
      }
      propRefs++;
    } else {
      const whole = uri === '' || (!!rootId && uri === `#${rootId}`);
      if (!whole || !transforms.includes(ENVELOPED)) {
        return { ok: false, code: 'tl.signature-invalid', reason: `reference "${uri ?? ''}" does not cover the whole list` };
      }
      docRefs++;
    }
  }
  if (docRefs !== 1) return { ok: false, code: 'tl.signature-invalid', reason: 'the signature must have exactly one reference to the list' };
  if (propRefs !== 1) return { ok: false, code: 'tl.signature-invalid', reason: 'not a XAdES signature (no signed SignedProperties)' };
  return { sig, algorithm };
}

function findById(el: Element, id: string): Element | null {
  const stack: Element[] = [el];
  while (stack.length) {
    const e = stack.pop()!;
    if (e.getAttribute('Id') === id) return e;
    for (let c = e.firstChild; c; c = c.nextSibling) if (isElement(c)) stack.push(c);
  }
  return null;
}

function keyInfoCertificates(sig: Element): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const data of children(child(sig, 'KeyInfo', NS.ds), 'X509Data', NS.ds)) {
    for (const c of children(data, 'X509Certificate', NS.ds)) {
      const der = decodeBase64(text(c));
      if (der && out.length < MAX_KEYINFO_CERTS) out.push(der);
    }
  }
  return out;
}

/**
 * EN 319 132-1 §5.2.2: the signed SigningCertificate(V2) property names the signer's certificate; when it
 * is present it must name the certificate whose key verified.
 */
function xadesSigningCertificateProblem(sig: Element, signer: Uint8Array): string | null {
  const sp = sig.getElementsByTagNameNS(NS.xades132, 'SignedSignatureProperties').item(0);
  const sc = child(sp, 'SigningCertificateV2', NS.xades132) ?? child(sp, 'SigningCertificate', NS.xades132);
  if (!sc) return null;
  for (const cert of children(sc, 'Cert', NS.xades132)) {
    const cd = child(cert, 'CertDigest', NS.xades132);
    const alg = CERT_DIGESTS[child(cd, 'DigestMethod', NS.ds)?.getAttribute('Algorithm') ?? ''];
    const value = decodeBase64(text(child(cd, 'DigestValue', NS.ds)));
    if (alg && value && bytesEqual(createHash(alg).update(signer).digest(), value)) return null;
  }
  return 'the XAdES SigningCertificate property does not name the certificate that signed';
}

async function verifiesWith(signed: TlSignedXml, der: Uint8Array, method: string): Promise<boolean> {
  let key: webcrypto.CryptoKey;
  try {
    const pub = new x509.X509Certificate(der).publicKey;
    const hash = /sha512/.test(method) ? 'SHA-512' : /sha384/.test(method) ? 'SHA-384' : 'SHA-256';
    let params: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams;
    if (method.includes('ecdsa')) {
      const curve = (pub.algorithm as webcrypto.EcKeyAlgorithm).namedCurve;
      if (pub.algorithm.name !== 'ECDSA' || !curve) return false;
      params = { name: 'ECDSA', namedCurve: curve };
    } else {
      if (!pub.algorithm.name.startsWith('RSA')) return false;
      params = { name: method.includes('MGF1') ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash };
    }
    key = await webcrypto.subtle.importKey('spki', pub.rawData, params, false, ['verify']);
  } catch {
    return false;
  }
  try {
    return await signed.signatureValue(key);
  } catch {
    return false;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function subjectOf(der: Uint8Array | undefined): string {
  if (!der) return 'an unknown key';
  try {
    return `"${new x509.X509Certificate(der).subject}"`;
  } catch {
    return 'an unreadable certificate';
  }
}

/** xmldsigjs throws XmlError objects that are not Error instances. */
function errorText(e: unknown): string {
  const m = (e as { message?: unknown } | null)?.message;
  return (typeof m === 'string' ? m : String(e)).slice(0, 300);
}
