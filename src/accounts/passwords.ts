/**
 * Password hashing with scrypt (node:crypto) and the password policy.
 *
 * Stored form: `scrypt$N$r$p$salt$hash` (salt and hash base64url), so the parameters travel with each hash
 * and can be raised later: `needsRehash` tells the service to re-hash on the next successful sign-in.
 * scrypt runs on libuv's thread pool (the async form), not on the event loop.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { InputError } from '../errors.js';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** OWASP's scrypt floor is N=2^17 r=8 p=1 at ~128 MiB; 2^15 keeps a login near 100 ms on a small host. */
export const CURRENT_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Upper bounds for parameters read back from the store: a damaged row must not exhaust memory. */
const MAX_N = 2 ** 20;

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

/** A tiny deny-list of passwords that meet the length rule but are first in every guessing list. */
const COMMON = new Set([
  '123456789012',
  '1234567890123',
  '12345678901234',
  'password1234',
  'password12345',
  'password123456',
  'passwordpassword',
  'qwertyuiopasdf',
  'qwertyuiop12',
  'qwertyuiop123',
  'qwerty123456',
  'iloveyou1234',
  'letmein12345',
  'welcome12345',
  'admin1234567',
  'changeme1234',
  'aaaaaaaaaaaa',
  '111111111111',
  '000000000000',
  'abcdefghijkl',
  'abc123abc123',
  'partnerportal',
  'partnerportal1',
  'openbanking123',
]);

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must cover 128 * N * r bytes (plus slack) or node refuses the parameters.
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, params: ScryptParams = CURRENT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

interface Parsed {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

function parse(stored: string): Parsed | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = parts.slice(1, 4).map((v) => (/^\d{1,8}$/.test(v ?? '') ? Number(v) : NaN)) as [number, number, number];
  if (!(N >= 2 && N <= MAX_N && (N & (N - 1)) === 0 && r >= 1 && r <= 32 && p >= 1 && p <= 16)) return null;
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const key = Buffer.from(parts[5] ?? '', 'base64url');
  if (salt.length < 8 || key.length < 16) return null;
  return { params: { N, r, p }, salt, key };
}

/** True when the password matches; false for a mismatch or an unreadable stored hash. Timing-safe compare. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

/** The stored hash was made with other parameters than the current ones. */
export function needsRehash(stored: string, params: ScryptParams = CURRENT_PARAMS): boolean {
  const parsed = parse(stored);
  return !parsed || parsed.params.N !== params.N || parsed.params.r !== params.r || parsed.params.p !== params.p;
}

let dummy: Promise<string> | null = null;

/**
 * Spends the same scrypt work as a real check, for an e-mail without an account, so that the response time
 * does not tell whether the account exists. Always false.
 */
export async function dummyVerify(password: string): Promise<false> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await dummy);
  return false;
}

/**
 * The password policy (NIST SP 800-63B style: length, a deny-list, not the e-mail; no composition rules).
 * Returns the problem in plain words, or null.
 */
export function passwordProblem(password: string, email: string): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN) return `Use at least ${PASSWORD_MIN} characters.`;
  if (length > PASSWORD_MAX) return `Use at most ${PASSWORD_MAX} characters.`;
  const lower = password.toLowerCase();
  if (lower === email.toLowerCase() || lower === email.toLowerCase().split('@')[0]) {
    return 'The password must not be your e-mail address.';
  }
  if (COMMON.has(lower) || new Set(lower).size <= 2) return 'This password is too common. Choose a less predictable one.';
  return null;
}

/** Throws InputError on the given field when the password breaks the policy. */
export function assertPasswordPolicy(password: string, email: string, field = 'password'): void {
  const problem = passwordProblem(password, email);
  if (problem) throw new InputError(problem, [{ path: field, message: problem }]);
}
