/**
 * Distinguished-name comparison for path building (RFC 5280 §7.1): two names match when they have the
 * same RDNs in the same order, each RDN holding the same set of attributes, and the attribute values
 * match after RFC 4518 string preparation. The preparation kept here is the part that matters for
 * certificates: Unicode NFKC, case folding and insignificant-space handling, applied to every directory
 * string type, so a PrintableString and a UTF8String of the same text match (PKITS 4.3.3-4.3.11).
 * Values that are not strings are compared byte for byte.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1x509 from '@peculiar/asn1-x509';
import { x509 } from '../x509.js';

export interface NormAttr {
  type: string;
  /** Prepared value, or "#<hex>" for non-string values. */
  value: string;
}

export interface NormName {
  /** Canonical key: equal keys ⇔ equal names under RFC 5280 §7.1. */
  key: string;
  /** RDNs in order; the attributes of each RDN sorted (an RDN is a SET). */
  rdns: NormAttr[][];
  asn: asn1x509.Name;
  empty: boolean;
}

const SPACES = /[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;
// RFC 4518 §2.2: characters mapped to nothing (soft hyphen, zero-width and format characters).
const MAPPED_TO_NOTHING = /\u00ad|\u1806|\u034f|[\u180b-\u180d]|[\ufe00-\ufe0f]|\ufffc|[\u200b-\u200d]|\u2060|\ufeff/g;

/** RFC 4518 §2 (subset): map, normalize (NFKC), case fold, insignificant space handling. */
export function prepareString(s: string): string {
  return s.replace(MAPPED_TO_NOTHING, '').normalize('NFKC').toLowerCase().replace(SPACES, ' ').trim();
}

function stringValue(v: asn1x509.AttributeValue): string | undefined {
  if (v.utf8String !== undefined) return v.utf8String;
  if (v.printableString !== undefined) return v.printableString;
  if (v.bmpString !== undefined) return v.bmpString;
  if (v.universalString !== undefined) return v.universalString;
  if (v.teletexString !== undefined) return v.teletexString;
  if (v.ia5String !== undefined) return v.ia5String;
  return undefined;
}

function normAttr(atv: asn1x509.AttributeTypeAndValue): NormAttr {
  const s = stringValue(atv.value);
  if (s !== undefined) return { type: atv.type, value: prepareString(s) };
  const raw = atv.value.anyValue ? Buffer.from(atv.value.anyValue).toString('hex') : '';
  return { type: atv.type, value: `#${raw}` };
}

function attrKey(a: NormAttr): string {
  return `${a.type}=${JSON.stringify(a.value)}`;
}

export function normalizeName(asn: asn1x509.Name): NormName {
  const rdns: NormAttr[][] = [];
  for (const rdn of asn) {
    const attrs = Array.from(rdn, normAttr);
    attrs.sort((a, b) => (attrKey(a) < attrKey(b) ? -1 : attrKey(a) > attrKey(b) ? 1 : 0));
    rdns.push(attrs);
  }
  const key = rdns.map((r) => r.map(attrKey).join('+')).join(',');
  return { key, rdns, asn, empty: rdns.length === 0 };
}

export function rdnEqual(a: NormAttr[], b: NormAttr[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (!x || !y || x.type !== y.type || x.value !== y.value) return false;
  }
  return true;
}

/** RFC 5280 §4.2.1.10: a directoryName constraint matches the names it is a prefix of. */
export function isWithinSubtree(name: NormName, base: NormName): boolean {
  if (base.rdns.length > name.rdns.length) return false;
  for (let i = 0; i < base.rdns.length; i++) {
    const a = base.rdns[i];
    const b = name.rdns[i];
    if (!a || !b || !rdnEqual(a, b)) return false;
  }
  return true;
}

/** The name as text for messages (RFC 4514 style), never used for comparison. */
export function nameText(asn: asn1x509.Name): string {
  try {
    return new x509.Name(asn).toString();
  } catch {
    return '(unreadable name)';
  }
}

/** Parses a DER Name (used for names carried outside certificates, e.g. CRL issuers). */
export function parseName(der: ArrayBuffer | Uint8Array): NormName | null {
  try {
    return normalizeName(AsnConvert.parse(der, asn1x509.Name));
  } catch {
    return null;
  }
}
