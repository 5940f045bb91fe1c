/**
 * The notices for other areas' events, wired the way main.ts will: a real partners service (SQLite, audit,
 * register, the eIDAS engine on the shared dev PKI) with `partnerStatusListener` on its status changes, and
 * the application and consent notices fed with the shapes those areas produce.
 */
import assert from 'node:assert/strict';
import type { ConsentStatusChange, ConsentView } from '../../src/consent/types.js';
import { createLogger } from '../../src/logger.js';
import { createWebhookKeys } from '../../src/notifications/keys.js';
import { notifyApplicationStatusChange, notifyConsentRevoked, partnerStatusListener } from '../../src/notifications/hooks.js';
import { createMailer } from '../../src/notifications/mailer.js';
import { createNotificationsService, type NotificationsService } from '../../src/notifications/service.js';
import { createNotificationWorker } from '../../src/notifications/worker.js';
import type { PartnerView } from '../../src/partners/types.js';
import { createSqliteNotificationsRepository } from '../../src/store/sqlite/notifications.js';
import { approvedRegulated } from '../registration/helpers.js';
import { APPROVER_A, harness, type Harness } from '../partners/helpers.js';

interface Row {
  event: string;
  partner_id: string | null;
  data: string;
  dedupe_key: string | null;
}

async function endpoint(h: Harness, id: string, partnerId: string, url: string): Promise<void> {
  const repo = createSqliteNotificationsRepository(h.db);
  await h.tx.run(() => repo.insertEndpoint({ id, partnerId, url, createdAt: h.clock.now.toISOString(), createdBy: 'test' }));
}

function notices(h: Harness): Row[] {
  return h.db.prepare('SELECT event, partner_id, data, dedupe_key FROM notifications ORDER BY rowid').all() as Row[];
}

function deliveries(h: Harness, event: string): { channel: string; target: string; payload: string }[] {
  return h.db
    .prepare('SELECT d.channel, d.target, d.payload FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.event = ? ORDER BY d.channel, d.target')
    .all(event) as { channel: string; target: string; payload: string }[];
}

describe('notifications: notices for partners, applications and consents', function () {
  this.timeout(120_000);
  let h: Harness;
  let notifications: NotificationsService;
  let partner: PartnerView;

  beforeEach(async () => {
    h = await harness();
    notifications = createNotificationsService({ db: h.db, tx: h.tx, audit: h.audit, env: 'test', emailEnabled: true, now: () => h.clock.now });
    h.service.onPartnerStatusChange(partnerStatusListener(notifications, h.service, { portalUrl: 'https://portal.bank.test/' }));
    partner = await approvedRegulated(h);
  });
  afterEach(() => h.close());

  it('an officer suspends: client.suspended to every declared contact and the webhook, in the suspension’s transaction', async () => {
    await endpoint(h, 'ep1', partner.id, 'https://hooks.acme.test/x');
    await h.service.suspendPartner(APPROVER_A, partner.id, { reasonCode: 'FRAUD_GROUNDS', text: 'Evidence of misuse.' });
    const [n] = notices(h).filter((r) => r.event === 'client.suspended');
    assert.ok(n);
    assert.equal(n.partner_id, partner.id);
    assert.deepEqual(JSON.parse(n.data), {
      status: 'suspended',
      previous_status: 'active',
      reason_code: 'FRAUD_GROUNDS',
      reason: 'Objectively justified and evidenced grounds of unauthorised or fraudulent access (PSD2 Art. 68(5)).',
      automatic: false,
    });
    const ds = deliveries(h, 'client.suspended');
    assert.deepEqual(
      ds.map((d) => [d.channel, d.target]),
      [
        ['email', 'business@fintech.test'],
        ['email', 'security@fintech.test'],
        ['email', 'technical@fintech.test'],
        ['webhook', 'https://hooks.acme.test/x'],
      ],
    );
    const mail = JSON.parse(ds[0]!.payload) as { subject: string; text: string };
    assert.equal(mail.subject, 'Your partnership is suspended');
    assert.match(mail.text, /^Your partnership with the bank \(Acme Payments GmbH\) is suspended\.\n\nReason: Objectively justified/);
    assert.match(mail.text, /https:\/\/portal\.bank\.test\/applications/);
    // The officer is not named to the partner.
    assert.doesNotMatch(ds.map((d) => d.payload).join(' '), /anna@bank\.test|staff-anna/);

    await h.service.reinstatePartner(APPROVER_A, partner.id, { text: 'Cleared.' });
    const [r] = notices(h).filter((x) => x.event === 'client.reinstated');
    assert.deepEqual(JSON.parse(r!.data), { status: 'active', previous_status: 'suspended', reason_code: null, reason: null, automatic: false });
    assert.equal(deliveries(h, 'client.reinstated').length, 4);
  });

  it('an automatic suspension is said to be automatic; a listener that fails rolls the suspension back', async () => {
    await h.service.suspendPartnerAutomatically(partner.id, { reasonCode: 'CERTIFICATE_REVOKED', text: 'OCSP: revoked.', source: 'monitor' });
    const [n] = notices(h).filter((r) => r.event === 'client.suspended');
    assert.equal(JSON.parse(n!.data).automatic, true);
    const mail = JSON.parse(deliveries(h, 'client.suspended')[0]!.payload) as { text: string };
    assert.match(mail.text, /is suspended automatically\./);

    // The outbox refuses a broken request: the change it describes does not commit either.
    const other = await approvedRegulated(h);
    const off = h.service.onPartnerStatusChange(async () => {
      await notifications.enqueue({ event: 'client.suspended', partnerId: other.id, data: {}, email: { to: ['nobody'], subject: 's', text: 't' } });
    });
    await assert.rejects(h.service.suspendPartner(APPROVER_A, other.id, { reasonCode: 'OTHER', text: 'x' }), /notification could not be queued/);
    off();
    assert.equal((await h.service.getPartner(other.id))!.status, 'active');
  });

  it('application steps: the applicant and the business contact by e-mail, the partner webhook once approved, once per transition', async () => {
    const change = {
      applicationId: 'app-1',
      transitionId: 'tr-1',
      from: 'under_review' as const,
      to: 'rejected' as const,
      reasonCode: 'FRAUD_RISK',
      partnerId: null,
      legalName: 'Example Fintech Ltd',
      applicantEmail: 'Founder@Example.test',
      contacts: { business: 'biz@example.test', technical: 'tech@example.test', security: null },
    };
    assert.deepEqual(await notifyApplicationStatusChange(notifications, change, { portalUrl: 'https://portal.bank.test' }), { queued: true });
    assert.deepEqual(await notifyApplicationStatusChange(notifications, change), { queued: false }); // the same transition again
    const ds = deliveries(h, 'application.status_changed');
    assert.deepEqual(ds.map((d) => [d.channel, d.target]), [['email', 'biz@example.test'], ['email', 'founder@example.test']]);
    const mail = JSON.parse(ds[0]!.payload) as { subject: string; text: string };
    assert.equal(mail.subject, 'Your application: Rejected');
    assert.match(mail.text, /^Application for Example Fintech Ltd: Rejected\.\n\nYour application was rejected\.\n\nReason: The application presents a fraud risk the bank cannot accept\.\n\nhttps:\/\/portal\.bank\.test\/applications\/app-1\n/);
    const [n] = notices(h).filter((r) => r.event === 'application.status_changed');
    assert.deepEqual(JSON.parse(n!.data), { application_id: 'app-1', from: 'under_review', to: 'rejected', reason_code: 'FRAUD_RISK' });
    assert.equal(n!.dedupe_key, 'application.status_changed:tr-1');
    // Once approved, the partner's webhook is told too.
    await endpoint(h, 'ep3', partner.id, 'https://hooks.acme.test/a');
    const approved = { ...change, transitionId: 'tr-2', to: 'approved' as const, reasonCode: null, partnerId: partner.id };
    assert.deepEqual(await notifyApplicationStatusChange(notifications, approved), { queued: true });
    const hook = deliveries(h, 'application.status_changed').filter((d) => d.channel === 'webhook');
    assert.deepEqual(hook.map((d) => d.target), ['https://hooks.acme.test/a']);
    assert.deepEqual((JSON.parse(hook[0]!.payload) as { data: unknown }).data, { application_id: 'app-1', from: 'under_review', to: 'approved', reason_code: null });
    assert.deepEqual(await notifyApplicationStatusChange(notifications, { ...change, transitionId: 'tr-3', from: 'rejected', to: 'rejected' }), { queued: false });
  });

  it('consent.revoked goes to the partner webhook only when the customer revoked, once per consent, without the customer id', async () => {
    await endpoint(h, 'ep2', partner.id, 'https://hooks.acme.test/c');
    const consent = { id: 'c-1', kind: 'account-access', status: 'revoked', clientId: 'client-1', partnerId: partner.id, customerId: 'customer-secret-id', statusUpdatedAt: '2026-03-02T10:00:00.000Z' } as unknown as ConsentView;
    const change = (over: Partial<ConsentStatusChange>): ConsentStatusChange => ({
      consent,
      from: 'authorised',
      to: 'revoked',
      channel: 'consent-centre',
      actor: { type: 'customer', id: 'customer-secret-id', label: 'Customer' },
      reason: null,
      ...over,
    });
    assert.deepEqual(await notifyConsentRevoked(notifications, change({ actor: { type: 'partner', id: 'client-1', label: 'client' }, channel: 'api' })), { queued: false });
    assert.deepEqual(await notifyConsentRevoked(notifications, change({ to: 'expired' })), { queued: false });
    assert.deepEqual(await notifyConsentRevoked(notifications, change({})), { queued: true });
    assert.deepEqual(await notifyConsentRevoked(notifications, change({})), { queued: false });
    const ds = deliveries(h, 'consent.revoked');
    assert.deepEqual(ds.map((d) => d.channel), ['webhook']);
    const body = JSON.parse(ds[0]!.payload) as { data: Record<string, unknown> };
    assert.deepEqual(body.data, { consent_id: 'c-1', kind: 'account-access', client_id: 'client-1', revoked_at: '2026-03-02T10:00:00.000Z', channel: 'consent-centre' });
    assert.doesNotMatch(ds[0]!.payload, /customer-secret-id/);
  });

  it('end to end: a suspension becomes .eml files once the worker ticks', async () => {
    await h.service.suspendPartner(APPROVER_A, partner.id, { reasonCode: 'CONTRACT_ENDED', text: 'Ended.' });
    const worker = createNotificationWorker({
      db: h.db,
      tx: h.tx,
      keys: await createWebhookKeys({ dataDir: h.dataDir }),
      mailer: createMailer({ smtpUrl: null, from: 'Portal <no-reply@bank.test>', dataDir: h.dataDir, env: 'test' }),
      logger: createLogger({ level: 'silent' }),
      env: 'test',
      now: () => h.clock.now,
    });
    assert.deepEqual(await worker.tick(), { claimed: 3, delivered: 3, failed: 0, dead: 0 });
  });
});
