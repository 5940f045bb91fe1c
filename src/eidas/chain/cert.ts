/**
 * One decode of a certificate for path validation: the fields and extensions RFC 5280 §6.1 needs, each
 * decoded once. Decoding never throws out of this module: an unreadable certificate gives `null`, an
 * undecodable extension is recorded in `badExtensions` so the check that needs it fails closed.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1x509 from '@peculiar/asn1-x509';
import {
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_certificatePolicies,
  id_ce_cRLDistributionPoints,
  id_ce_extKeyUsage,
  id_ce_inhibitAnyPolicy,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_policyConstraints,
  id_ce_policyMappings,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
} from '../oids.js';
import { Lru } from './lru.js';
import { type NormName, nameText, normalizeName } from './names.js';

/** Certificates larger than this are not decoded (real ones are a few KiB). */
export const MAX_CERT_BYTES = 64 * 1024;

export interface Subtree {
  base: asn1x509.GeneralName;
  /** RFC 5280 §4.2.1.10: minimum MUST be 0 and maximum absent; anything else is not processed. */
  unsupported: boolean;
}

export interface ChainCert {
  der: Uint8Array;
  sha256: string;
  version: number;
  tbs: Uint8Array;
  /** Outer signatureAlgorithm; `innerAlgMatches` compares it with the TBS copy (RFC 5280 §4.1.1.2). */
  sigAlg: asn1x509.AlgorithmIdentifier;
  innerAlgMatches: boolean;
  signature: Uint8Array;
  subject: NormName;
  issuer: NormName;
  /** For display, as @peculiar/x509 prints it (sign byte dropped). */
  serialHex: string;
  /** For matching (CRL entries): the INTEGER content bytes as encoded, so 255 (00 ff) ≠ -1 (ff). */
  serialRaw: string;
  notBefore: Date;
  notAfter: Date;
  spki: Uint8Array;
  /** SHA-256 of the SubjectPublicKeyInfo: the identity of the key. */
  spkiHash: string;
  keyAlgorithm: string;
  /** Algorithm parameters of the key; null when absent or NULL (RFC 5280 §6.1.4 (e)). */
  keyParams: ArrayBuffer | null;
  /** RFC 5280 §6.1: subject and issuer names match. */
  selfIssued: boolean;
  extensions: { oid: string; critical: boolean }[];
  /** OIDs of extensions that appear more than once or whose value could not be decoded. */
  badExtensions: Set<string>;
  basicConstraints: { ca: boolean; pathLen: number | undefined } | null;
  keyUsage: number | null;
  eku: string[] | null;
  ski: string | null;
  akiKeyId: string | null;
  san: asn1x509.GeneralName[] | null;
  nameConstraints: { permitted: Subtree[]; excluded: Subtree[] } | null;
  policies: string[] | null;
  policyMappings: { issuerDomainPolicy: string; subjectDomainPolicy: string }[] | null;
  policyConstraints: { requireExplicitPolicy: number | undefined; inhibitPolicyMapping: number | undefined } | null;
  inhibitAnyPolicy: number | null;
  crlDistributionPoints: asn1x509.DistributionPoint[] | null;
  /** Lazily built display strings and key object. */
  subjectText(): string;
  issuerText(): string;
  publicKey(): KeyObject | null;
}

const cache = new Lru<string, ChainCert>(512);

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hex(buf: ArrayBuffer | Uint8Array): string {
  return Buffer.from(buf instanceof Uint8Array ? buf : new Uint8Array(buf)).toString('hex');
}

function bytes(buf: ArrayBuffer): Uint8Array {
  return new Uint8Array(buf);
}

function timeOf(t: asn1x509.Time): Date {
  return t.getTime();
}

/** RFC 5280 §4.1.2.2, as @peculiar/x509 prints it: hex of the INTEGER without the sign byte. */
function serialHexOf(raw: ArrayBuffer): string {
  let b = new Uint8Array(raw);
  const second = b[1];
  if (b.length > 1 && b[0] === 0 && second !== undefined && second > 0x7f) b = b.slice(1);
  return Buffer.from(b).toString('hex');
}

function algKey(a: asn1x509.AlgorithmIdentifier): string {
  return `${a.algorithm}:${a.parameters ? hex(a.parameters) : ''}`;
}

function paramsOf(alg: asn1x509.AlgorithmIdentifier): ArrayBuffer | null {
  const p = alg.parameters;
  if (!p || p.byteLength === 0) return null;
  const b = new Uint8Array(p);
  return b.length === 2 && b[0] === 0x05 && b[1] === 0x00 ? null : p;
}

/** The key that verifies signatures made by a certificate's subject (RFC 5280 §6.1.4 (d)-(f)). */
export interface WorkingKey {
  spkiHash: string;
  algorithm: string;
  params: ArrayBuffer | null;
  publicKey(): KeyObject | null;
}

const id_dsa = '1.2.840.10040.4.1';

/**
 * §6.1.4 (e): a DSA key without parameters inherits those of the working key when the algorithm is the
 * same (PKITS 4.1.5). Other algorithms always carry their parameters (EC) or have none to inherit (RSA).
 */
export function nextWorkingKey(cert: ChainCert, working: WorkingKey | null): WorkingKey {
  if (cert.keyParams !== null || cert.keyAlgorithm !== id_dsa || !working || working.algorithm !== id_dsa || !working.params) {
    return { spkiHash: cert.spkiHash, algorithm: cert.keyAlgorithm, params: cert.keyParams, publicKey: () => cert.publicKey() };
  }
  const inherited = working.params;
  const spki = AsnConvert.parse(cert.spki, asn1x509.SubjectPublicKeyInfo);
  spki.algorithm = new asn1x509.AlgorithmIdentifier({ algorithm: id_dsa, parameters: inherited });
  const der = new Uint8Array(AsnConvert.serialize(spki));
  let key: KeyObject | null | undefined;
  return {
    spkiHash: sha256Hex(der),
    algorithm: id_dsa,
    params: inherited,
    publicKey: () => {
      if (key === undefined) {
        try {
          key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
        } catch {
          key = null;
        }
      }
      return key;
    },
  };
}

/** Decodes the DER, or returns a cached decode of the same bytes. */
export function getChainCert(der: Uint8Array): ChainCert | null {
  return parseChainCert(der, true);
}

/** `useCache` false for long-lived objects kept elsewhere (trust anchors), so they do not evict others. */
export function parseChainCert(der: Uint8Array, useCache: boolean): ChainCert | null {
  if (!(der instanceof Uint8Array) || der.byteLength === 0 || der.byteLength > MAX_CERT_BYTES) return null;
  const sha = sha256Hex(der);
  const hit = cache.get(sha);
  if (hit) return hit;
  // A private copy: the cached object must not change if the caller reuses its buffer.
  const parsed = decode(new Uint8Array(der), sha);
  if (parsed && useCache) cache.set(sha, parsed);
  return parsed;
}

/**
 * Seeds the cache with a certificate the caller already decoded with the same schema (the profile
 * stage does), so one validation decodes each certificate once. `der` must not be modified afterwards.
 */
export function primeChainCert(der: Uint8Array, asn: asn1x509.Certificate): void {
  if (der.byteLength === 0 || der.byteLength > MAX_CERT_BYTES) return;
  const sha = sha256Hex(der);
  if (cache.get(sha)) return;
  const parsed = fromAsn(der, sha, asn);
  if (parsed) cache.set(sha, parsed);
}

function decode(der: Uint8Array, sha: string): ChainCert | null {
  let asn: asn1x509.Certificate;
  try {
    // Contents of BIT/OCTET STRINGs are decoded where needed, not speculatively (faster, less surface).
    asn = AsnConvert.parse(der, asn1x509.Certificate, { berOptions: { parseEmbedded: false } });
  } catch {
    return null;
  }
  return fromAsn(der, sha, asn);
}

function fromAsn(der: Uint8Array, sha: string, asn: asn1x509.Certificate): ChainCert | null {
  try {
    const tbs = asn.tbsCertificate;
    if (!asn.tbsCertificateRaw) return null;
    const subject = normalizeName(tbs.subject);
    const issuer = normalizeName(tbs.issuer);
    const spki = bytes(AsnConvert.serialize(tbs.subjectPublicKeyInfo));
    const cert: ChainCert = {
      der,
      sha256: sha,
      version: (tbs.version ?? 0) + 1,
      tbs: bytes(asn.tbsCertificateRaw),
      sigAlg: asn.signatureAlgorithm,
      innerAlgMatches: algKey(asn.signatureAlgorithm) === algKey(tbs.signature),
      signature: bytes(asn.signatureValue),
      subject,
      issuer,
      serialHex: serialHexOf(tbs.serialNumber),
      serialRaw: hex(tbs.serialNumber),
      notBefore: timeOf(tbs.validity.notBefore),
      notAfter: timeOf(tbs.validity.notAfter),
      spki,
      spkiHash: sha256Hex(spki),
      keyAlgorithm: tbs.subjectPublicKeyInfo.algorithm.algorithm,
      keyParams: paramsOf(tbs.subjectPublicKeyInfo.algorithm),
      selfIssued: subject.key === issuer.key,
      extensions: [],
      badExtensions: new Set(),
      basicConstraints: null,
      keyUsage: null,
      eku: null,
      ski: null,
      akiKeyId: null,
      san: null,
      nameConstraints: null,
      policies: null,
      policyMappings: null,
      policyConstraints: null,
      inhibitAnyPolicy: null,
      crlDistributionPoints: null,
      subjectText: () => nameText(tbs.subject),
      issuerText: () => nameText(tbs.issuer),
      publicKey: () => null,
    };
    let key: KeyObject | null | undefined;
    cert.publicKey = () => {
      if (key === undefined) {
        try {
          key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
        } catch {
          key = null;
        }
      }
      return key;
    };
    let subjectText: string | undefined;
    let issuerText: string | undefined;
    cert.subjectText = () => (subjectText ??= nameText(tbs.subject));
    cert.issuerText = () => (issuerText ??= nameText(tbs.issuer));
    readExtensions(cert, tbs.extensions ?? []);
    return cert;
  } catch {
    return null;
  }
}

/** RFC 5280 §4.2.1.11 SkipCerts ::= INTEGER (0..MAX): the raw INTEGER bytes as a number, capped. */
function skipCerts(raw: ArrayBuffer): number {
  const b = new Uint8Array(raw);
  const first = b[0];
  if (first === undefined || first > 0x7f) throw new Error('SkipCerts must be a non-negative INTEGER');
  let n = 0;
  for (const x of b) {
    n = n * 256 + x;
    if (n > 1_000_000) return 1_000_000;
  }
  return n;
}

function subtrees(list: asn1x509.GeneralSubtrees | undefined): Subtree[] {
  return Array.from(list ?? [], (s) => ({
    base: s.base,
    unsupported: (s.minimum ?? 0) !== 0 || s.maximum !== undefined,
  }));
}

const DECODERS: Record<string, (cert: ChainCert, value: ArrayBuffer) => void> = {
  [id_ce_basicConstraints]: (c, v) => {
    const bc = AsnConvert.parse(v, asn1x509.BasicConstraints);
    c.basicConstraints = { ca: bc.cA === true, pathLen: bc.pathLenConstraint };
  },
  [id_ce_keyUsage]: (c, v) => {
    c.keyUsage = AsnConvert.parse(v, asn1x509.KeyUsage).toNumber();
  },
  [id_ce_extKeyUsage]: (c, v) => {
    c.eku = Array.from(AsnConvert.parse(v, asn1x509.ExtendedKeyUsage), (o) => String(o));
  },
  [id_ce_subjectKeyIdentifier]: (c, v) => {
    c.ski = hex(AsnConvert.parse(v, asn1x509.SubjectKeyIdentifier).buffer);
  },
  [id_ce_authorityKeyIdentifier]: (c, v) => {
    const aki = AsnConvert.parse(v, asn1x509.AuthorityKeyIdentifier);
    c.akiKeyId = aki.keyIdentifier ? hex(aki.keyIdentifier.buffer) : null;
  },
  [id_ce_subjectAltName]: (c, v) => {
    c.san = Array.from(AsnConvert.parse(v, asn1x509.SubjectAlternativeName));
  },
  [id_ce_nameConstraints]: (c, v) => {
    const nc = AsnConvert.parse(v, asn1x509.NameConstraints);
    c.nameConstraints = { permitted: subtrees(nc.permittedSubtrees), excluded: subtrees(nc.excludedSubtrees) };
  },
  [id_ce_certificatePolicies]: (c, v) => {
    c.policies = Array.from(AsnConvert.parse(v, asn1x509.CertificatePolicies), (p) => p.policyIdentifier);
  },
  [id_ce_policyMappings]: (c, v) => {
    c.policyMappings = Array.from(AsnConvert.parse(v, asn1x509.PolicyMappings), (m) => ({
      issuerDomainPolicy: m.issuerDomainPolicy,
      subjectDomainPolicy: m.subjectDomainPolicy,
    }));
  },
  [id_ce_policyConstraints]: (c, v) => {
    const pc = AsnConvert.parse(v, asn1x509.PolicyConstraints);
    c.policyConstraints = {
      requireExplicitPolicy: pc.requireExplicitPolicy === undefined ? undefined : skipCerts(pc.requireExplicitPolicy),
      inhibitPolicyMapping: pc.inhibitPolicyMapping === undefined ? undefined : skipCerts(pc.inhibitPolicyMapping),
    };
  },
  [id_ce_inhibitAnyPolicy]: (c, v) => {
    c.inhibitAnyPolicy = skipCerts(AsnConvert.parse(v, asn1x509.InhibitAnyPolicy).value);
  },
  [id_ce_cRLDistributionPoints]: (c, v) => {
    c.crlDistributionPoints = Array.from(AsnConvert.parse(v, asn1x509.CRLDistributionPoints));
  },
};

function readExtensions(cert: ChainCert, exts: asn1x509.Extensions): void {
  const seen = new Set<string>();
  for (const ext of exts) {
    cert.extensions.push({ oid: ext.extnID, critical: ext.critical === true });
    if (seen.has(ext.extnID)) {
      // RFC 5280 §4.2: an extension appears at most once; a second copy makes the meaning ambiguous.
      cert.badExtensions.add(ext.extnID);
      continue;
    }
    seen.add(ext.extnID);
    const decoder = DECODERS[ext.extnID];
    if (!decoder) continue;
    try {
      decoder(cert, ext.extnValue.buffer);
    } catch {
      cert.badExtensions.add(ext.extnID);
    }
  }
}
