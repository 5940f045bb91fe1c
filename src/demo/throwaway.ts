/**
 * A whole portal in a temporary folder, as `npm start` runs one in development: the dev PKI generated for an
 * OCSP/CRL responder on a free loopback port (certificates carry the responder's URL, so the port is chosen
 * first), that responder running, the demo seed, both listeners on free ports, revocation checked hard.
 * `stop()` undoes everything, the folder included. Used by `npm run demo:partner` (without PORTAL_URL), the
 * benchmarks and the end-to-end tests, so that each runs alone on a new machine and never touches ./data or
 * ./certs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config.js';
import type { KeyAlgorithm } from '../devpki/builder.js';
import { ensureDevPki, loadDevPki, startResponder, type DevPki } from '../devpki/index.js';
import { createLogger } from '../logger.js';
import { startPortal, type Portal } from '../main.js';

export type Responder = Awaited<ReturnType<typeof startResponder>>;

/** A free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface ThrowawayPortal {
  dir: string;
  certsDir: string;
  portal: Portal;
  /** The dev PKI the responder answers for: certificates pushed to `pki.issued` are known to it. */
  pki: DevPki;
  responder: Responder;
  responderUrl: string;
  /** What the demo seed printed (the demo accounts' credentials): for the caller, never logged. */
  seedText: string;
  publicUrl: string;
  mtlsUrl: string;
  stop(): Promise<void>;
}

export interface ThrowawayOptions {
  /** Temporary folder name prefix, e.g. `demo-partner-`. */
  prefix: string;
  /** Environment on top of the defaults (NODE_ENV development, loopback, ports 0, hard-fail revocation, seed). */
  env?: Record<string, string>;
  keyAlgorithm?: KeyAlgorithm;
  /** Revocation checked hard against the loopback responder (default true); false keeps the configured defaults. */
  hardFailRevocation?: boolean;
  /** Default: LOG_LEVEL from the environment, else silent. */
  logLevel?: string;
}

export async function startThrowawayPortal(opts: ThrowawayOptions): Promise<ThrowawayPortal> {
  const dir = mkdtempSync(path.join(tmpdir(), opts.prefix));
  const undo: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const u of undo.splice(0).reverse()) await Promise.resolve(u()).catch(() => undefined);
  };
  try {
    const certsDir = path.join(dir, 'certs');
    const port = await freePort();
    const responderUrl = `http://127.0.0.1:${port}`;
    await ensureDevPki(certsDir, { responderBaseUrl: responderUrl, ...(opts.keyAlgorithm ? { keyAlgorithm: opts.keyAlgorithm } : {}) });
    const pki = await loadDevPki(certsDir);
    const responder = await startResponder({ pki, port });
    undo.push(() => responder.close());
    const config = loadConfig(
      {
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: '0',
        MTLS_PORT: '0',
        DATA_DIR: path.join(dir, 'data'),
        CERTS_DIR: certsDir,
        PKI_RESPONDER_URL: responderUrl,
        ...(opts.hardFailRevocation === false ? {} : { REVOCATION_POLICY: 'hard-fail', REVOCATION_ALLOW_PRIVATE_NETWORKS: 'true' }),
        DEMO_SEED: 'true',
        // No background passes in a throwaway portal: callers run the monitor and the notifier when they mean to.
        MONITOR_INTERVAL_MS: '0',
        NOTIFY_INTERVAL_MS: '0',
        OPS_PORT: '0',
        ...opts.env,
      },
      dir,
    );
    let seedText = '';
    const portal = await startPortal(config, createLogger({ level: opts.logLevel ?? process.env.LOG_LEVEL ?? 'silent' }), {
      onDemoSeed: (text) => void (seedText = text),
    });
    undo.push(() => portal.stop());
    return {
      dir,
      certsDir,
      portal,
      pki,
      responder,
      responderUrl,
      seedText,
      publicUrl: `https://127.0.0.1:${portal.publicPort}`,
      mtlsUrl: `https://127.0.0.1:${portal.mtlsPort}`,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
