/**
 * Notifications on real parts: SQLite in a temporary directory, the transactor, the audit log, the webhook
 * keys on disk, the file-sink mailer, the service and the worker on an injected clock; a real HTTPS webhook
 * receiver on 127.0.0.1 (throwaway certificate, trusted by the worker through `webhookCa`) that answers with
 * scripted statuses and verifies each delivery with verifyWebhook against the JWKS the portal's router serves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import type { JSONWebKeySet } from 'jose';
import { createAuditService, type AuditService } from '../../src/audit/service.js';
import { createLogger } from '../../src/logger.js';
import type { WebhookFetch } from '../../src/notifications/http.js';
import { createWebhookKeys, type WebhookKeys } from '../../src/notifications/keys.js';
import { createMailer, type Mailer } from '../../src/notifications/mailer.js';
import type { NotificationsRepository } from '../../src/notifications/repository.js';
import { webhookKeysRouter } from '../../src/notifications/routes.js';
import { createNotificationsService, type NotificationsService } from '../../src/notifications/service.js';
import { createNotificationWorker, type NotificationWorker } from '../../src/notifications/worker.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { createSqliteNotificationsRepository } from '../../src/store/sqlite/notifications.js';
import { createTransactor, type Transactor } from '../../src/store/transaction.js';
import { testTls } from '../helpers/web.js';

export const T0 = new Date('2026-03-02T09:00:00.000Z');

export interface Outbox {
  dir: string;
  dataDir: string;
  db: Db;
  tx: Transactor;
  audit: AuditService;
  keys: WebhookKeys;
  mailer: Mailer | null;
  repo: NotificationsRepository;
  service: NotificationsService;
  clock: { now: Date };
  /** A worker on this outbox (env `test` unless told). */
  worker(opts?: { env?: 'development' | 'test' | 'production'; fetch?: WebhookFetch; ca?: string; timeoutMs?: number; random?: () => number }): NotificationWorker;
  /** An active endpoint for `partnerId`, written through the repository (the page is tested separately). */
  endpoint(partnerId: string, url: string): Promise<string>;
  /** Serves the portal's webhookKeysRouter over plain HTTP on 127.0.0.1: the URL of /notifications/jwks.json. */
  jwksUrl(): Promise<string>;
  close(): Promise<void>;
}

export async function outbox(opts: { env?: 'development' | 'test' | 'production'; emailEnabled?: boolean } = {}): Promise<Outbox> {
  const dir = mkdtempSync(path.join(tmpdir(), 'notifications-'));
  const dataDir = path.join(dir, 'data');
  const db = openDatabase({ dataDir });
  const tx = createTransactor(db);
  const clock = { now: new Date(T0) };
  const now = () => clock.now;
  const audit = createAuditService({ db, tx, now });
  const keys = await createWebhookKeys({ dataDir, now });
  const env = opts.env ?? 'test';
  const mailer = opts.emailEnabled === false ? null : createMailer({ smtpUrl: null, from: 'Portal <no-reply@bank.test>', dataDir, env: 'test' });
  const repo = createSqliteNotificationsRepository(db);
  const service = createNotificationsService({ db, tx, audit, env, emailEnabled: mailer !== null, now });
  const logger = createLogger({ level: 'silent' });
  const servers: http.Server[] = [];
  return {
    dir,
    dataDir,
    db,
    tx,
    audit,
    keys,
    mailer,
    repo,
    service,
    clock,
    worker: (w = {}) =>
      createNotificationWorker({
        db,
        tx,
        keys,
        mailer,
        logger,
        env: w.env ?? env,
        now,
        random: w.random ?? (() => 0.5),
        ...(w.fetch ? { fetch: w.fetch } : {}),
        ...(w.ca ? { webhookCa: w.ca } : {}),
        ...(w.timeoutMs ? { timeoutMs: w.timeoutMs } : {}),
      }),
    async endpoint(partnerId, url) {
      const id = `ep-${Math.random().toString(36).slice(2, 10)}`;
      await tx.run(() => repo.insertEndpoint({ id, partnerId, url, createdAt: clock.now.toISOString(), createdBy: 'test' }));
      return id;
    },
    async jwksUrl() {
      const app = express();
      app.use(webhookKeysRouter(keys));
      const server = http.createServer(app);
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/notifications/jwks.json`;
    },
    async close() {
      for (const s of servers) await new Promise((resolve) => s.close(resolve));
      mailer?.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- the receiver ------------------------------------------------------------------------------------------

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface Receiver {
  url: string;
  ca: string;
  received: Received[];
  /** Statuses to answer with, in order; the last one repeats. */
  script: number[];
  /** Answer body (default `ok`). */
  answer: string | Buffer;
  /** Milliseconds to wait before answering. */
  delayMs: number;
  close(): Promise<void>;
}

export async function receiver(script: number[] = [200]): Promise<Receiver> {
  const { cert, key } = await testTls();
  const state = { received: [] as Received[], script, answer: 'ok' as string | Buffer, delayMs: 0 };
  const server = https.createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      const n = state.received.length - 1;
      const status = state.script[Math.min(n, state.script.length - 1)] ?? 200;
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(status, { 'Content-Type': 'text/plain' });
        res.end(state.answer);
      }, state.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const r: Receiver = {
    url: `https://127.0.0.1:${port}/hooks/portal?source=bank`,
    ca: cert,
    get received() {
      return state.received;
    },
    get script() {
      return state.script;
    },
    set script(v) {
      state.script = v;
    },
    get answer() {
      return state.answer;
    },
    set answer(v) {
      state.answer = v;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(v) {
      state.delayMs = v;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return r;
}

export async function fetchJwks(url: string): Promise<JSONWebKeySet> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`JWKS: HTTP ${res.status}`);
  return (await res.json()) as JSONWebKeySet;
}

export function rows(db: Db, table: string): Record<string, unknown>[] {
  return db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all() as Record<string, unknown>[];
}
