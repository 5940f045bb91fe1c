/**
 * Anchor lookup for path building: by subject name (compared as RFC 5280 §7.1 asks) and by key identifier.
 */
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { type AttributeValue, Name, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { x509 } from '../x509.js';
import type { TrustAnchor } from './types.js';

type Bytes = ArrayBuffer | ArrayBufferView;

export interface AnchorIndex {
  readonly anchors: readonly TrustAnchor[];
  /** Anchors whose subject matches `name` (an x509.Name or the DER of a Name, e.g. a child's issuer). */
  bySubject(name: x509.Name | Bytes): TrustAnchor[];
  /** Anchors whose key identifier is `keyId` (hex, any case, or bytes), e.g. a child's AKI keyIdentifier. */
  byKeyId(keyId: string | Bytes): TrustAnchor[];
  bySha256(hex: string): TrustAnchor | undefined;
}

const memo = new WeakMap<readonly TrustAnchor[], { size: number; index: AnchorIndex }>();

/**
 * Builds (once per anchors array; an array that grew is re-indexed) the lookup tables. Anchors whose DER
 * cannot be parsed are left out of the name and key tables.
 */
export function indexAnchors(anchors: readonly TrustAnchor[]): AnchorIndex {
  const hit = memo.get(anchors);
  if (hit && hit.size === anchors.length) return hit.index;
  const subjects = new Map<string, TrustAnchor[]>();
  const keyIds = new Map<string, TrustAnchor[]>();
  const hashes = new Map<string, TrustAnchor>();
  const add = (map: Map<string, TrustAnchor[]>, key: string, a: TrustAnchor) => {
    const list = map.get(key);
    if (!list) map.set(key, [a]);
    else if (!list.includes(a)) list.push(a);
  };
  for (const a of anchors) {
    if (!hashes.has(a.sha256)) hashes.set(a.sha256, a);
    let cert: x509.X509Certificate;
    try {
      cert = new x509.X509Certificate(a.der);
    } catch {
      continue;
    }
    add(subjects, nameKey(cert.subjectName), a);
    for (const id of keyIdsOf(cert)) add(keyIds, id, a);
  }
  const index: AnchorIndex = {
    anchors,
    bySubject: (name) => {
      try {
        return [...(subjects.get(nameKey(name)) ?? [])];
      } catch {
        return [];
      }
    },
    byKeyId: (keyId) => [...(keyIds.get(typeof keyId === 'string' ? keyId.toLowerCase() : toHex(keyId)) ?? [])],
    bySha256: (hex) => hashes.get(hex.toLowerCase()),
  };
  memo.set(anchors, { size: anchors.length, index });
  return index;
}

/**
 * A comparison key for a distinguished name. RFC 5280 §7.1: RDNs in order, attributes within an RDN as a
 * set, string values by LDAP StringPrep (RFC 4518): here NFKC, case folding and insignificant-space
 * removal, whatever the string type. Values of a non-string type compare by their exact encoding.
 * Throws on a buffer that is not a DER Name.
 */
export function nameKey(name: x509.Name | Bytes): string {
  const der = name instanceof x509.Name ? name.toArrayBuffer() : name;
  const n = AsnConvert.parse(der, Name);
  const rdns = n.map((rdn) => rdn.map((atv) => `${atv.type}=${valueKey(atv.value)}`).sort());
  return JSON.stringify(rdns);
}

function valueKey(v: AttributeValue): string {
  const s = v.utf8String ?? v.printableString ?? v.bmpString ?? v.universalString ?? v.teletexString ?? v.ia5String;
  if (s !== undefined) return `s:${s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim()}`;
  return `b:${v.anyValue ? toHex(v.anyValue) : ''}`;
}

/** The SKI extension value, and the RFC 5280 §4.2.1.2 method (1) identifier for anchors that lack one. */
function keyIdsOf(cert: x509.X509Certificate): string[] {
  const ids: string[] = [];
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski?.keyId) ids.push(ski.keyId.toLowerCase());
  try {
    const spki = AsnConvert.parse(cert.publicKey.rawData, SubjectPublicKeyInfo);
    const m1 = createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest('hex');
    if (!ids.includes(m1)) ids.push(m1);
  } catch {
    // no computed identifier for an unreadable key
  }
  return ids;
}

function toHex(b: Bytes): string {
  const u8 = ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);
  return Buffer.from(u8).toString('hex');
}
