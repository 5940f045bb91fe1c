/**
 * Certificate builder for the dev PKI and for tests: keys, X.509 v3 certificates with the eIDAS / PSD2
 * extensions, and the qcStatements extension value (RFC 3739, EN 319 412-5, TS 119 495).
 * Everything is encoded with @peculiar schemas; nothing here is meant for production issuance.
 */
import { webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { QCStatement, QCStatements, SemanticsInformation } from '@peculiar/asn1-x509-qualified';
import { PdsLocation, QcEuPDS, QcEuRetentionPeriod, QcType } from '@peculiar/asn1-x509-qualified-etsi';
import { PSD2QcType, RoleOfPSP, RolesOfPSP } from '../eidas/asn1/psd2.js';
import {
  ct_precert_poison,
  id_etsi_psd2_qcStatement,
  id_etsi_qcs_QcCompliance,
  id_etsi_qcs_QcPDS,
  id_etsi_qcs_QcRetentionPeriod,
  id_etsi_qcs_QcSSCD,
  id_etsi_qcs_QcType,
  id_pe_qcStatements,
  id_qcs_pkixQCSyntax_v2,
} from '../eidas/oids.js';
import { x509 } from '../eidas/x509.js';

export type KeyAlgorithm = 'RSA-2048' | 'RSA-3072' | 'RSA-1024' | 'EC-P256' | 'EC-P384';

// The project compiles without the DOM lib: the WebCrypto types come from node:crypto.
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

const subtle = webcrypto.subtle;

function keyGenParams(alg: KeyAlgorithm): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams {
  switch (alg) {
    case 'RSA-1024':
    case 'RSA-2048':
    case 'RSA-3072':
      return {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: Number(alg.slice(4)),
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      };
    case 'EC-P256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'EC-P384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
  }
}

/** Generates an extractable signing key pair (the dev PKI writes the private keys to disk). */
export async function generateKeys(alg: KeyAlgorithm = 'RSA-2048'): Promise<CryptoKeyPair> {
  return subtle.generateKey(keyGenParams(alg), true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

export interface QcSpec {
  compliance?: boolean;
  /** QcType OIDs. */
  types?: string[];
  sscd?: boolean;
  pds?: { url: string; language: string }[];
  retentionPeriod?: number;
  semanticsId?: string;
  psd2?: { roles: { oid: string; name: string }[]; ncaName: string; ncaId: string };
  /** Mark the qcStatements extension critical (bad-cert tests). */
  critical?: boolean;
  /** 'bare' = a single QCStatement instead of SEQUENCE OF (adorsys style). */
  encoding?: 'sequence-of' | 'bare';
  extraStatements?: { oid: string; value?: Uint8Array }[];
}

export interface CertSpec {
  /** DN string, e.g. 'CN=api.x.test, O=X Ltd, 2.5.4.97=PSDDE-BAFIN-123, C=DE'. */
  subject: string;
  /** Omitted → self-signed. */
  issuer?: { cert: x509.X509Certificate; keys: CryptoKeyPair };
  keys?: CryptoKeyPair;
  keyAlgorithm?: KeyAlgorithm;
  signingHash?: 'SHA-256' | 'SHA-1';
  /** Hex; default random 16 bytes, positive. */
  serialNumber?: string;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints cA=TRUE (critical) + keyCertSign/cRLSign by default. */
  ca?: { pathLength?: number };
  /** x509.KeyUsageFlags. */
  keyUsage?: number;
  eku?: string[];
  san?: { dns?: string[]; ip?: string[] };
  policies?: string[];
  qc?: QcSpec;
  crlUrl?: string;
  ocspUrl?: string;
  caIssuersUrl?: string;
  /** RFC 6962 poison extension (critical, NULL). */
  precertPoison?: boolean;
  extraExtensions?: x509.Extension[];
}

function statement(statementId: string, info?: ArrayBuffer | Uint8Array): QCStatement {
  const s = new QCStatement();
  s.statementId = statementId;
  // RFC 3739 §3.2.6: statementInfo is OPTIONAL; the schema's default empty buffer cannot be serialized.
  s.statementInfo = info === undefined ? (undefined as unknown as ArrayBuffer) : toArrayBuffer(info);
  return s;
}

function toArrayBuffer(data: ArrayBuffer | Uint8Array): ArrayBuffer {
  if (data instanceof ArrayBuffer) return data;
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}

/** The PSD2 QCStatement (TS 119 495 §5.1) built with the PSD2QcType schema. */
function psd2Statement(psd2: NonNullable<QcSpec['psd2']>): QCStatement {
  const value = new PSD2QcType({
    rolesOfPSP: new RolesOfPSP(psd2.roles.map((r) => new RoleOfPSP({ roleOfPspOid: r.oid, roleOfPspName: r.name }))),
    nCAName: psd2.ncaName,
    nCAId: psd2.ncaId,
  });
  return statement(id_etsi_psd2_qcStatement, AsnConvert.serialize(value));
}

/** DER of the qcStatements extension value (RFC 3739 §3.2.6), statements in EN 319 412-5 order. */
export function encodeQcStatements(qc: QcSpec): Uint8Array {
  const list: QCStatement[] = [];
  if (qc.compliance) list.push(statement(id_etsi_qcs_QcCompliance));
  if (qc.types !== undefined) list.push(statement(id_etsi_qcs_QcType, AsnConvert.serialize(new QcType(qc.types))));
  if (qc.sscd) list.push(statement(id_etsi_qcs_QcSSCD));
  if (qc.pds !== undefined) {
    const pds = new QcEuPDS(qc.pds.map((p) => new PdsLocation({ url: p.url, language: p.language })));
    list.push(statement(id_etsi_qcs_QcPDS, AsnConvert.serialize(pds)));
  }
  if (qc.retentionPeriod !== undefined) {
    list.push(statement(id_etsi_qcs_QcRetentionPeriod, AsnConvert.serialize(new QcEuRetentionPeriod(qc.retentionPeriod))));
  }
  if (qc.semanticsId !== undefined) {
    const si = new SemanticsInformation({ semanticsIdentifier: qc.semanticsId });
    list.push(statement(id_qcs_pkixQCSyntax_v2, AsnConvert.serialize(si)));
  }
  let psd2: QCStatement | undefined;
  if (qc.psd2 !== undefined) {
    psd2 = psd2Statement(qc.psd2);
    list.push(psd2);
  }
  for (const extra of qc.extraStatements ?? []) list.push(statement(extra.oid, extra.value));

  if (qc.encoding === 'bare') {
    // The non-RFC-3739 encoding of the adorsys/Indice generators: the PSD2 statement alone, not wrapped
    // in a SEQUENCE OF.
    const single = psd2 ?? list[0];
    if (single === undefined) throw new Error('bare qcStatements encoding needs at least one statement');
    return new Uint8Array(AsnConvert.serialize(single));
  }
  return new Uint8Array(AsnConvert.serialize(new QCStatements(list)));
}

/** Random positive serial of 16 bytes, first byte 0x01-0x7f so the hex round-trips unchanged. */
function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 1) & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

/** RSA keys carry their hash in the key algorithm; SHA-1 signing needs the key re-imported with SHA-1. */
async function signingKeyFor(key: CryptoKey, hash: 'SHA-256' | 'SHA-1'): Promise<CryptoKey> {
  if (hash === 'SHA-256' || key.algorithm.name !== 'RSASSA-PKCS1-v1_5') return key;
  const pkcs8 = await subtle.exportKey('pkcs8', key);
  return subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-1' }, false, ['sign']);
}

export async function issueCertificate(spec: CertSpec): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = spec.keys ?? (await generateKeys(spec.keyAlgorithm ?? 'RSA-2048'));
  const signer = spec.issuer?.keys ?? keys;
  const hash = spec.signingHash ?? 'SHA-256';
  const extensions: x509.Extension[] = [];

  if (spec.ca) {
    extensions.push(new x509.BasicConstraintsExtension(true, spec.ca.pathLength, true));
    const ku = spec.keyUsage ?? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
    extensions.push(new x509.KeyUsagesExtension(ku, true));
  } else if (spec.keyUsage !== undefined) {
    extensions.push(new x509.KeyUsagesExtension(spec.keyUsage, true));
  }
  if (spec.eku && spec.eku.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(spec.eku, false));

  const sanNames: x509.JsonGeneralName[] = [
    ...(spec.san?.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(spec.san?.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (sanNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sanNames, false));

  if (spec.policies && spec.policies.length > 0) {
    extensions.push(new x509.CertificatePolicyExtension(spec.policies, false));
  }
  if (spec.qc) {
    extensions.push(new x509.Extension(id_pe_qcStatements, spec.qc.critical ?? false, encodeQcStatements(spec.qc)));
  }
  if (spec.crlUrl) extensions.push(new x509.CRLDistributionPointsExtension([spec.crlUrl], false));
  if (spec.ocspUrl || spec.caIssuersUrl) {
    const aia: x509.AuthorityInfoAccessParams = {};
    if (spec.ocspUrl) aia.ocsp = [spec.ocspUrl];
    if (spec.caIssuersUrl) aia.caIssuers = [spec.caIssuersUrl];
    extensions.push(new x509.AuthorityInfoAccessExtension(aia, false));
  }

  extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false));
  if (spec.issuer) {
    const issuerSki = spec.issuer.cert.getExtension(x509.SubjectKeyIdentifierExtension);
    extensions.push(
      issuerSki
        ? new x509.AuthorityKeyIdentifierExtension(issuerSki.keyId, false)
        : await x509.AuthorityKeyIdentifierExtension.create(spec.issuer.cert.publicKey, false),
    );
  }
  if (spec.precertPoison) {
    // RFC 6962 §3.1: extnValue is an ASN.1 NULL, and the extension is critical.
    extensions.push(new x509.Extension(ct_precert_poison, true, new Uint8Array([0x05, 0x00])));
  }
  for (const ext of spec.extraExtensions ?? []) extensions.push(ext);

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: spec.serialNumber ?? randomSerial(),
    subject: spec.subject,
    // RFC 5280 §4.1.2.4: the issuer name is the issuer's subject, byte for byte.
    issuer: spec.issuer ? spec.issuer.cert.subjectName : spec.subject,
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    publicKey: keys.publicKey,
    signingKey: await signingKeyFor(signer.privateKey, hash),
    signingAlgorithm: { name: signer.privateKey.algorithm.name, hash },
    extensions,
  });
  return { cert, keys };
}
