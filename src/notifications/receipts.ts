/**
 * Consent receipts by e-mail: the consent area keeps each receipt (granted, rejected, revoked, expired) in its
 * own outbox; this step, run by the notification worker before each tick (`worker.feed`), hands the
 * undelivered ones to the notifications outbox as e-mail to the customer, and marks each relayed in the same
 * transaction, so a receipt is relayed once. No webhook: receipts are the customer's, not the partner's.
 * A receipt whose customer no longer exists, or while e-mail is off (SMTP_URL=off), is marked relayed without
 * a message: the consent centre still shows it.
 */
import type { ConsentService } from '../consent/service.js';
import type { ConsentReceiptView } from '../consent/types.js';
import type { Transactor } from '../store/transaction.js';
import type { Notifier } from './types.js';

export interface ReceiptRelayDeps {
  consents: Pick<ConsentService, 'undeliveredReceipts' | 'markReceiptDelivered'>;
  customers: { getUser(id: string): Promise<{ kind: string; email: string; displayName: string } | null> };
  notifier: Notifier;
  tx: Transactor;
  /** The public URL of the portal, for the link to the consent centre (none when unknown). */
  portalUrl?: string | undefined;
}

const SUBJECTS: Record<ConsentReceiptView['kind'], string> = {
  granted: 'Your consent receipt: access granted',
  rejected: 'Your consent receipt: request declined',
  revoked: 'Your consent receipt: access stopped',
  expired: 'Your consent receipt: access ended',
};

const SIGNATURE = '\n\n-- \nYour bank. This message was sent automatically; replies are not read. We never ask for your password or codes by e-mail.';

/** Relays up to `limit` receipts; returns how many were e-mailed and how many were marked without a message. */
export async function relayConsentReceipts(deps: ReceiptRelayDeps, limit = 100): Promise<{ emailed: number; skipped: number }> {
  let emailed = 0;
  let skipped = 0;
  for (const r of await deps.consents.undeliveredReceipts(limit)) {
    const customer = await deps.customers.getUser(r.customerId);
    await deps.tx.run(async () => {
      let queued = false;
      if (customer && customer.kind === 'customer') {
        const centre = deps.portalUrl ? `\n\nYour consents: ${deps.portalUrl.replace(/\/+$/, '')}/customer/consents` : '';
        ({ queued } = await deps.notifier.enqueue({
          event: 'consent.receipt',
          partnerId: null,
          email: { to: [customer.email], subject: SUBJECTS[r.kind], text: `Hello ${customer.displayName},\n\n${r.text}${centre}${SIGNATURE}` },
          data: { receipt_id: r.id, consent_id: r.consentId, kind: r.kind },
          dedupeKey: `consent.receipt:${r.id}`,
        }));
      }
      await deps.consents.markReceiptDelivered(r.id);
      if (queued) emailed++;
      else skipped++;
    });
  }
  return { emailed, skipped };
}
