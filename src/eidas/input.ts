/**
 * Reads what a partner uploads (PEM, DER, a PKCS#7 bundle or a PKCS#12 file) into certificate DERs,
 * subject first. Everything is bounded; bad input gives one finding, never an exception.
 *
 * Order: PEM and concatenated DER keep the order given (the first certificate is the subject). A PKCS#7
 * certificate set is unordered (RFC 5652 §10.2.3), so its leaf (the one certificate that issued no other
 * certificate of the set) is moved first when there is exactly one. In a PKCS#12 file the certificate whose
 * localKeyId matches the private key's is the subject (RFC 7292 §4.2); private keys are never returned.
 */
import { ContentInfo, id_signedData, SignedData } from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1js from 'asn1js';
import forge from 'node-forge';
import { errorText } from './certificate.js';
import { finding } from './findings.js';
import type { Finding } from './types.js';

export const INPUT_LIMITS = {
  maxBytes: 1024 * 1024,
  maxCertificates: 20,
  /** PEM blocks of any kind (keys and CRLs are skipped but counted). */
  maxPemBlocks: 64,
  /** asn1js limits for the container structure; certificate contents are opaque at this level. */
  ber: { maxDepth: 64, maxNodes: 20000, maxContentLength: 1024 * 1024, parseEmbedded: false },
  /** PKCS#12 key derivation: iterations per derivation and in total (MAC + every decryption). */
  maxKdfIterations: 100_000,
  maxKdfIterationsTotal: 400_000,
  /** Wall-clock budget for opening a PKCS#12 file. */
  pkcs12TimeBudgetMs: 3000,
} as const;

export interface CertificateInput {
  ders: Uint8Array[];
}

export type ReadResult = { ok: true; ders: Uint8Array[] } | { ok: false; finding: Finding };

class InputError extends Error {
  constructor(
    message: string,
    readonly code: 'malformed' | 'input.password' = 'malformed',
  ) {
    super(message);
  }
}

export function readCertificates(data: Uint8Array | string, opts: { password?: string } = {}): ReadResult {
  try {
    const ders = read(data, opts.password);
    return { ok: true, ders };
  } catch (e) {
    if (e instanceof InputError) return { ok: false, finding: finding(e.code, e.message) };
    // A stack overflow (RangeError) or a decoder surprise on hostile input.
    return { ok: false, finding: finding('malformed', `The input cannot be decoded: ${errorText(e)}.`) };
  }
}

function read(data: Uint8Array | string, password: string | undefined): Uint8Array[] {
  if (typeof data === 'string') {
    // A JS string never has fewer UTF-8 bytes than UTF-16 units, so this bounds before encoding.
    if (data.length > INPUT_LIMITS.maxBytes || Buffer.byteLength(data, 'utf8') > INPUT_LIMITS.maxBytes) tooLarge();
    return readText(data, password);
  }
  if (!(data instanceof Uint8Array)) throw new InputError('The input is neither text nor bytes.');
  if (data.length > INPUT_LIMITS.maxBytes) tooLarge(data.length);
  if (data.length === 0) throw new InputError('The input is empty.');
  if (data[0] === 0x30) return readDer(data, password);
  // latin1 maps bytes 1:1, so PEM markers (ASCII) are found without decoding errors.
  return readText(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1'), password);
}

function tooLarge(size?: number): never {
  const what = size === undefined ? 'The input is' : `The input is ${size} bytes,`;
  throw new InputError(`${what} larger than the ${INPUT_LIMITS.maxBytes} bytes accepted for a certificate upload.`);
}

// ---- PEM / base64 --------------------------------------------------------------------------------------

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);
const PKCS7_LABELS = new Set(['PKCS7', 'PKCS #7 SIGNED DATA', 'CMS']);
const PKCS12_LABELS = new Set(['PKCS12']);

function readText(text: string, password: string | undefined): Uint8Array[] {
  if (text.trim() === '') throw new InputError('The input is empty.');
  if (!text.includes('-----BEGIN ')) {
    // A bare base64 DER (a PEM body without its armour), as some portals export it.
    const compact = text.replace(/\s+/g, '');
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(compact) && compact.length % 4 === 0) {
      return readDer(new Uint8Array(Buffer.from(compact, 'base64')), password);
    }
    throw new InputError('The input is neither PEM (no "-----BEGIN" line) nor DER.');
  }

  const ders: Uint8Array[] = [];
  let pos = 0;
  let blocks = 0;
  const labels: string[] = [];
  // indexOf scanning keeps this linear on hostile input (no backtracking regex over the whole text).
  for (;;) {
    const begin = text.indexOf('-----BEGIN ', pos);
    if (begin === -1) break;
    if (++blocks > INPUT_LIMITS.maxPemBlocks) {
      throw new InputError(`The input holds more than ${INPUT_LIMITS.maxPemBlocks} PEM blocks.`);
    }
    const labelStart = begin + '-----BEGIN '.length;
    const labelEnd = text.indexOf('-----', labelStart);
    if (labelEnd === -1 || labelEnd - labelStart > 64) throw new InputError('A PEM "-----BEGIN" line is not terminated.');
    const label = text.slice(labelStart, labelEnd).trim();
    const endMarker = `-----END ${label}-----`;
    const end = text.indexOf(endMarker, labelEnd + 5);
    if (end === -1) throw new InputError(`The PEM block "${label.slice(0, 40)}" has no matching END line (truncated?).`);
    const body = text.slice(labelEnd + 5, end);
    pos = end + endMarker.length;
    labels.push(label);

    if (CERT_LABELS.has(label)) {
      pushAll(ders, [certificateBlock(pemBody(body, label), label)]);
    } else if (PKCS7_LABELS.has(label)) {
      pushAll(ders, readPkcs7(pemBody(body, label)));
    } else if (PKCS12_LABELS.has(label)) {
      pushAll(ders, readPkcs12(pemBody(body, label), password));
    }
    // Other blocks (keys, CRLs, requests) are skipped: they are not certificates and are never kept.
  }
  if (ders.length === 0) {
    const seen = labels.length > 0 ? ` (found: ${[...new Set(labels)].slice(0, 5).join(', ')})` : '';
    throw new InputError(`The PEM input holds no CERTIFICATE or PKCS7 block${seen}.`);
  }
  return ders;
}

function pemBody(body: string, label: string): Uint8Array {
  // RFC 7468 §2: base64 lines; RFC 1421-style headers ("Name: value") are tolerated and skipped.
  const lines = body.split(/\r?\n|\r/).filter((l) => !/^[A-Za-z-]+:/.test(l.trim()));
  const b64 = lines.join('').replace(/\s+/g, '');
  if (b64 === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 === 1) {
    throw new InputError(`The PEM block "${label}" does not contain valid base64.`);
  }
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

function pushAll(target: Uint8Array[], items: Uint8Array[]): void {
  for (const item of items) {
    if (target.length >= INPUT_LIMITS.maxCertificates) {
      throw new InputError(`The input holds more than ${INPUT_LIMITS.maxCertificates} certificates.`);
    }
    target.push(item);
  }
}

// ---- DER -----------------------------------------------------------------------------------------------

type Kind = 'certificate' | 'pkcs7' | 'pkcs12';

function decodeElement(bytes: Uint8Array, offset = 0): { node: asn1js.AsnType; end: number } {
  const view = offset === 0 ? bytes : bytes.subarray(offset);
  const r = asn1js.fromBER(view, INPUT_LIMITS.ber);
  if (r.offset === -1) throw new InputError(`The input is not valid DER: ${r.result.error || 'decoding failed'}.`);
  return { node: r.result, end: offset + r.offset };
}

function children(node: asn1js.AsnType): asn1js.AsnType[] {
  const value = (node as asn1js.Constructed).valueBlock?.value;
  return Array.isArray(value) ? value : [];
}

function isUniversal(node: asn1js.AsnType | undefined, tag: number): boolean {
  return node !== undefined && node.idBlock.tagClass === 1 && node.idBlock.tagNumber === tag;
}

function classify(node: asn1js.AsnType): Kind | null {
  if (!isUniversal(node, 16)) return null;
  const [a, b] = children(node);
  if (isUniversal(a, 16)) return 'certificate';
  if (node instanceof asn1js.Sequence && a instanceof asn1js.ObjectIdentifier) {
    const oid = a.getValue();
    if (oid === id_signedData) return 'pkcs7';
    throw new InputError(`The input is a CMS ContentInfo of type ${oid}, not SignedData with certificates.`);
  }
  if (a instanceof asn1js.Integer && isUniversal(b, 16)) return 'pkcs12';
  return null;
}

function readDer(bytes: Uint8Array, password: string | undefined): Uint8Array[] {
  const { node, end } = decodeElement(bytes);
  const kind = classify(node);
  if (kind === null) throw new InputError('The input is DER but neither a certificate, a PKCS#7 bundle nor a PKCS#12 file.');
  if (kind === 'pkcs7') {
    if (end !== bytes.length) throw new InputError(`The PKCS#7 bundle is followed by ${bytes.length - end} unexpected bytes.`);
    return readPkcs7(bytes);
  }
  if (kind === 'pkcs12') {
    if (end !== bytes.length) throw new InputError(`The PKCS#12 file is followed by ${bytes.length - end} unexpected bytes.`);
    return readPkcs12(bytes, password);
  }
  // One certificate, or several DER certificates one after the other (`cat a.der b.der`).
  const ders: Uint8Array[] = [bytes.subarray(0, end)];
  let offset = end;
  while (offset < bytes.length) {
    const next = decodeElement(bytes, offset);
    if (classify(next.node) !== 'certificate') {
      throw new InputError(`The certificate is followed by ${bytes.length - offset} bytes that are not a certificate.`);
    }
    pushAll(ders, [bytes.subarray(offset, next.end)]);
    offset = next.end;
  }
  return ders;
}

/**
 * A PEM certificate body must be one DER certificate. A plain CERTIFICATE block is passed on as it is:
 * parseCertificate does the strict, bounded structure check (decoding it here too doubled the cost of
 * every validation). Other labels need the decode to find where the certificate ends.
 */
function certificateBlock(der: Uint8Array, label: string): Uint8Array {
  if (label === 'CERTIFICATE') {
    if (der[0] !== 0x30) throw new InputError(`The PEM block "${label}" does not hold an X.509 certificate.`);
    return der;
  }
  const { node, end } = decodeElement(der);
  if (classify(node) !== 'certificate') throw new InputError(`The PEM block "${label}" does not hold an X.509 certificate.`);
  // OpenSSL's TRUSTED CERTIFICATE appends trust settings after the certificate.
  if (end !== der.length && label !== 'TRUSTED CERTIFICATE') {
    throw new InputError(`The PEM block "${label}" has ${der.length - end} unexpected bytes after the certificate.`);
  }
  return der.subarray(0, end);
}

// ---- PKCS#7 (RFC 5652 SignedData, "certs-only" bundles) -------------------------------------------------

function readPkcs7(bytes: Uint8Array): Uint8Array[] {
  let signed: SignedData;
  try {
    const ci = AsnConvert.parse(bytes, ContentInfo, { berOptions: INPUT_LIMITS.ber });
    if (ci.contentType !== id_signedData) throw new InputError(`The PKCS#7 content type is ${ci.contentType}, not SignedData.`);
    signed = AsnConvert.parse(ci.content, SignedData, { berOptions: INPUT_LIMITS.ber });
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`The PKCS#7 bundle cannot be read: ${errorText(e)}.`);
  }
  const declared = (signed.certificates ?? []).filter((c) => c.certificate !== undefined).length;
  if (declared === 0) throw new InputError('The PKCS#7 bundle holds no certificate.');
  if (declared > INPUT_LIMITS.maxCertificates) {
    throw new InputError(`The PKCS#7 bundle holds ${declared} certificates, more than the ${INPUT_LIMITS.maxCertificates} accepted.`);
  }

  // The exact bytes of each certificate (re-encoding could change a signed structure): ContentInfo →
  // [0] content → SignedData → [0] IMPLICIT CertificateSet → Certificate SEQUENCEs.
  const content = children(decodeElement(bytes).node)[1];
  const sd = content ? children(content)[0] : undefined;
  const set = sd ? children(sd).find((n) => n.idBlock.tagClass === 3 && n.idBlock.tagNumber === 0) : undefined;
  const certNodes = set ? children(set).filter((n) => isUniversal(n, 16)) : [];
  if (certNodes.length !== declared) throw new InputError('The PKCS#7 certificate set cannot be read consistently.');
  const ders = certNodes.map((n) => new Uint8Array(n.valueBeforeDecodeView));
  return leafFirst(ders, certNodes);
}

/** Moves the one certificate that is nobody's issuer to the front (names compared as DER, RFC 5280 §7.1). */
function leafFirst(ders: Uint8Array[], nodes: asn1js.AsnType[]): Uint8Array[] {
  if (ders.length < 2) return ders;
  const names = nodes.map((n) => {
    const tbs = children(n)[0];
    const fields = tbs ? children(tbs) : [];
    // TBSCertificate: [0] version is optional; issuer and subject follow serialNumber and signature.
    const shift = fields[0]?.idBlock.tagClass === 3 ? 1 : 0;
    const hex = (node: asn1js.AsnType | undefined) => (node ? Buffer.from(node.valueBeforeDecodeView).toString('hex') : '');
    return { issuer: hex(fields[2 + shift]), subject: hex(fields[4 + shift]) };
  });
  const leaves = names
    .map((n, i) => ({ i, n }))
    .filter(({ i, n }) => !names.some((other, j) => j !== i && other.issuer === n.subject && n.subject !== ''));
  const leaf = leaves.length === 1 ? leaves[0] : undefined;
  if (!leaf || leaf.i === 0) return ders;
  const leafDer = ders[leaf.i];
  if (!leafDer) return ders;
  return [leafDer, ...ders.filter((_, i) => i !== leaf.i)];
}

// ---- PKCS#12 (RFC 7292) ---------------------------------------------------------------------------------

type KdfFn = (...args: unknown[]) => unknown;

/**
 * node-forge derives keys with a caller-chosen iteration count (MAC and PBE parameters come from the file).
 * While a file is opened, its key-derivation entry points are wrapped to enforce per-call and total
 * iteration limits and a time budget; the wrappers are removed before returning (the call is synchronous).
 */
function withKdfLimits<T>(fn: () => T): T {
  const targets: [Record<string, unknown>, string, number][] = [
    [forge.pkcs12 as unknown as Record<string, unknown>, 'generateKey', 3],
    [(forge.pki as unknown as { pbe: Record<string, unknown> }).pbe, 'generatePkcs12Key', 3],
    [forge.pkcs5 as unknown as Record<string, unknown>, 'pbkdf2', 2],
  ];
  const saved = targets.map(([obj, key]) => obj[key]);
  const deadline = Date.now() + INPUT_LIMITS.pkcs12TimeBudgetMs;
  let total = 0;
  targets.forEach(([obj, key, iterArg], idx) => {
    const original = saved[idx] as KdfFn;
    obj[key] = (...args: unknown[]) => {
      const iterations = Number(args[iterArg]);
      if (!Number.isFinite(iterations) || iterations > INPUT_LIMITS.maxKdfIterations) {
        throw new InputError(
          `The PKCS#12 file asks for ${args[iterArg]} key-derivation iterations, more than the ${INPUT_LIMITS.maxKdfIterations} accepted.`,
        );
      }
      total += iterations;
      if (total > INPUT_LIMITS.maxKdfIterationsTotal || Date.now() > deadline) {
        throw new InputError('Opening the PKCS#12 file needs more key-derivation work than accepted.');
      }
      return original(...args);
    };
  });
  try {
    return fn();
  } finally {
    targets.forEach(([obj, key], idx) => {
      obj[key] = saved[idx];
    });
  }
}

function readPkcs12(bytes: Uint8Array, password: string | undefined): Uint8Array[] {
  const binary = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('binary');
  let pfx: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(binary), false);
    pfx = withKdfLimits(() => forge.pkcs12.pkcs12FromAsn1(asn1, false, password));
  } catch (e) {
    if (e instanceof InputError) throw e;
    const text = errorText(e);
    if (/password|MAC could not be verified|Failed to decrypt/i.test(text)) {
      throw new InputError(
        password === undefined || password === ''
          ? 'The PKCS#12 file is password-protected and no password was given.'
          : 'The PKCS#12 file could not be opened with the password given.',
        'input.password',
      );
    }
    throw new InputError(`The PKCS#12 file cannot be read: ${text}.`);
  }

  const keyIds = new Set<string>();
  const certs: { der: Uint8Array; keyId: string | null }[] = [];
  for (const safe of pfx.safeContents) {
    for (const bag of safe.safeBags) {
      const localKeyId = localKeyIdOf(bag);
      if (bag.type === forge.pki.oids.certBag) {
        const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1;
        if (!asn1) continue;
        const der = new Uint8Array(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'));
        if (certs.length >= INPUT_LIMITS.maxCertificates) {
          throw new InputError(`The PKCS#12 file holds more than ${INPUT_LIMITS.maxCertificates} certificates.`);
        }
        certs.push({ der, keyId: localKeyId });
      } else if (bag.type === forge.pki.oids.pkcs8ShroudedKeyBag || bag.type === forge.pki.oids.keyBag) {
        if (localKeyId) keyIds.add(localKeyId);
      }
      // Drop decrypted key material as soon as possible: it is never returned or kept.
      bag.key = undefined;
      if (bag.type !== forge.pki.oids.certBag) (bag as { asn1?: unknown }).asn1 = undefined;
    }
  }
  if (certs.length === 0) throw new InputError('The PKCS#12 file holds no certificate.');
  const subject = certs.findIndex((c) => c.keyId !== null && keyIds.has(c.keyId));
  if (subject > 0) {
    const [s] = certs.splice(subject, 1);
    if (s) certs.unshift(s);
  }
  return certs.map((c) => c.der);
}

function localKeyIdOf(bag: forge.pkcs12.Bag): string | null {
  const attrs = bag.attributes as Record<string, unknown> | undefined;
  const ids = attrs?.localKeyId;
  if (Array.isArray(ids) && typeof ids[0] === 'string') return Buffer.from(ids[0], 'binary').toString('hex');
  return null;
}
