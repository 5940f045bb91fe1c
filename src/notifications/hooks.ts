/**
 * Notices for other areas' events, for the lead to wire as listeners (main.ts): each builds the request
 * (event, webhook data, plain-words e-mail) and hands it to the outbox. They run inside the listener's
 * transaction, so the notice commits with the change; they do no network I/O.
 *
 * Who gets e-mail: the application's applicant and business contact for application steps; every declared
 * contact for suspension and reinstatement. Webhook data never carries officers' names, customers' ids,
 * tokens or secrets.
 */
import type { ConsentStatusChange } from '../consent/types.js';
import { REJECTION_REASONS, reasonText, SUSPENSION_REASONS } from '../partners/reasons.js';
import type { ApplicationState, ApplicationStatusChange, MonitoredPartner, PartnersService, PartnerStatusChange } from '../partners/types.js';
import { STATE_LABELS } from '../partners/view-models.js';
import type { Notifier } from './types.js';

export type Contacts = MonitoredPartner['contacts'];

/** What the notice for a partner status change needs to know about the partner. */
export interface NoticePartner {
  id: string;
  legalName: string;
  /** Declared contacts; null (or all null) for a fast-lane partner: then only its webhook is told. */
  contacts: Contacts | null;
}

export interface NoticeOptions {
  /** The portal's external base URL, for the link in e-mails (PUBLIC_URL); no link without it. */
  portalUrl?: string | null;
}

function recipients(list: (string | null | undefined)[]): string[] {
  return [...new Set(list.filter((a): a is string => typeof a === 'string' && a.trim() !== '').map((a) => a.trim().toLowerCase()))];
}

function link(opts: NoticeOptions, path: string): string {
  return opts.portalUrl ? `\n\n${opts.portalUrl.replace(/\/+$/, '')}${path}` : '';
}

const SIGNATURE = '\n\n-- \nThe bank’s partner portal. This message was sent automatically; replies are not read.';

/** `client.suspended` / `client.reinstated` for `partners.onPartnerStatusChange`. */
export async function notifyPartnerStatusChange(
  notifier: Notifier,
  change: PartnerStatusChange,
  partner: NoticePartner,
  opts: NoticeOptions = {},
): Promise<{ queued: boolean }> {
  if (change.status === change.previous) return { queued: false };
  const suspended = change.status === 'suspended';
  const reason = suspended ? reasonText(SUSPENSION_REASONS, change.reasonCode) : null;
  const automatic = change.actor.type === 'system';
  const to = recipients([partner.contacts?.business, partner.contacts?.technical, partner.contacts?.security]);
  const text = suspended
    ? `Your partnership with the bank (${partner.legalName}) is suspended${automatic ? ' automatically' : ''}.` +
      `${reason ? `\n\nReason: ${reason}` : ''}\n\nYour OAuth clients get no tokens and their API calls are refused until the bank reinstates the partnership. ` +
      'Sign in to the partner portal for details.'
    : `Your partnership with the bank (${partner.legalName}) is reinstated. Your OAuth clients work again; tokens issued before the suspension stay revoked, so request new ones.`;
  return notifier.enqueue({
    event: suspended ? 'client.suspended' : 'client.reinstated',
    partnerId: partner.id,
    ...(to.length ? { email: { to, subject: suspended ? 'Your partnership is suspended' : 'Your partnership is reinstated', text: text + link(opts, '/applications') + SIGNATURE } } : {}),
    data: {
      status: change.status,
      previous_status: change.previous,
      reason_code: change.reasonCode,
      reason,
      automatic,
    },
  });
}

/**
 * A listener for `partners.onPartnerStatusChange` that looks the partner's contacts up first. The partners
 * service has no per-partner contacts look-up, so this reads `monitoredPartners()` (all partners); a
 * `partnerContacts(partnerId)` on the partners service would make it one row.
 */
export function partnerStatusListener(
  notifier: Notifier,
  partners: Pick<PartnersService, 'monitoredPartners'>,
  opts: NoticeOptions = {},
): (change: PartnerStatusChange) => Promise<void> {
  return async (change) => {
    const found = (await partners.monitoredPartners()).find((m) => m.partner.id === change.partnerId);
    if (!found) return;
    await notifyPartnerStatusChange(notifier, change, { id: found.partner.id, legalName: found.partner.legalName, contacts: found.contacts }, opts);
  };
}

const STEP_TEXT: Partial<Record<ApplicationState, string>> = {
  submitted: 'We received your application. The bank’s automatic checks run now; you will hear from us at each step.',
  under_review: 'A risk officer has started reviewing your application.',
  changes_requested: 'The bank asks for changes to your application. Sign in to see each item and answer it, then resubmit.',
  awaiting_second_approval: 'A first officer approved your application; a second officer’s approval is needed before it is final.',
  approved: 'Your application is approved. You can now declare your software and download its software statement.',
  conditionally_approved: 'Your application is approved with conditions. Sign in to read them and the roles you may use.',
  rejected: 'Your application was rejected.',
  withdrawn: 'Your application was withdrawn.',
};

/** `application.status_changed` for each step of an application (the listener the lead adds to partners). */
export async function notifyApplicationStatusChange(
  notifier: Notifier,
  change: ApplicationStatusChange,
  opts: NoticeOptions = {},
): Promise<{ queued: boolean }> {
  if (change.from === change.to) return { queued: false };
  const name = change.legalName ?? 'your organisation';
  const reason = change.to === 'rejected' ? reasonText(REJECTION_REASONS, change.reasonCode) : null;
  const to = recipients([change.applicantEmail, change.contacts?.business]);
  const text =
    `Application for ${name}: ${STATE_LABELS[change.to]}.\n\n${STEP_TEXT[change.to] ?? 'Its status changed.'}` +
    (reason ? `\n\nReason: ${reason}` : '') +
    link(opts, `/applications/${encodeURIComponent(change.applicationId)}`) +
    SIGNATURE;
  return notifier.enqueue({
    event: 'application.status_changed',
    partnerId: change.partnerId,
    ...(to.length ? { email: { to, subject: `Your application: ${STATE_LABELS[change.to]}`, text } } : {}),
    data: { application_id: change.applicationId, from: change.from, to: change.to, reason_code: change.reasonCode },
    dedupeKey: `application.status_changed:${change.transitionId}`,
  });
}

/**
 * `consent.revoked` to the partner's webhook when the customer (not the partner itself) revoked a consent:
 * for `consents.onStatusChange`. No e-mail (one per revocation would be noise), no customer id.
 */
export async function notifyConsentRevoked(notifier: Notifier, change: ConsentStatusChange): Promise<{ queued: boolean }> {
  if (change.to !== 'revoked' || change.actor.type !== 'customer') return { queued: false };
  const c = change.consent;
  return notifier.enqueue({
    event: 'consent.revoked',
    partnerId: c.partnerId,
    data: { consent_id: c.id, kind: c.kind, client_id: c.clientId, revoked_at: c.statusUpdatedAt, channel: change.channel },
    dedupeKey: `consent.revoked:${c.id}`,
  });
}
