/**
 * CRL issuance for the dev PKI (RFC 5280 §5), shared by the generator (static files) and the responder
 * (fresh CRLs on every request).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber, id_ce_cRLNumber } from '@peculiar/asn1-x509';
import type { CryptoKeyPair } from './builder.js';
import { x509 } from '../eidas/x509.js';

/** RFC 5280 §5.3.1 reason names (x509.X509CrlReason keys). */
export type RevocationReason = keyof typeof x509.X509CrlReason;

export const REVOCATION_REASONS = Object.keys(x509.X509CrlReason).filter((k) => Number.isNaN(Number(k))) as RevocationReason[];

export function isRevocationReason(value: string): value is RevocationReason {
  return (REVOCATION_REASONS as string[]).includes(value);
}

export interface CrlEntry {
  serial: string;
  revokedAt: Date;
  reason: RevocationReason;
}

export async function buildCrl(input: {
  issuer: { cert: x509.X509Certificate; keys: CryptoKeyPair };
  entries: CrlEntry[];
  thisUpdate: Date;
  nextUpdate: Date;
  crlNumber: number;
}): Promise<x509.X509Crl> {
  const { cert, keys } = input.issuer;
  const extensions: x509.Extension[] = [];
  // RFC 5280 §5.2.1 and §5.2.3: conforming CRL issuers include AKI and cRLNumber.
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  extensions.push(
    ski
      ? new x509.AuthorityKeyIdentifierExtension(ski.keyId, false)
      : await x509.AuthorityKeyIdentifierExtension.create(cert.publicKey, false),
  );
  extensions.push(new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(input.crlNumber))));

  return x509.X509CrlGenerator.create({
    issuer: cert.subjectName,
    thisUpdate: input.thisUpdate,
    nextUpdate: input.nextUpdate,
    signingKey: keys.privateKey,
    signingAlgorithm: { name: keys.privateKey.algorithm.name, hash: 'SHA-256' },
    extensions,
    entries: input.entries.map((e) => {
      const entry: x509.X509CrlEntryParams = { serialNumber: e.serial, revocationDate: e.revokedAt };
      // RFC 5280 §5.3.1: the reasonCode is omitted rather than set to unspecified.
      if (e.reason !== 'unspecified') entry.reason = x509.X509CrlReason[e.reason];
      return entry;
    }),
  });
}
