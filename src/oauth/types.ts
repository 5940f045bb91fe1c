/**
 * The oauth area's public contract: what the registration area, the resource guard and the banking APIs
 * see of a mutual-TLS connection and of the registered clients.
 */
import type { CertificateReport } from '../eidas/types.js';

/** The client certificate of one request, validated by the eIDAS engine as a QWAC (cached by fingerprint). */
export interface PresentedCertificate {
  /** DER certificates as presented: the client's own first, then any chain it sent. */
  ders: Uint8Array[];
  /** The client's own certificate, PEM (what oidc-provider binds tokens to). */
  pem: string;
  /** base64url SHA-256 of the client's own DER: the `cnf.x5t#S256` value (RFC 8705 §3.1). */
  thumbprint: string;
  /** Where it came from: the TLS handshake, or a trusted proxy's header (RFC 9440 or URL-encoded PEM). */
  source: 'tls' | 'proxy-header';
  /** The engine's report with `expect: 'qwac'`. */
  report: CertificateReport;
  /**
   * Hex SHA-256 of the issuing CA's SubjectPublicKeyInfo (the path element above the leaf), or null when no
   * path was built. Clients pin their issuing CA by this key, never by its name.
   */
  issuerKeySha256: string | null;
}

/** What the portal keeps of a registered OAuth client (shaped, not the raw oidc-provider metadata). */
export interface ClientSummary {
  clientId: string;
  clientName: string | null;
  partnerId: string;
  /** organizationIdentifier the client is bound to (e.g. `PSDDE-BAFIN-152645`). */
  orgId: string;
  softwareId: string | null;
  tokenEndpointAuthMethod: string;
  scope: string;
  redirectUris: string[];
  /** Issuing-CA keys (hex SHA-256 of the SPKI) accepted for this client's certificates. */
  issuerKeys: string[];
  createdAt: string;
}

/** The portal-specific client metadata stored with every registered client (extraClientMetadata). */
export const PORTAL_CLIENT_METADATA = ['org_id', 'partner_id', 'software_id', 'issuer_key_sha256', 'software_statement'] as const;

/** PSD2 roles requested in the portal ↔ OAuth scopes (UK Open Banking names). */
export const ROLE_SCOPES = { AIS: 'accounts', PIS: 'payments', CBPII: 'fundsconfirmations' } as const;
