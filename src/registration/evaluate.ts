/**
 * Evaluates one dynamic client registration request (RFC 7591 POST, RFC 7592 PUT) against the named checks
 * of checks.ts, and on success returns the metadata the oauth area creates the client with. It decides; it
 * writes only the replay record (request.replay) and, on the regulated fast lane, the partner record (the
 * partners service, as the last step, once everything else has passed).
 */
import type { RegistrationDecision, RegistrationRequestInput } from './types.js';
import {
  PASS_THROUGH_METADATA,
  REGISTRATION_CHECKS,
  type Check,
  type CheckContext,
  type JwkSet,
  type RegistrationEvaluatorDeps,
} from './checks.js';

export type { RegistrationEvaluatorDeps, RegistrationPartners, JwkSet } from './checks.js';

export interface RegistrationEvaluator {
  evaluate(input: RegistrationRequestInput): Promise<RegistrationDecision>;
}

export const JWKS_FETCH_LIMITS = { timeoutMs: 3000, maxBytes: 64 * 1024 } as const;

/**
 * The default `software_jwks_endpoint` reader: https only, no redirects (a redirect could lead anywhere),
 * a 3 s budget for the whole exchange and at most 64 KiB read.
 */
export async function fetchJwksBounded(uri: string): Promise<JwkSet> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new Error('not a URL');
  }
  if (url.protocol !== 'https:') throw new Error('not an https URL');
  const signal = AbortSignal.timeout(JWKS_FETCH_LIMITS.timeoutMs);
  const res = await fetch(url, { redirect: 'error', signal, headers: { accept: 'application/jwk-set+json, application/json' } });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > JWKS_FETCH_LIMITS.maxBytes) {
    await res.body?.cancel();
    throw new Error(`larger than ${JWKS_FETCH_LIMITS.maxBytes} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > JWKS_FETCH_LIMITS.maxBytes) {
        await reader.cancel();
        throw new Error(`larger than ${JWKS_FETCH_LIMITS.maxBytes} bytes`);
      }
      chunks.push(value);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new Error('not JSON');
  }
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { keys?: unknown }).keys)) {
    throw new Error('not a JWK Set');
  }
  return json as JwkSet;
}

/** The RFC 7591 metadata of an accepted request, with what the portal pins (the oauth area adds the DN). */
function metadataOf(ctx: CheckContext): Record<string, unknown> {
  const body = ctx.body!;
  const st = ctx.statement;
  const r = ctx.resolved;
  const out: Record<string, unknown> = {};
  for (const name of PASS_THROUGH_METADATA) if (body[name] !== undefined) out[name] = body[name];
  // Statement claims take precedence over the same metadata in the request (RFC 7591 §2.3).
  if (st) {
    const fromStatement: Record<string, string | undefined> = {
      client_name: st.software_client_name,
      client_uri: st.software_client_uri,
      logo_uri: st.software_logo_uri,
      policy_uri: st.software_policy_uri,
      tos_uri: st.software_tos_uri,
      software_version: st.software_version === undefined ? undefined : String(st.software_version),
    };
    for (const [name, value] of Object.entries(fromStatement)) if (value !== undefined) out[name] = value;
  }
  Object.assign(out, {
    redirect_uris: r.redirectUris,
    grant_types: r.grantTypes,
    response_types: r.responseTypes,
    scope: r.scopes!.join(' '),
    token_endpoint_auth_method: r.authMethod,
    tls_client_certificate_bound_access_tokens: true,
    org_id: ctx.organization!.raw,
    partner_id: ctx.partner!.id,
    software_id: ctx.softwareId,
    issuer_key_sha256: ctx.certificate!.issuerKeySha256,
  });
  if (r.keys && 'jwks' in r.keys) out.jwks = r.keys.jwks;
  if (r.keys && 'jwks_uri' in r.keys) out.jwks_uri = r.keys.jwks_uri;
  if (ctx.statementJwt !== undefined) out.software_statement = ctx.statementJwt;
  // RFC 7592 §2.2: an update carries the client_id it is for.
  if (ctx.input.existing) out.client_id = ctx.input.existing.clientId;
  return out;
}

export function createRegistrationEvaluator(
  deps: RegistrationEvaluatorDeps,
  checks: readonly Check[] = REGISTRATION_CHECKS,
): RegistrationEvaluator {
  const resolved = { ...deps, fetchJwks: deps.fetchJwks ?? fetchJwksBounded, now: deps.now ?? (() => new Date()) };
  return {
    async evaluate(input) {
      const ctx: CheckContext = {
        deps: resolved,
        input,
        now: resolved.now(),
        mode: input.existing ? 'update' : 'create',
        fastLane: false,
        resolved: {},
      };
      const ran: string[] = [];
      for (const check of checks) {
        if (check.when && !check.when(ctx)) continue;
        const failure = await check.run(ctx);
        if (failure) return { ok: false, check: check.name, ...failure };
        ran.push(check.name);
      }
      const partner = ctx.partner!;
      return {
        ok: true,
        metadata: metadataOf(ctx),
        partnerId: partner.id,
        orgId: ctx.organization!.raw,
        softwareId: ctx.softwareId!,
        fastLane: ctx.fastLane,
        checks: ran,
      };
    },
  };
}
