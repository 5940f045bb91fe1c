/**
 * Small hierarchies for the chain tests, built at test time with the dev-PKI builder (EC P-256 keys).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1x509 from '@peculiar/asn1-x509';
import { type CertSpec, type CryptoKeyPair, generateKeys, issueCertificate } from '../../../src/devpki/builder.js';
import type { TrustAnchor } from '../../../src/eidas/chain/index.js';
import { pemAnchor } from '../../../src/eidas/trust/index.js';
import { x509 } from '../../../src/eidas/x509.js';

export const AT = new Date('2025-06-01T12:00:00Z');
export const NB = new Date('2025-01-01T00:00:00Z');
export const NA = new Date('2026-01-01T00:00:00Z');

export interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  der: Uint8Array;
}

type Spec = Omit<Partial<CertSpec>, 'issuer' | 'subject'>;

export async function issue(spec: Spec & { subject: string; issuer?: Issued }): Promise<Issued> {
  const { issuer, ...rest } = spec;
  const full: CertSpec = {
    notBefore: NB,
    notAfter: NA,
    keyAlgorithm: 'EC-P256',
    ...rest,
    ...(issuer ? { issuer: { cert: issuer.cert, keys: issuer.keys } } : {}),
  };
  const r = await issueCertificate(full);
  return { ...r, der: new Uint8Array(r.cert.rawData) };
}

export async function keys(): Promise<CryptoKeyPair> {
  return generateKeys('EC-P256');
}

export function anchorOf(i: Issued, source = 'pem:test-root.pem'): TrustAnchor {
  return pemAnchor(i.der, source);
}

/** A standard three-level hierarchy: root (anchor) → issuing CA → leaf. */
export async function hierarchy(opts: { leaf?: Spec; ca?: Spec } = {}) {
  const root = await issue({ subject: 'CN=Test Root CA, O=Chain Tests, C=DE', ca: {} });
  const ca = await issue({ subject: 'CN=Test Issuing CA, O=Chain Tests, C=DE', issuer: root, ca: { pathLength: 0 }, ...opts.ca });
  const leaf = await issue({
    subject: 'CN=api.example.com, O=Example Bank, C=DE',
    issuer: ca,
    keyUsage: x509.KeyUsageFlags.digitalSignature,
    eku: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'],
    san: { dns: ['api.example.com'] },
    ...opts.leaf,
  });
  return { root, ca, leaf, anchor: anchorOf(root) };
}

export function nameConstraintsExtension(nc: {
  permittedDns?: string[];
  excludedDns?: string[];
  permittedDn?: string[];
}): x509.Extension {
  const sub = (g: asn1x509.GeneralName) => new asn1x509.GeneralSubtree({ base: g });
  const dn = (s: string) =>
    new asn1x509.GeneralName({ directoryName: AsnConvert.parse(new x509.Name(s).toArrayBuffer(), asn1x509.Name) });
  const permitted = [
    ...(nc.permittedDns ?? []).map((d) => sub(new asn1x509.GeneralName({ dNSName: d }))),
    ...(nc.permittedDn ?? []).map((d) => sub(dn(d))),
  ];
  const excluded = (nc.excludedDns ?? []).map((d) => sub(new asn1x509.GeneralName({ dNSName: d })));
  const value = new asn1x509.NameConstraints({});
  if (permitted.length > 0) value.permittedSubtrees = new asn1x509.GeneralSubtrees(permitted);
  if (excluded.length > 0) value.excludedSubtrees = new asn1x509.GeneralSubtrees(excluded);
  return new x509.Extension(asn1x509.id_ce_nameConstraints, true, AsnConvert.serialize(value));
}

export function policyConstraintsExtension(requireExplicitPolicy: number): x509.Extension {
  const value = new asn1x509.PolicyConstraints({ requireExplicitPolicy: new Uint8Array([requireExplicitPolicy]).buffer });
  return new x509.Extension(asn1x509.id_ce_policyConstraints, true, AsnConvert.serialize(value));
}

/** Flips one bit in the last byte of the DER (inside the signature value). */
export function flipLastBit(der: Uint8Array): Uint8Array {
  const out = new Uint8Array(der);
  const i = out.length - 1;
  out[i] = (out[i] ?? 0) ^ 0x01;
  return out;
}

export function codes(findings: { code: string; severity: string }[]): string[] {
  return findings.filter((f) => f.severity === 'error').map((f) => f.code).sort();
}
