/**
 * Small helpers over asn1js's decoded tree, for the lenient reads that explain WHAT is wrong with an
 * extension value the strict schemas reject.
 */
import * as asn1js from 'asn1js';

export const WALK_LIMITS = { maxDepth: 32, maxNodes: 4000, maxContentLength: 1024 * 1024, parseEmbedded: false };

export type Decoded = { ok: true; node: asn1js.AsnType } | { ok: false; error: string };

/** Decodes exactly one element; trailing bytes are an error. */
export function decodeOne(bytes: Uint8Array): Decoded {
  const r = asn1js.fromBER(bytes, WALK_LIMITS);
  if (r.offset === -1) return { ok: false, error: r.result.error || 'not valid DER' };
  if (r.offset !== bytes.length) return { ok: false, error: `${bytes.length - r.offset} unexpected bytes after the value` };
  return { ok: true, node: r.result };
}

export function childrenOf(node: asn1js.AsnType): asn1js.AsnType[] {
  if (!node.idBlock.isConstructed) return [];
  const value = (node as asn1js.Constructed).valueBlock?.value;
  return Array.isArray(value) ? value : [];
}

const UNIVERSAL_NAMES: Record<number, string> = {
  1: 'BOOLEAN',
  2: 'INTEGER',
  3: 'BIT STRING',
  4: 'OCTET STRING',
  5: 'NULL',
  6: 'OBJECT IDENTIFIER',
  12: 'UTF8String',
  16: 'SEQUENCE',
  17: 'SET',
  19: 'PrintableString',
  20: 'TeletexString',
  22: 'IA5String',
  23: 'UTCTime',
  24: 'GeneralizedTime',
  26: 'VisibleString',
  28: 'UniversalString',
  30: 'BMPString',
};

export function typeName(node: asn1js.AsnType): string {
  const { tagClass, tagNumber } = node.idBlock;
  if (tagClass === 1) return UNIVERSAL_NAMES[tagNumber] ?? `universal tag ${tagNumber}`;
  const cls = tagClass === 3 ? 'context' : tagClass === 2 ? 'application' : 'private';
  return `[${cls} ${tagNumber}]`;
}

/** The type name with its indefinite article, for messages ("an OCTET STRING", "a UTF8String"). */
export function aTypeName(node: asn1js.AsnType): string {
  const name = typeName(node);
  return /^(OCTET|OBJECT|INTEGER|IA5)/.test(name) ? `an ${name}` : `a ${name}`;
}

export function isUniversal(node: asn1js.AsnType | undefined, tag: number): node is asn1js.AsnType {
  return node !== undefined && node.idBlock.tagClass === 1 && node.idBlock.tagNumber === tag;
}

export function isSequence(node: asn1js.AsnType | undefined): node is asn1js.Sequence {
  return isUniversal(node, 16) && node.idBlock.isConstructed;
}

export function oidValue(node: asn1js.AsnType | undefined): string | null {
  return node instanceof asn1js.ObjectIdentifier ? node.getValue() : null;
}

/** The text of any ASN.1 character string type; null for other types. */
export function stringValue(node: asn1js.AsnType | undefined): string | null {
  if (node instanceof asn1js.BaseStringBlock) return node.getValue();
  return null;
}

export function isUtf8String(node: asn1js.AsnType | undefined): boolean {
  return isUniversal(node, 12);
}

export function raw(node: asn1js.AsnType): Uint8Array {
  return new Uint8Array(node.valueBeforeDecodeView);
}
