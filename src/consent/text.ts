/**
 * What the customer reads about a consent, in plain words: receipts (Australian CDR rule 4.18: a receipt
 * for every grant, withdrawal and expiry, saying who, what, for how long and how to stop it) and the
 * consequences of withdrawing (CDR rule 4.13: said before the customer confirms). Pure functions: the
 * service passes the names it looked up.
 */
import { PERMISSION_TEXT, type ConsentView } from './types.js';

export interface ReceiptContext {
  partnerName: string;
  clientName: string | null;
  /** Labels of the consent's accounts ("Everyday account (DE89 •••• 3000)"), when known. */
  accountLabels: string[];
}

/** "DE89 •••• 3000": enough for the customer to recognise an account, not enough to reuse it. */
export function maskIban(iban: string): string {
  return iban.length <= 8 ? '••••' : `${iban.slice(0, 4)} •••• ${iban.slice(-4)}`;
}

/** "4 December 2026, 12:00 UTC". */
export function dateText(iso: string): string {
  const d = new Date(iso);
  const day = d.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
  const time = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });
  return `${day}, ${time} UTC`;
}

function who(ctx: ReceiptContext): string {
  return ctx.clientName ? `${ctx.partnerName} (through its app ${ctx.clientName})` : ctx.partnerName;
}

function accounts(ctx: ReceiptContext, count: number): string {
  if (ctx.accountLabels.length > 0) return ctx.accountLabels.join(', ');
  return count === 1 ? 'one account' : `${count} accounts`;
}

export function permissionLines(consent: Pick<ConsentView, 'permissions'>): string[] {
  return consent.permissions.map((p) => PERMISSION_TEXT[p]);
}

function paymentText(consent: ConsentView): string {
  const p = consent.payment!;
  const ref = p.reference ? ` with the reference "${p.reference}"` : '';
  return `a payment of ${p.currency} ${p.amount} to ${p.creditorAccount.name} (${maskIban(p.creditorAccount.identification)})${ref}`;
}

export function grantedReceipt(consent: ConsentView, ctx: ReceiptContext, at: string): string {
  if (consent.kind === 'domestic-payment') {
    return `On ${dateText(at)} you approved ${paymentText(consent)}, requested by ${who(ctx)}, from ${accounts(ctx, consent.accountIds.length)}. ` +
      `It is paid once, when ${ctx.partnerName} submits it.`;
  }
  const until = consent.expiresAt ? `until ${dateText(consent.expiresAt)}` : 'until you stop it';
  return `On ${dateText(at)} you allowed ${who(ctx)} to see, for ${accounts(ctx, consent.accountIds.length)}: ` +
    `${permissionLines(consent).join('; ')}. This lasts ${until}. ` +
    'You can stop it at any time in your consent centre.';
}

export function rejectedReceipt(consent: ConsentView, ctx: ReceiptContext, at: string): string {
  const what = consent.kind === 'domestic-payment' ? paymentText(consent) : 'access to your account information';
  return `On ${dateText(at)} you declined ${what} requested by ${who(ctx)}. Nothing was shared and no money moved.`;
}

export function revokedReceipt(consent: ConsentView, ctx: ReceiptContext, at: string, byPartner: boolean): string {
  if (consent.kind === 'domestic-payment') {
    return `On ${dateText(at)} ${byPartner ? `${ctx.partnerName} withdrew` : 'you cancelled'} ${paymentText(consent)}. It will not be paid.`;
  }
  const subject = byPartner ? `${ctx.partnerName} ended its access` : `you stopped the access of ${who(ctx)}`;
  return `On ${dateText(at)} ${subject} to ${accounts(ctx, consent.accountIds.length)}. ` +
    `${ctx.partnerName} can no longer see your account information. Information it received before then is not recalled by the bank: ` +
    `you may ask ${ctx.partnerName} to delete it.`;
}

export function expiredReceipt(consent: ConsentView, ctx: ReceiptContext, at: string): string {
  return `On ${dateText(at)} the access of ${who(ctx)} to ${accounts(ctx, consent.accountIds.length)} ended: it reached the end date you agreed to. ` +
    `If you want ${ctx.partnerName} to keep access, it has to ask you again.`;
}

/** What withdrawing would mean (CDR rule 4.13), or why it is not possible. */
export function consequences(consent: ConsentView, ctx: ReceiptContext): { revocable: boolean; lines: string[] } {
  if (consent.status !== 'authorised') {
    const why: Record<string, string> = {
      consumed: 'This payment has already been made: withdrawing the consent cannot undo it. Contact us if the payment was wrong.',
      revoked: 'This consent has already been withdrawn.',
      expired: 'This consent has already ended.',
      rejected: 'You declined this request: there is nothing to withdraw.',
      awaiting_authorisation: 'This request was never approved: there is nothing to withdraw.',
    };
    return { revocable: false, lines: [why[consent.status] ?? 'This consent cannot be withdrawn.'] };
  }
  if (consent.kind === 'domestic-payment') {
    return {
      revocable: true,
      lines: [
        `${ctx.partnerName} will not be able to make ${paymentText(consent)}.`,
        'Nothing else changes: this consent never let it see your account information.',
      ],
    };
  }
  return {
    revocable: true,
    lines: [
      `${who(ctx)} will immediately stop being able to see, for ${accounts(ctx, consent.accountIds.length)}: ${permissionLines(consent).join('; ')}.`,
      `Information ${ctx.partnerName} already received is not recalled by the bank: you may ask ${ctx.partnerName} to delete it.`,
      `A service of ${ctx.partnerName} that relies on this access may stop working until you give a new consent.`,
      'You cannot undo this: to share again, the partner must ask you for a new consent.',
    ],
  };
}
