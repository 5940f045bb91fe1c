/**
 * The dev PKI (development and tests only): see certs/README.md.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { KeyAlgorithm } from './builder.js';
import { generateDevPki } from './generate.js';
import { MANIFEST_FILE, writeDevPki } from './store.js';

export * from './builder.js';
export * from './crl.js';
export * from './generate.js';
export * from './responder.js';
export * from './store.js';
export * from './trusted-list.js';

export const DEFAULT_DEV_PKI_DIR = 'certs/dev';
export const DEFAULT_RESPONDER_URL = 'http://127.0.0.1:8089';

/**
 * Generates the dev PKI into `dir` unless `dir/pki.json` exists (it is written last, so its presence
 * means a complete directory). Returns whether it generated.
 */
export async function ensureDevPki(
  dir: string,
  opts: { responderBaseUrl?: string; keyAlgorithm?: KeyAlgorithm; now?: Date } = {},
): Promise<{ generated: boolean; dir: string }> {
  const root = path.resolve(dir);
  if (existsSync(path.join(root, MANIFEST_FILE))) return { generated: false, dir: root };
  const pki = await generateDevPki({
    responderBaseUrl: opts.responderBaseUrl ?? process.env.PKI_RESPONDER_URL ?? DEFAULT_RESPONDER_URL,
    ...(opts.keyAlgorithm ? { keyAlgorithm: opts.keyAlgorithm } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  await writeDevPki(pki, root);
  return { generated: true, dir: root };
}
