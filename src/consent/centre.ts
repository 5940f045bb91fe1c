/**
 * The customer's consent centre on the public listener (bank customers only, `requireCustomer`), after the
 * session stack (CSRF included):
 *
 *   GET  /customer/consents                 active and past consents per partner, in plain words
 *   GET  /customer/consents/export.json     everything about them as a download (GDPR Art. 15 access)
 *   GET  /customer/consents/:id             one consent: what it allows, its history, the partner's calls, receipts
 *   GET  /customer/consents/:id/revoke      the consequences first (CDR rule 4.13), then a confirm button
 *   POST /customer/consents/:id/revoke      withdraws it → 303 to the consent with a notice
 *
 * Modelled on the UK OB customer experience guidelines' access dashboard. Another customer's consent, like an
 * unknown one, is 404. Views get presenter objects with explicit fields, never the service's views.
 */
import { Router, type Request, type Response } from 'express';
import { AppError, NotFoundError } from '../errors.js';
import { requireCustomer } from '../http/middleware/auth.js';
import { setFlash } from '../http/middleware/session.js';
import type { ConsentAccountLabel, ConsentService } from './service.js';
import { dateText, maskIban } from './text.js';
import {
  PERMISSION_TEXT,
  type ConsentAccessView,
  type ConsentEventView,
  type ConsentStatus,
  type ConsentView,
  type CustomerConsentSummary,
  type CustomerPartnerConsents,
} from './types.js';
import { policy } from '../ops/policy.js';

export interface ConsentCentreDeps {
  consents: Pick<ConsentService, 'listForCustomer' | 'detailForCustomer' | 'revocationConsequences' | 'revokeByCustomer' | 'exportForCustomer'>;
  /** Labels for the accounts (nickname and masked IBAN). */
  banking: { accountsOf(customerId: string): Promise<ConsentAccountLabel[]> };
}

const STATUS_TEXT: Record<ConsentStatus, string> = {
  awaiting_authorisation: 'Waiting for your approval',
  authorised: 'Active',
  rejected: 'Declined by you',
  revoked: 'Withdrawn',
  expired: 'Ended',
  consumed: 'Payment made',
};

/** Badge classes of portal.css. */
const STATUS_BADGE: Record<ConsentStatus, string> = {
  awaiting_authorisation: 'badge-info',
  authorised: 'badge-active',
  rejected: 'badge-rejected',
  revoked: 'badge-withdrawn',
  expired: '',
  consumed: 'badge-approved',
};

const CHANNEL_TEXT: Record<ConsentEventView['channel'], string> = {
  api: 'through its connection to the bank',
  authorisation: "on the bank's authorisation page",
  'consent-centre': 'in your consent centre',
  system: 'automatically',
};

/** The endpoints partners call, in plain words; others are shown as they are. */
const ENDPOINT_TEXT: [RegExp, string][] = [
  [/^GET \/api\/v1\/accounts$/, 'Listed your accounts'],
  [/^GET \/api\/v1\/accounts\/\{AccountId\}$/, 'Read the details of an account'],
  [/^GET \/api\/v1\/accounts\/\{AccountId\}\/balances$/, 'Read the balances of an account'],
  [/^GET \/api\/v1\/accounts\/\{AccountId\}\/transactions$/, 'Read the transactions of an account'],
  [/^POST \/api\/v1\/domestic-payments$/, 'Submitted the payment'],
];

const when = (iso: string | null): string | null => (iso ? dateText(iso) : null);

type Labels = Map<string, string>;

async function accountLabels(deps: ConsentCentreDeps, customerId: string): Promise<Labels> {
  const labels: Labels = new Map();
  for (const a of await deps.banking.accountsOf(customerId)) labels.set(a.id, `${a.nickname} (${maskIban(a.iban)})`);
  return labels;
}

function consentCard(s: CustomerConsentSummary, labels: Labels) {
  const c: ConsentView = s.consent;
  const ended = c.status === 'authorised' && !s.active;
  return {
    id: c.id,
    href: `/customer/consents/${encodeURIComponent(c.id)}`,
    app: s.clientName,
    kind: c.kind,
    status: ended ? 'Ended' : STATUS_TEXT[c.status],
    badge: ended ? '' : STATUS_BADGE[c.status],
    permissions: c.permissions.map((p) => ({ code: p, text: PERMISSION_TEXT[p] })),
    payment: c.payment
      ? {
          amount: `${c.payment.currency} ${c.payment.amount}`,
          payee: c.payment.creditorAccount.name,
          payeeAccount: maskIban(c.payment.creditorAccount.identification),
          reference: c.payment.reference,
        }
      : null,
    accounts: c.accountIds.map((id) => labels.get(id) ?? 'An account that is closed'),
    granted: when(c.authorisedAt),
    expires: c.kind === 'account-access' ? (when(c.expiresAt) ?? 'When you withdraw it') : null,
    expiresAt: c.expiresAt,
    lastUsed: when(c.lastUsedAt),
    active: s.active,
    revocable: s.active,
  };
}

function partnerBlock(p: CustomerPartnerConsents['partner']) {
  return {
    name: p.name,
    status: p.status === 'active' ? 'Vetted and approved by the bank' : p.status === 'suspended' ? 'Suspended by the bank' : 'No longer a partner of the bank',
    badge: p.status === 'active' ? 'badge-partner-active' : 'badge-partner-suspended',
  };
}

function eventLine(e: ConsentEventView) {
  const who = e.actor.type === 'customer' ? 'You' : e.actor.type === 'system' ? 'The bank' : e.actor.label;
  let what: string;
  if (e.fromStatus === null) what = `${who} asked for it`;
  else if (e.toStatus === 'authorised') what = `${who} approved it`;
  else if (e.toStatus === 'rejected') what = `${who} declined it`;
  else if (e.toStatus === 'revoked') what = e.actor.type === 'customer' ? 'You withdrew it' : `${who} ended it`;
  else if (e.toStatus === 'expired') what = 'It reached its end date';
  else if (e.toStatus === 'consumed') what = `${who} made the payment`;
  else what = `${who} changed it to ${STATUS_TEXT[e.toStatus].toLowerCase()}`;
  return { at: dateText(e.at), atIso: e.at, text: `${what} ${CHANNEL_TEXT[e.channel]}.`, reason: e.reason };
}

function accessLine(a: ConsentAccessView, labels: Labels) {
  const known = ENDPOINT_TEXT.find(([re]) => re.test(a.endpoint));
  return {
    at: dateText(a.at),
    atIso: a.at,
    what: known ? known[1] : a.endpoint,
    account: a.accountId ? (labels.get(a.accountId) ?? 'An account that is closed') : null,
    outcome: a.status < 400 ? 'Answered' : 'Refused',
    ok: a.status < 400,
  };
}

function idParam(req: Request): string {
  const id = String(req.params.id ?? '');
  // Our ids are short; anything else is not one (and is not looked up).
  if (id.length === 0 || id.length > 128) throw new NotFoundError('There is no such consent.');
  return id;
}

export function consentCentreRouter(deps: ConsentCentreDeps): Router {
  const router = Router();
  const { consents } = deps;
  const me = (req: Request) => req.user!.id;

  async function renderDetail(req: Request, res: Response, id: string): Promise<void> {
    const [detail, labels] = await Promise.all([consents.detailForCustomer(id, me(req)), accountLabels(deps, me(req))]);
    res.render('customer/consents/detail', {
      title: detail.partner.name,
      partner: partnerBlock(detail.partner),
      consent: consentCard(detail, labels),
      events: [...detail.events].reverse().map(eventLine),
      accesses: detail.accesses.map((a) => accessLine(a, labels)),
      receipts: [...detail.receipts].reverse().map((r) => ({ kind: r.kind, at: dateText(r.createdAt), text: r.text })),
    });
  }

  async function renderRevoke(req: Request, res: Response, id: string, error: { code: string; message: string } | null = null): Promise<void> {
    const [detail, labels, consequences] = await Promise.all([
      consents.detailForCustomer(id, me(req)),
      accountLabels(deps, me(req)),
      consents.revocationConsequences(id, me(req)),
    ]);
    res.render('customer/consents/revoke', {
      title: `Withdraw your consent for ${detail.partner.name}`,
      partner: partnerBlock(detail.partner),
      consent: consentCard(detail, labels),
      consequences,
      action: `/customer/consents/${encodeURIComponent(id)}/revoke`,
      error,
    });
  }

  router.get('/customer/consents', policy({ auth: 'session:customer', returns: "the customer's active and past consents per partner" }), requireCustomer, async (req, res) => {
    const [groups, labels] = await Promise.all([consents.listForCustomer(me(req)), accountLabels(deps, me(req))]);
    res.render('customer/consents/list', {
      title: 'Your consents',
      groups: groups.map((g) => ({
        partner: partnerBlock(g.partner),
        active: g.active.map((s) => consentCard(s, labels)),
        past: g.past.map((s) => consentCard(s, labels)),
      })),
    });
  });

  router.get('/customer/consents/export.json', policy({ auth: 'session:customer', returns: "the customer's consents, history and receipts as a JSON download (GDPR)" }), requireCustomer, async (req, res) => {
    const data = await consents.exportForCustomer(me(req));
    res
      .status(200)
      .set('Cache-Control', 'no-store')
      .set('Content-Disposition', `attachment; filename="consents-${data.exportedAt.slice(0, 10)}.json"`)
      .type('application/json')
      .send(`${JSON.stringify(data, null, 2)}\n`);
  });

  router.get('/customer/consents/:id', policy({ auth: 'session:customer', returns: "one consent: permissions, accounts (masked IBANs), history, the partner's calls" }), requireCustomer, async (req, res) => {
    await renderDetail(req, res, idParam(req));
  });

  router.get('/customer/consents/:id/revoke', policy({ auth: 'session:customer', returns: 'the withdrawal page with its consequences' }), requireCustomer, async (req, res) => {
    await renderRevoke(req, res, idParam(req));
  });

  router.post('/customer/consents/:id/revoke', policy({ auth: 'session:customer', returns: 'withdraws the consent (its grant and tokens end); redirect' }), requireCustomer, async (req, res) => {
    const id = idParam(req);
    try {
      await consents.revokeByCustomer(id, me(req), 'withdrawn by the customer in the consent centre');
    } catch (err) {
      // Already withdrawn or ended (another tab, the partner, expiry): the page says so with the code.
      if (!(err instanceof AppError) || err.code !== 'consent.invalid_status') throw err;
      res.status(err.status);
      await renderRevoke(req, res, id, { code: err.code, message: err.message });
      return;
    }
    setFlash(req, 'ok', 'Your consent is withdrawn. The partner can no longer use it; a receipt is in the consent history.');
    res.redirect(303, `/customer/consents/${encodeURIComponent(id)}`);
  });

  return router;
}
