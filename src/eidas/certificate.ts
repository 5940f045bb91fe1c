/**
 * One bounded decode of an X.509 certificate into the model the profile checks read.
 *
 * The certificate is parsed once with @peculiar/x509 (asn1js resource limits on), and the extensions the
 * checks need are decoded here, each on its own, so that one bad extension value is recorded in
 * `extensionErrors` instead of hiding the rest of the certificate.
 */
import { createHash } from 'node:crypto';
import { ECParameters } from '@peculiar/asn1-ecc';
import { RSAPublicKey, RsaSaPssParams } from '@peculiar/asn1-rsa';
import { AsnConvert, type IAsnParseOptions } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  Certificate,
  CertificatePolicies,
  ExtendedKeyUsage,
  KeyUsage,
  type Name,
  SubjectAlternativeName,
} from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { primeChainCert } from './chain/cert.js';
import { finding } from './findings.js';
import {
  id_ce_basicConstraints,
  id_ce_certificatePolicies,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
} from './oids.js';
import type { Finding } from './types.js';
import { x509 } from './x509.js';

export const CERTIFICATE_LIMITS = {
  /** Largest certificate accepted (same bound as the whole input). */
  maxBytes: 1024 * 1024,
  /** asn1js limits for the certificate structure (extension values are opaque at this level). */
  ber: { maxDepth: 64, maxNodes: 5000, maxContentLength: 1024 * 1024, parseEmbedded: false },
  /** More subjectAltName entries than this is treated as hostile input. */
  maxSubjectAltNames: 1000,
  /** dNSNames kept in the model; the rest are counted only. */
  keptDnsNames: 100,
  /** Subject attributes kept in the model. */
  maxSubjectAttributes: 200,
} as const;

const PARSE_OPTIONS: IAsnParseOptions = { berOptions: { ...CERTIFICATE_LIMITS.ber } };
/** Extension values: the SAN bound needs room for two nodes per name. */
const EXTENSION_PARSE_OPTIONS: IAsnParseOptions = {
  berOptions: { ...CERTIFICATE_LIMITS.ber, maxNodes: CERTIFICATE_LIMITS.maxSubjectAltNames * 2 + 16 },
};

export interface ParsedExtension {
  oid: string;
  critical: boolean;
  /** extnValue contents (the DER inside the OCTET STRING). */
  value: Uint8Array;
}

export type StringTag = 'utf8' | 'printable' | 'ia5' | 'teletex' | 'bmp' | 'universal' | 'other';

export interface SubjectAttribute {
  oid: string;
  value: string;
  /** ASN.1 string type the value was encoded with. */
  tag: StringTag;
}

export interface PublicKeyInfo {
  algorithm: 'RSA' | 'RSA-PSS' | 'EC' | 'Ed25519' | 'Ed448' | 'DSA' | 'unknown';
  oid: string;
  /** Modulus size for RSA, field size for EC; null when unknown. */
  bits: number | null;
  /** EC named curve OID; null for other keys or explicit curve parameters. */
  curve: string | null;
  /** RSA public exponent. */
  exponent: bigint | null;
  /** Why the key could not be read in full, if so. */
  error: string | null;
}

export interface SignatureAlgorithmInfo {
  oid: string;
  name: string;
  /** Digest of the signature, e.g. "SHA-256"; null when unknown or not applicable (EdDSA). */
  hash: string | null;
}

export interface ParsedCertificate {
  der: Uint8Array;
  x509: x509.X509Certificate;
  version: number;
  subject: string;
  issuer: string;
  /** Hex, as printed by @peculiar/x509. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER, lowercase hex. */
  sha256: string;
  subjectAttributes: SubjectAttribute[];
  publicKey: PublicKeyInfo;
  signatureAlgorithm: SignatureAlgorithmInfo;
  /** All extensions in certificate order (duplicates kept). */
  extensions: ParsedExtension[];
  /** x509.KeyUsageFlags bits; null when the extension is absent or unreadable. */
  keyUsage: number | null;
  extKeyUsage: string[] | null;
  subjectAltName: { dnsNames: string[]; dnsCount: number; total: number } | null;
  policies: string[] | null;
  basicConstraints: { ca: boolean; pathLength: number | null } | null;
  /** Extensions present but not decodable (RFC 5280 §4.2 syntax). */
  extensionErrors: { oid: string; message: string }[];
}

/** A certificate subclass that exposes the ASN.1 model @peculiar/x509 already decoded. */
class CertificateView extends x509.X509Certificate {
  get certificateAsn(): Certificate {
    return this.asn;
  }
}

export type ParseResult = { ok: true; cert: ParsedCertificate } | { ok: false; finding: Finding };

export function parseCertificate(der: Uint8Array, opts: { certIndex?: number } = {}): ParseResult {
  const fail = (detail: string): ParseResult => ({
    ok: false,
    finding: finding('malformed', detail, opts.certIndex === undefined ? {} : { certIndex: opts.certIndex }),
  });
  try {
    if (!(der instanceof Uint8Array) || der.length === 0) return fail('The certificate is empty.');
    if (der.length > CERTIFICATE_LIMITS.maxBytes) {
      return fail(`The certificate is ${der.length} bytes long, more than the ${CERTIFICATE_LIMITS.maxBytes} bytes accepted.`);
    }
    if (der[0] !== 0x30) return fail('The data is not a DER certificate (it does not start with a SEQUENCE).');

    // RFC 5280 §4.1: exactly one Certificate SEQUENCE, nothing before or after it.
    const outer = asn1js.fromBER(der, CERTIFICATE_LIMITS.ber);
    if (outer.offset === -1) return fail(`The certificate is not valid DER: ${outer.result.error || 'decoding failed'}.`);
    if (outer.offset !== der.length) {
      return fail(`The certificate is followed by ${der.length - outer.offset} unexpected bytes.`);
    }

    let view: CertificateView;
    // A private copy: the decoded objects are shared with the chain module's cache (primeChainCert).
    const own = new Uint8Array(der);
    try {
      const asnCert = AsnConvert.parse(own, Certificate, PARSE_OPTIONS);
      view = new CertificateView(asnCert);
      primeChainCert(own, asnCert);
    } catch (e) {
      return fail(`The data is not an X.509 certificate: ${errorText(e)}.`);
    }
    const asn = view.certificateAsn;
    const tbs = asn.tbsCertificate;

    const extensions: ParsedExtension[] = (tbs.extensions ?? []).map((e) => ({
      oid: e.extnID,
      critical: e.critical,
      value: new Uint8Array(e.extnValue.buffer),
    }));

    const extensionErrors: { oid: string; message: string }[] = [];
    const first = (oid: string) => extensions.find((e) => e.oid === oid);
    function decode<T>(oid: string, what: string, fn: (value: Uint8Array) => T): T | null {
      const ext = first(oid);
      if (!ext) return null;
      try {
        return fn(ext.value);
      } catch (e) {
        extensionErrors.push({ oid, message: `The ${what} extension (${oid}) could not be decoded: ${errorText(e)}.` });
        return null;
      }
    }

    // Bound the SAN before anything (including @peculiar/x509's own extension objects) decodes it in full.
    const sanExt = first(id_ce_subjectAltName);
    if (sanExt) {
      const count = countSequenceItems(sanExt.value, CERTIFICATE_LIMITS.maxSubjectAltNames);
      if (count === 'too-many') {
        return fail(
          `The subjectAltName extension is too large (more than ${CERTIFICATE_LIMITS.maxSubjectAltNames} names); such a certificate is not accepted.`,
        );
      }
    }

    const subjectAltName = decode(id_ce_subjectAltName, 'subjectAltName', (v) => {
      const names = AsnConvert.parse(v, SubjectAlternativeName, EXTENSION_PARSE_OPTIONS);
      const dnsNames: string[] = [];
      let dnsCount = 0;
      for (const n of names) {
        if (n.dNSName === undefined) continue;
        dnsCount++;
        if (dnsNames.length < CERTIFICATE_LIMITS.keptDnsNames) dnsNames.push(n.dNSName);
      }
      return { dnsNames, dnsCount, total: names.length };
    });
    const keyUsage = decode(id_ce_keyUsage, 'keyUsage', (v) =>
      AsnConvert.parse(v, KeyUsage, EXTENSION_PARSE_OPTIONS).toNumber(),
    );
    const extKeyUsage = decode(id_ce_extKeyUsage, 'extendedKeyUsage', (v) => [
      ...AsnConvert.parse(v, ExtendedKeyUsage, EXTENSION_PARSE_OPTIONS),
    ]);
    const policies = decode(id_ce_certificatePolicies, 'certificatePolicies', (v) =>
      AsnConvert.parse(v, CertificatePolicies, EXTENSION_PARSE_OPTIONS).map((p) => p.policyIdentifier),
    );
    const basicConstraints = decode(id_ce_basicConstraints, 'basicConstraints', (v) => {
      const bc = AsnConvert.parse(v, BasicConstraints, EXTENSION_PARSE_OPTIONS);
      return { ca: bc.cA, pathLength: bc.pathLenConstraint ?? null };
    });

    let subject: string;
    let issuer: string;
    try {
      subject = view.subject;
      issuer = view.issuer;
    } catch (e) {
      return fail(`The subject or issuer name cannot be read: ${errorText(e)}.`);
    }
    const validity = tbs.validity;
    const notBefore = validity.notBefore.utcTime ?? validity.notBefore.generalTime;
    const notAfter = validity.notAfter.utcTime ?? validity.notAfter.generalTime;
    if (!notBefore || !notAfter || Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
      return fail('The validity period cannot be read.');
    }

    const cert: ParsedCertificate = {
      der,
      x509: view,
      version: tbs.version + 1,
      subject,
      issuer,
      serialNumber: view.serialNumber,
      notBefore,
      notAfter,
      sha256: createHash('sha256').update(der).digest('hex'),
      subjectAttributes: readAttributes(tbs.subject),
      publicKey: readPublicKey(asn),
      signatureAlgorithm: readSignatureAlgorithm(asn),
      extensions,
      keyUsage,
      extKeyUsage,
      subjectAltName,
      policies,
      basicConstraints,
      extensionErrors,
    };
    return { ok: true, cert };
  } catch (e) {
    // RangeError from a stack overflow or any decoder surprise: hostile input is a finding, not a crash.
    return fail(`The certificate cannot be decoded: ${errorText(e)}.`);
  }
}

/** Counts the items of a SEQUENCE OF without decoding past `max` + 1 of them. */
function countSequenceItems(value: Uint8Array, max: number): number | 'too-many' | 'invalid' {
  const r = asn1js.fromBER(value, { ...CERTIFICATE_LIMITS.ber, maxNodes: max * 2 + 16 });
  if (r.offset === -1) return /node count/i.test(r.result.error) ? 'too-many' : 'invalid';
  const items = (r.result as asn1js.Sequence).valueBlock?.value;
  if (!Array.isArray(items)) return 'invalid';
  return items.length > max ? 'too-many' : items.length;
}

function readAttributes(name: Name): SubjectAttribute[] {
  const out: SubjectAttribute[] = [];
  for (const rdn of name) {
    for (const atv of rdn) {
      if (out.length >= CERTIFICATE_LIMITS.maxSubjectAttributes) return out;
      const v = atv.value;
      let tag: StringTag = 'other';
      let value: string;
      if (v.utf8String !== undefined) [tag, value] = ['utf8', v.utf8String];
      else if (v.printableString !== undefined) [tag, value] = ['printable', v.printableString];
      else if (v.ia5String !== undefined) [tag, value] = ['ia5', v.ia5String];
      else if (v.teletexString !== undefined) [tag, value] = ['teletex', v.teletexString];
      else if (v.bmpString !== undefined) [tag, value] = ['bmp', v.bmpString];
      else if (v.universalString !== undefined) [tag, value] = ['universal', v.universalString];
      else value = safeToString(v);
      out.push({ oid: atv.type, value, tag });
    }
  }
  return out;
}

function safeToString(v: { toString(): string }): string {
  try {
    return v.toString();
  } catch {
    return '';
  }
}

const CURVE_BITS: Record<string, number> = {
  '1.2.840.10045.3.1.7': 256, // P-256
  '1.3.132.0.34': 384, // P-384
  '1.3.132.0.35': 521, // P-521
  '1.3.132.0.10': 256, // secp256k1
  '1.3.36.3.3.2.8.1.1.7': 256, // brainpoolP256r1
  '1.3.36.3.3.2.8.1.1.11': 384, // brainpoolP384r1
  '1.3.36.3.3.2.8.1.1.13': 512, // brainpoolP512r1
};

function readPublicKey(asn: Certificate): PublicKeyInfo {
  const spki = asn.tbsCertificate.subjectPublicKeyInfo;
  const oid = spki.algorithm.algorithm;
  const info: PublicKeyInfo = { algorithm: 'unknown', oid, bits: null, curve: null, exponent: null, error: null };
  try {
    switch (oid) {
      case '1.2.840.113549.1.1.1':
      case '1.2.840.113549.1.1.10': {
        info.algorithm = oid.endsWith('.10') ? 'RSA-PSS' : 'RSA';
        const key = AsnConvert.parse(spki.subjectPublicKey, RSAPublicKey, EXTENSION_PARSE_OPTIONS);
        const modulus = toBigInt(new Uint8Array(key.modulus));
        info.bits = modulus === 0n ? 0 : modulus.toString(2).length;
        info.exponent = toBigInt(new Uint8Array(key.publicExponent));
        break;
      }
      case '1.2.840.10045.2.1': {
        info.algorithm = 'EC';
        if (spki.algorithm.parameters) {
          const params = AsnConvert.parse(spki.algorithm.parameters, ECParameters, EXTENSION_PARSE_OPTIONS);
          info.curve = params.namedCurve ?? null;
          info.bits = info.curve ? (CURVE_BITS[info.curve] ?? null) : null;
        }
        break;
      }
      case '1.3.101.112':
        [info.algorithm, info.bits] = ['Ed25519', 256];
        break;
      case '1.3.101.113':
        [info.algorithm, info.bits] = ['Ed448', 456];
        break;
      case '1.2.840.10040.4.1':
        info.algorithm = 'DSA';
        break;
    }
  } catch (e) {
    info.error = errorText(e);
  }
  return info;
}

/** Big-endian two's complement content of an INTEGER, read as unsigned (RSA values are positive). */
function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

const SIGNATURE_ALGORITHMS: Record<string, { name: string; hash: string | null }> = {
  '1.2.840.113549.1.1.2': { name: 'md2WithRSAEncryption', hash: 'MD2' },
  '1.2.840.113549.1.1.3': { name: 'md4WithRSAEncryption', hash: 'MD4' },
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', hash: 'MD5' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', hash: 'SHA-1' },
  '1.3.14.3.2.29': { name: 'sha1WithRSASignature', hash: 'SHA-1' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'SHA-256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'SHA-384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'SHA-512' },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', hash: 'SHA-224' },
  '1.2.840.113549.1.1.10': { name: 'RSASSA-PSS', hash: null },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', hash: 'SHA-1' },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', hash: 'SHA-224' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'SHA-256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'SHA-384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'SHA-512' },
  '1.2.840.10040.4.3': { name: 'dsa-with-sha1', hash: 'SHA-1' },
  '2.16.840.1.101.3.4.3.2': { name: 'dsa-with-sha256', hash: 'SHA-256' },
  '1.3.101.112': { name: 'Ed25519', hash: null },
  '1.3.101.113': { name: 'Ed448', hash: null },
};

const DIGESTS: Record<string, string> = {
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
  '2.16.840.1.101.3.4.2.4': 'SHA-224',
  '1.2.840.113549.2.5': 'MD5',
};

function readSignatureAlgorithm(asn: Certificate): SignatureAlgorithmInfo {
  const oid = asn.signatureAlgorithm.algorithm;
  const known = SIGNATURE_ALGORITHMS[oid];
  const info: SignatureAlgorithmInfo = { oid, name: known?.name ?? oid, hash: known?.hash ?? null };
  if (oid === '1.2.840.113549.1.1.10') {
    // RFC 4055 §3.1: the PSS hash defaults to SHA-1 when the parameters omit it.
    try {
      const params = asn.signatureAlgorithm.parameters;
      const pss = params ? AsnConvert.parse(params, RsaSaPssParams, EXTENSION_PARSE_OPTIONS) : new RsaSaPssParams();
      const h = pss.hashAlgorithm.algorithm;
      info.hash = DIGESTS[h] ?? h;
    } catch {
      info.hash = null;
    }
  }
  return info;
}

export function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
