/**
 * What a partner's receiver does with a webhook (docs/notifications.md shows it standalone): verify the
 * `X-Portal-Signature` (a compact JWS, ES256, with the payload detached, RFC 7515 appendix F) over the raw
 * body bytes with the portal's published keys, check the signature is fresh, then parse the body.
 *
 * Depends on `jose` only, so that partners can copy it. Duplicate deliveries (retries keep their `id`) are
 * the receiver's to drop: remember the ids you processed for at least as long as you accept signatures.
 */
import { compactVerify, createLocalJWKSet, errors as joseErrors, type JSONWebKeySet } from 'jose';

export const WEBHOOK_SIGNATURE_TYP = 'portal-webhook+jws';

export type WebhookVerificationCode =
  | 'webhook.signature_malformed'
  | 'webhook.signature_invalid'
  | 'webhook.signature_stale'
  | 'webhook.body_invalid';

export class WebhookVerificationError extends Error {
  constructor(
    readonly code: WebhookVerificationCode,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export interface VerifiedWebhook {
  /** The delivery id (unique per delivery, the same on retries). */
  id: string;
  event: string;
  occurred_at: string;
  partner_id: string | null;
  data: Record<string, unknown>;
  /** Which published key signed it. */
  kid: string;
  /** When the portal signed this attempt (the JWS `iat`). */
  signedAt: Date;
}

export interface VerifyOptions {
  /** Default: now. */
  now?: Date;
  /** Refuse signatures older than this (replay window). Default 300 seconds. */
  maxAgeSeconds?: number;
  /** Tolerated clock skew for signatures from the future. Default 60 seconds. */
  clockSkewSeconds?: number;
}

const COMPACT_DETACHED = /^([A-Za-z0-9_-]+)\.\.([A-Za-z0-9_-]+)$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Verifies one webhook. `body` must be the raw request body (bytes or the exact string received), never a
 * re-serialised object; `signature` is the `X-Portal-Signature` header; `jwks` is the JWK Set from
 * `/notifications/jwks.json` (cache it; refetch once when a kid is unknown). Throws WebhookVerificationError.
 */
export async function verifyWebhook(
  body: Uint8Array | string,
  signature: string | undefined,
  jwks: JSONWebKeySet,
  opts: VerifyOptions = {},
): Promise<VerifiedWebhook> {
  const m = typeof signature === 'string' && signature.length <= 4096 ? COMPACT_DETACHED.exec(signature.trim()) : null;
  if (!m) throw new WebhookVerificationError('webhook.signature_malformed', 'X-Portal-Signature is not a compact JWS with a detached payload (header..signature).');
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const attached = `${m[1]}.${Buffer.from(bytes).toString('base64url')}.${m[2]}`;

  let verified: Awaited<ReturnType<typeof compactVerify>>;
  try {
    verified = await compactVerify(attached, createLocalJWKSet(jwks), { algorithms: ['ES256'] });
  } catch (e) {
    const why = e instanceof joseErrors.JOSEError ? e.code : 'ERR_UNKNOWN';
    throw new WebhookVerificationError('webhook.signature_invalid', `The signature does not verify with the portal's keys (${why}).`);
  }
  const { protectedHeader } = verified;
  // Explicit typing (RFC 8725 §3.11): another JWS signed with the same key is not a webhook.
  if (protectedHeader.typ !== WEBHOOK_SIGNATURE_TYP) {
    throw new WebhookVerificationError('webhook.signature_invalid', `The signature's typ is not ${WEBHOOK_SIGNATURE_TYP}.`);
  }
  const iat = protectedHeader.iat;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) {
    throw new WebhookVerificationError('webhook.signature_invalid', 'The signature has no iat header.');
  }
  const now = (opts.now ?? new Date()).getTime() / 1000;
  const maxAge = opts.maxAgeSeconds ?? 300;
  const skew = opts.clockSkewSeconds ?? 60;
  if (iat < now - maxAge || iat > now + skew) {
    throw new WebhookVerificationError('webhook.signature_stale', `The signature was made at ${new Date(iat * 1000).toISOString()}, outside the accepted window.`);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(verified.payload));
  } catch {
    throw new WebhookVerificationError('webhook.body_invalid', 'The signed body is not UTF-8 JSON.');
  }
  if (
    !isObject(parsed) ||
    typeof parsed.id !== 'string' ||
    typeof parsed.event !== 'string' ||
    typeof parsed.occurred_at !== 'string' ||
    !(parsed.partner_id === null || typeof parsed.partner_id === 'string') ||
    !isObject(parsed.data)
  ) {
    throw new WebhookVerificationError('webhook.body_invalid', 'The signed body lacks id, event, occurred_at, partner_id or data.');
  }
  return {
    id: parsed.id,
    event: parsed.event,
    occurred_at: parsed.occurred_at,
    partner_id: parsed.partner_id as string | null,
    data: parsed.data,
    kid: String(protectedHeader.kid ?? ''),
    signedAt: new Date(iat * 1000),
  };
}
