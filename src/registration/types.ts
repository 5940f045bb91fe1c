/**
 * The registration area's public contract: software products and their statements (portal side), and the
 * evaluation of a dynamic client registration request (protocol side, RFC 7591/7592). The oauth area turns
 * an accepted evaluation into an oidc-provider client; the registration area never touches oauth tables.
 */
import type { PresentedCertificate } from '../oauth/types.js';
import type { RequestedRole } from '../partners/types.js';

export interface SoftwareProduct {
  /** The `software_id`: random, URL-safe, stable. */
  id: string;
  partnerId: string;
  /** organizationIdentifier of the partner (the statement's `org_id`). */
  orgId: string;
  name: string;
  redirectUris: string[];
  roles: RequestedRole[];
  /** Exactly one of jwks and jwksUri is set. */
  jwks: { keys: Record<string, unknown>[] } | null;
  jwksUri: string | null;
  status: 'active' | 'revoked';
  createdAt: string;
}

/** RFC 7591 §3.2.2 error codes. */
export type RegistrationErrorCode =
  | 'invalid_client_metadata'
  | 'invalid_redirect_uri'
  | 'invalid_software_statement'
  | 'unapproved_software_statement';

export interface RegistrationRequestInput {
  /** Content-Type as sent (without parameters, lowercased): application/json, application/jwt or application/jose. */
  contentType: string;
  /** The raw body (already bounded in size by the caller). */
  body: Buffer;
  /** The client certificate of this connection, validated; null when none was presented. */
  certificate: PresentedCertificate | null;
  /** For RFC 7592 PUT: the client being updated (its software_id and org_id must not change). */
  existing?: { clientId: string; orgId: string; softwareId: string | null } | null;
  ip?: string | null;
}

export type RegistrationDecision =
  | {
      ok: true;
      /**
       * RFC 7591 metadata for oidc-provider: the request's metadata with the statement's claims taking
       * precedence, plus what the portal pins (token_endpoint_auth_method, tls_client_auth_subject_dn,
       * tls_client_certificate_bound_access_tokens: true, org_id, partner_id, software_id,
       * issuer_key_sha256, software_statement).
       */
      metadata: Record<string, unknown>;
      partnerId: string;
      orgId: string;
      softwareId: string;
      /** True when the partner record was created by the regulated fast lane during this request. */
      fastLane: boolean;
      /** Named checks that ran, in order, all passed (for the audit event). */
      checks: string[];
    }
  | {
      ok: false;
      status: 400 | 401 | 403;
      error: RegistrationErrorCode;
      /** Says what to fix; safe to send. */
      description: string;
      /** The named check that failed, e.g. `statement.signature`. */
      check: string;
      /** Private detail for logs (never sent). */
      detail?: string;
    };
