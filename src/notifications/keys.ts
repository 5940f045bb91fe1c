/**
 * The key that signs webhooks: a dedicated P-256 key (ES256), not the directory's or the OAuth server's, so
 * that it can be rotated, or leak, without touching software statements or tokens.
 *
 * Generated on first start into `DATA_DIR/notifications/webhook-keys.json` (directory 0700, file 0600;
 * never in git), kid = RFC 7638 thumbprint. The file holds a list, newest first: a rotation (`npm run keys:rotate
 * -- webhook`, then a restart) puts a new key in front (it signs) and keeps the old ones published at /notifications/jwks.json while receivers may still
 * verify retries signed with them. A damaged file stops start-up rather than silently replacing the key.
 *
 * Signatures are compact JWS with a detached payload (RFC 7515 appendix F): `header..signature`, over the
 * exact body bytes (b64 stays true, so any JOSE library verifies it once the payload is put back).
 */
import { CompactSign, generateKeyPair, type JWK } from 'jose';
import { ecP256Jwk, loadOrCreateJwks, publicMembers, rotateJwks } from '../store/key-file.js';
import { WEBHOOK_SIGNATURE_TYP } from './verify.js';

export const WEBHOOK_ALG = 'ES256';
const DIR = 'notifications';
const FILE = 'webhook-keys.json';

export interface WebhookKeys {
  /** Public members only, newest first. */
  publicJwks(): { keys: JWK[] };
  /** kid of the key that signs now. */
  signingKid(): string;
  /** `header..signature` over `body`; the protected header carries alg, kid, typ and `iat` (seconds). */
  sign(body: Uint8Array, at: Date): Promise<string>;
}

const storedJwk = ecP256Jwk(WEBHOOK_ALG);

const PUBLIC_MEMBERS = ['kty', 'crv', 'kid', 'alg', 'use', 'x', 'y'] as const;

function keySpec(opts: { dataDir: string; now?: () => Date }) {
  return {
    dataDir: opts.dataDir,
    dir: DIR,
    name: FILE,
    alg: WEBHOOK_ALG,
    jwk: storedJwk,
    generate: async () => (await generateKeyPair(WEBHOOK_ALG, { extractable: true })).privateKey,
    now: opts.now ?? (() => new Date()),
    whenDamaged:
      'restore it from a backup. Deleting it generates a new webhook key; partners that cached /notifications/jwks.json then need to fetch it again.',
  };
}

/** `npm run keys:rotate -- webhook`: a new webhook key signs from the next start; the old ones stay published. */
export function rotateWebhookKeys(opts: { dataDir: string; now?: () => Date }) {
  return rotateJwks(keySpec(opts));
}

/** The webhook keys over `DATA_DIR/notifications/webhook-keys.json`, creating the first key when there is no file. */
export async function createWebhookKeys(opts: { dataDir: string; now?: () => Date }): Promise<WebhookKeys> {
  const { keys, signingKey } = await loadOrCreateJwks(keySpec(opts));
  const newest = keys[0]!;
  const published: JWK[] = keys.map((k) => publicMembers(k.jwk, PUBLIC_MEMBERS));

  return {
    publicJwks: () => ({ keys: published.map((k) => ({ ...k })) }),
    signingKid: () => newest.jwk.kid,
    async sign(body, at) {
      const jws = await new CompactSign(body)
        .setProtectedHeader({ alg: WEBHOOK_ALG, kid: newest.jwk.kid, typ: WEBHOOK_SIGNATURE_TYP, iat: Math.floor(at.getTime() / 1000) })
        .sign(signingKey);
      const [header, , signature] = jws.split('.');
      return `${header}..${signature}`;
    },
  };
}
