/**
 * A whole portal (test/oauth/harness.ts) with the ops area attached: metrics first in both apps, the activity
 * recorder on the mutual-TLS app, the inventory and activity pages on the public app, the provider
 * instrumented, and the ops listener on a free loopback port.
 *
 * When start-up (src/main.ts) wires the ops area itself, the portal carries `ops` and `opsPort` and they are
 * used as they are. Until then this attaches the same parts to the running apps, in the places the wiring
 * puts them (docs/operations.md), so that the tests exercise the real apps either way.
 */
import type https from 'node:https';
import type { Express, RequestHandler, Router } from 'express';
import { notFound } from '../../src/http/middleware/errors.js';
import type { Portal } from '../../src/main.js';
import { createOpsArea, type OpsArea } from '../../src/ops/area.js';
import type { InventoryApps } from '../../src/ops/inventory.js';
import { createOpsServer, readiness } from '../../src/ops/server.js';
import { close, listen, readTlsMaterial } from '../../src/server/listeners.js';
import { createHealthService } from '../../src/health/service.js';
import { startOAuthPortal, type OAuthHarness } from '../oauth/harness.js';

export interface OpsHarness extends OAuthHarness {
  ops: OpsArea;
  apps: InventoryApps;
  opsUrl: string;
  opsServer: https.Server | null;
  /** GET (or another method) on the ops listener. */
  opsRequest(method: string, path: string): Promise<{ status: number; text: string; headers: Headers }>;
}

type WiredPortal = Portal & { ops?: OpsArea; opsPort?: number };

interface StackLayer {
  handle: unknown;
}

function stackOf(app: Express): StackLayer[] {
  return (app as unknown as { router: { stack: StackLayer[] } }).router.stack;
}

/** Mounts `handler` and moves its layer to the front of the app's stack. */
function useFirst(app: Express, handler: RequestHandler): void {
  app.use(handler);
  const stack = stackOf(app);
  stack.unshift(stack.pop()!);
}

/** Mounts `router` just before the 404 handler (after the session stack and the other pages). */
function useBeforeNotFound(app: Express, router: Router): void {
  app.use(router);
  const stack = stackOf(app);
  const layer = stack.pop()!;
  const at = stack.findIndex((l) => l.handle === notFound);
  stack.splice(at < 0 ? stack.length : at, 0, layer);
}

export async function startOpsPortal(env: Record<string, string> = {}): Promise<OpsHarness> {
  const h = await startOAuthPortal({ OPS_PORT: '0', ...env });
  const portal = h.portal as WiredPortal;
  const [publicServer, mtlsServer] = portal.servers;
  const apps: InventoryApps = {
    public: publicServer!.listeners('request')[0] as Express,
    mtls: mtlsServer!.listeners('request')[0] as Express,
  };
  let ops: OpsArea;
  let opsServer: https.Server | null = null;
  let opsPort: number;
  if (portal.ops && portal.opsPort !== undefined) {
    ops = portal.ops;
    opsPort = portal.opsPort;
  } else {
    ops = createOpsArea({
      db: portal.db,
      tx: portal.tx,
      audit: portal.audit,
      partners: portal.partners,
      provider: () => portal.oauth.provider(),
      // Long: the tests flush when they mean to (the page flushes before reading).
      activityFlushMs: 60_000,
    });
    useFirst(apps.public, ops.metrics.requestMetrics('public'));
    useFirst(apps.mtls, ops.recorder.middleware);
    useFirst(apps.mtls, ops.metrics.requestMetrics('mtls'));
    useBeforeNotFound(apps.public, ops.inventoryRouter(() => apps));
    useBeforeNotFound(apps.public, ops.activityRouter());
    ops.start(portal.oauth.provider());
    const health = createHealthService({ config: portal.config, db: portal.db, eidas: portal.eidas, mtlsPort: () => portal.mtlsPort });
    opsServer = createOpsServer({
      tls: readTlsMaterial(portal.config.tls),
      metrics: ops.metrics,
      ready: readiness({
        health,
        listeners: () => ({ public: publicServer ?? null, mtls: mtlsServer ?? null }),
        signingKeys: () => portal.oauth.keys.keys.length,
        providerStarted: () => Boolean(portal.oauth.provider()),
      }),
    });
    opsPort = await listen(opsServer, portal.config.ops.port, portal.config.ops.host);
  }
  const opsUrl = `https://127.0.0.1:${opsPort}`;
  const plain = h.client(null);
  const stop = h.stop;
  return {
    ...h,
    ops,
    apps,
    opsUrl,
    opsServer,
    async opsRequest(method, path) {
      const r = await h.request(plain, method, `${opsUrl}${path}`, { headers: { accept: '*/*' } });
      return { status: r.status, text: r.text, headers: r.headers };
    },
    async stop() {
      if (opsServer) {
        await ops.stop();
        await close(opsServer);
      }
      await stop();
    },
  };
}
