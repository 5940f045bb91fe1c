/**
 * Consent receipts by e-mail: the consent area's receipts are relayed to the notifications outbox as e-mail to
 * the customer, once each, by the worker's feed step before it delivers; the .eml file sink receives them.
 * Real parts on one SQLite file: the consent service, the accounts service (a real customer), the banking
 * service, the notifications service, mailer and worker.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createAccountsService } from '../../src/accounts/service.js';
import { createLogger } from '../../src/logger.js';
import { createMailer } from '../../src/notifications/mailer.js';
import { relayConsentReceipts } from '../../src/notifications/receipts.js';
import { createNotificationsService } from '../../src/notifications/service.js';
import { createNotificationWorker } from '../../src/notifications/worker.js';
import { createWebhookKeys } from '../../src/notifications/keys.js';
import { accessBody, ACME, consentHarness, type ConsentHarness } from '../consent/helpers.js';

describe('notifications: consent receipts by e-mail', function () {
  this.timeout(30_000);
  let h: ConsentHarness;
  let customerId: string;
  let accountId: string;
  let relay: (opts?: { emailEnabled?: boolean }) => ReturnType<typeof relayConsentReceipts>;
  let emailEnabled = true;

  beforeEach(async () => {
    h = await consentHarness();
    const accounts = createAccountsService({ db: h.db, tx: h.tx, audit: h.audit, dataKey: Buffer.alloc(32, 3), logger: createLogger({ level: 'silent' }) });
    const { user } = await accounts.seedCustomer({ email: 'robin@customer.test', displayName: 'Robin Customer', password: 'correct horse battery staple' });
    customerId = user.id;
    accountId = (await h.banking.seedDemoAccounts(customerId, 'Robin Customer'))[0]!.id;
    emailEnabled = true;
    relay = () =>
      relayConsentReceipts({
        consents: h.consents,
        customers: accounts,
        notifier: createNotificationsService({ db: h.db, tx: h.tx, audit: h.audit, env: 'test', emailEnabled }),
        tx: h.tx,
        portalUrl: 'https://bank.example/',
      });
  });
  afterEach(() => h?.close());

  const deliveries = () =>
    h.db.prepare("SELECT d.channel, d.target, n.event FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id ORDER BY d.rowid").all() as {
      channel: string;
      target: string;
      event: string;
    }[];

  /** A worker on the same store whose e-mail goes to `.eml` files under `dataDir/mail`. */
  async function fileWorker() {
    const dataDir = path.join(h.dir, 'notify');
    const worker = createNotificationWorker({
      db: h.db,
      tx: h.tx,
      keys: await createWebhookKeys({ dataDir }),
      mailer: createMailer({ smtpUrl: null, from: 'Bank <no-reply@bank.example>', dataDir, env: 'test' }),
      logger: createLogger({ level: 'silent' }),
      env: 'test',
    });
    return { worker, dataDir };
  }

  async function grantAndRevoke(): Promise<string> {
    const c = await h.consents.createAccountAccess(ACME, accessBody());
    await h.consents.authorise(c.id, { customerId, accountIds: [accountId], grantId: 'grant-r', channel: 'authorisation' });
    await h.consents.revokeByCustomer(c.id, customerId, 'no longer needed');
    return c.id;
  }

  it('e-mails each receipt to the customer once (no webhook) and marks it relayed', async () => {
    const consentId = await grantAndRevoke();
    assert.equal((await h.consents.undeliveredReceipts()).length, 2);
    assert.deepEqual(await relay(), { emailed: 2, skipped: 0 });
    assert.deepEqual(deliveries(), [
      { channel: 'email', target: 'robin@customer.test', event: 'consent.receipt' },
      { channel: 'email', target: 'robin@customer.test', event: 'consent.receipt' },
    ]);
    assert.deepEqual(await h.consents.undeliveredReceipts(), []);
    const detail = await h.consents.detailForCustomer(consentId, customerId);
    assert.ok(detail.receipts.every((r) => r.deliveredAt !== null));
    // Again: nothing to relay, nothing queued twice.
    assert.deepEqual(await relay(), { emailed: 0, skipped: 0 });
    assert.equal(deliveries().length, 2);
  });

  it('the worker relays before delivering: the customer receives the receipt text as an .eml with a link to the consent centre', async () => {
    await grantAndRevoke();
    const { worker, dataDir } = await fileWorker();
    worker.feed(() => relay());
    const r = await worker.tick();
    assert.equal(r.delivered, 2);
    const files = readdirSync(path.join(dataDir, 'mail')).sort();
    assert.equal(files.length, 2);
    const mails = files.map((f) => readFileSync(path.join(dataDir, 'mail', f), 'utf8'));
    const granted = mails.find((m) => /Subject: Your consent receipt: access granted/.test(m))!;
    assert.ok(granted, mails.join('\n---\n'));
    assert.match(granted, /To: robin@customer\.test/);
    assert.match(granted, /Hello Robin Customer,/);
    assert.match(granted, /you allowed .*Acme/s);
    assert.match(granted, /Your consents: https:\/\/bank\.example\/customer\/consents/);
    assert.ok(mails.some((m) => /Subject: Your consent receipt: access stopped/.test(m)));
  });

  it('with e-mail off, receipts are marked relayed without a message (the consent centre keeps them)', async () => {
    await grantAndRevoke();
    emailEnabled = false;
    assert.deepEqual(await relay(), { emailed: 0, skipped: 2 });
    assert.deepEqual(deliveries(), []);
    assert.deepEqual(await h.consents.undeliveredReceipts(), []);
  });

  it('a failing relay step does not stop the worker delivering what is queued', async () => {
    const { worker } = await fileWorker();
    await grantAndRevoke();
    await relay();
    worker.feed(() => Promise.reject(new Error('feed down')));
    assert.equal((await worker.tick()).delivered, 2);
  });
});
