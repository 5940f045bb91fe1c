/**
 * TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps, ±1 step accepted) with otpauth, and the encryption of the
 * shared secrets at rest (AES-256-GCM under the data key, the user id as associated data so a secret
 * copied onto another user's row does not decrypt).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { TotpEnrolment } from './types.js';

export const TOTP_ISSUER = 'Partner Portal';
export const TOTP_PERIOD = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of the current one (clock drift, slow typing). */
export const TOTP_WINDOW = 1;
const SECRET_BYTES = 20;
const ENC_VERSION = 'v1';

export function newTotpSecret(): Buffer {
  return randomBytes(SECRET_BYTES);
}

function totpFor(secret: Buffer, label: string): TOTP {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label,
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD,
    secret: new Secret({ buffer: new Uint8Array(secret).buffer }),
  });
}

/** The time step a timestamp falls in. */
export function totpStep(at: Date): number {
  return Math.floor(at.getTime() / 1000 / TOTP_PERIOD);
}

/**
 * The time step the code belongs to, or null when it matches none within the window. The caller compares
 * the step with the last accepted one (replay guard).
 */
export function matchTotp(secret: Buffer, code: string, at: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpFor(secret, 'x').validate({ token: code, timestamp: at.getTime(), window: TOTP_WINDOW });
  return delta === null ? null : totpStep(at) + delta;
}

/** The code for a time (tests, the demo seed's instructions). */
export function totpCode(secretBase32: string, at: Date = new Date()): string {
  return TOTP.generate({ secret: Secret.fromBase32(secretBase32), algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD, timestamp: at.getTime() });
}

export function toBase32(secret: Buffer): string {
  return new Secret({ buffer: new Uint8Array(secret).buffer }).base32;
}

export async function enrolmentFor(secret: Buffer, email: string): Promise<TotpEnrolment> {
  const otpauthUri = totpFor(secret, email).toString();
  const qrDataUrl = await QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: 'M', margin: 2, width: 240 });
  return { otpauthUri, secretBase32: toBase32(secret), qrDataUrl };
}

/** `v1.<iv>.<tag>.<ciphertext>`, base64url parts. */
export function encryptSecret(dataKey: Buffer, secret: Buffer, userId: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(Buffer.from(`totp:${userId}`));
  const ct = Buffer.concat([cipher.update(secret), cipher.final()]);
  return [ENC_VERSION, iv, cipher.getAuthTag(), ct].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

/** Throws when the value was not made with this key for this user (tampered row, wrong DATA_KEY). */
export function decryptSecret(dataKey: Buffer, stored: string, userId: string): Buffer {
  const [version, iv, tag, ct] = stored.split('.');
  if (version !== ENC_VERSION || !iv || !tag || ct === undefined) throw new Error('unreadable TOTP secret');
  const decipher = createDecipheriv('aes-256-gcm', dataKey, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(`totp:${userId}`));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
}
