/**
 * The demo customers' accounts: a current account and a savings account with about 90 days of plausible
 * history (salary, rent, a monthly transfer to savings, bills, card payments, a refund, interest, one pending
 * card payment). Pure and deterministic: the same seed and clock give the same accounts, numbers, ids and
 * transactions, so demo data and tests are reproducible. Every balance_after follows from the one before it,
 * and each account's balance is its last booked transaction's balance_after.
 */
import { createHash } from 'node:crypto';
import { makeIban } from './iban.js';
import type { AccountRecord, TransactionRecord } from './repository.js';

export interface DemoPlan {
  accounts: [AccountRecord, AccountRecord];
  transactions: TransactionRecord[];
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const EMPLOYERS = ['Northwind Consulting GmbH', 'Blue Harbour Logistics BV', 'Lindqvist Engineering AB', 'Meridian Software GmbH'];
const LANDLORDS = ['Hausverwaltung Albrecht', 'Stadtwohnen Immobilien GmbH', 'Kanaal Vastgoed BV'];
const UTILITIES = ['Stadtwerke Energie', 'GreenVolt Energie'];
const MOBILE = ['Telenet Mobile', 'Funkwelle Mobilfunk'];
const MERCHANTS = ['Corner Grocer', 'City Pharmacy', 'Metro Coffee', 'Book Nook', 'FreshMart', 'Rail Tickets Online', 'Fuel Stop 24', 'Bistro Verde'];

/** A seeded stream of numbers: SHA-256 of the seed and a counter (no Math.random anywhere). */
function stream(seed: string) {
  let counter = 0;
  const bytes = (label: string) => createHash('sha256').update(`${seed}\0${label}\0${counter++}`).digest();
  const api = {
    /** Integer in [min, max]. */
    int(min: number, max: number): number {
      return min + (bytes('int').readUInt32BE(0) % (max - min + 1));
    },
    pick<T>(list: readonly T[]): T {
      return list[api.int(0, list.length - 1)]!;
    },
    digits(n: number): string {
      let out = '';
      while (out.length < n) out += String(bytes('digits').readUInt32BE(0)).padStart(10, '0');
      return out.slice(0, n);
    },
    /** A stable id for a label (independent of the call order). */
    id(prefix: string, label: string): string {
      return `${prefix}-${createHash('sha256').update(`${seed}\0id\0${label}`).digest('hex').slice(0, 24)}`;
    },
  };
  return api;
}

interface Event {
  account: 'current' | 'savings';
  at: number;
  amountMinor: number;
  creditDebit: 'Credit' | 'Debit';
  status: 'Booked' | 'Pending';
  reference: string;
  counterpartyName: string;
  counterpartyIban: string | null;
}

/** The plan for one customer. `seed` decides everything random; `now` anchors the 90 days. */
export function demoAccounts(customerId: string, holderName: string, opts: { seed: string; now: Date }): DemoPlan {
  const r = stream(opts.seed);
  const now = opts.now.getTime();
  const today = now - (now % DAY);
  // Booked on a past day between 08:00 and 19:59 UTC: never in the future, always within the last 90 days.
  const dayAt = (daysAgo: number) => today - daysAgo * DAY + r.int(8 * 60, 19 * 60 + 59) * 60_000 + r.int(0, 59) * 1000;
  const monthOf = (t: number) => `${MONTHS[new Date(t).getUTCMonth()]} ${new Date(t).getUTCFullYear()}`;
  const germanIban = () => makeIban('DE', `${r.int(10, 89)}0${r.digits(5)}${r.digits(10)}`);

  const currentIban = makeIban('NL', `DEMO${r.digits(10)}`);
  let savingsIban = makeIban('NL', `DEMO${r.digits(10)}`);
  if (savingsIban === currentIban) savingsIban = makeIban('NL', `DEMO${r.digits(10)}`);

  const employer = { name: r.pick(EMPLOYERS), iban: germanIban() };
  const landlord = { name: r.pick(LANDLORDS), iban: germanIban() };
  const utility = { name: r.pick(UTILITIES), iban: germanIban(), customerNo: r.digits(8) };
  const mobile = { name: r.pick(MOBILE), iban: germanIban(), line: `0151${r.digits(7)}` };
  const cardDigits = r.digits(4);
  const salary = r.int(2800, 3600) * 100;
  const rent = r.int(950, 1250) * 100;
  const saving = r.int(4, 8) * 5000;

  const events: Event[] = [];
  const add = (
    account: Event['account'],
    at: number,
    amountMinor: number,
    creditDebit: Event['creditDebit'],
    reference: string,
    counterparty: { name: string; iban: string | null },
    status: Event['status'] = 'Booked',
  ) => {
    events.push({ account, at, amountMinor, creditDebit, status, reference, counterpartyName: counterparty.name, counterpartyIban: counterparty.iban });
  };

  const toSavings = { name: holderName, iban: savingsIban };
  const fromCurrent = { name: holderName, iban: currentIban };
  // Monthly postings on their usual days of the calendar month, for the months the 90 days touch.
  const oldest = now - 90 * DAY + HOUR;
  const onDay = (monthsBack: number, day: number): number | null => {
    const base = new Date(today);
    const at = Date.UTC(base.getUTCFullYear(), base.getUTCMonth() - monthsBack, day) + r.int(8 * 60, 19 * 60 + 59) * 60_000 + r.int(0, 59) * 1000;
    return at < today && at > oldest ? at : null;
  };
  for (let m = 0; m <= 3; m += 1) {
    const paid = onDay(m, r.int(25, 28));
    if (paid !== null) {
      add('current', paid, salary, 'Credit', `SALARY ${monthOf(paid)}`, employer);
      // The standing order to savings runs the next morning; it may fall on today (then it is not booked yet).
      const moved = paid - (paid % DAY) + DAY + 7 * HOUR + r.int(0, 59) * 60_000;
      if (moved < today) {
        add('current', moved, saving, 'Debit', 'Monthly savings', toSavings);
        add('savings', moved, saving, 'Credit', 'Monthly savings', fromCurrent);
      }
    }
    const rentAt = onDay(m, r.int(1, 3));
    if (rentAt !== null) add('current', rentAt, rent, 'Debit', `RENT ${monthOf(rentAt)}`, landlord);
    const powerAt = onDay(m, r.int(14, 17));
    if (powerAt !== null) add('current', powerAt, r.int(6000, 11000), 'Debit', `CUSTOMER NO ${utility.customerNo}`, utility);
    const mobileAt = onDay(m, r.int(19, 21));
    if (mobileAt !== null) add('current', mobileAt, r.int(2500, 4500), 'Debit', `MOBILE ${mobile.line}`, mobile);
  }
  const card = (merchant: string) => `CARD *${cardDigits} ${merchant.toUpperCase()}`;
  for (let i = 0; i < 7; i += 1) {
    const merchant = r.pick(MERCHANTS);
    add('current', dayAt(r.int(1, 88)), r.int(800, 12000), 'Debit', card(merchant), { name: merchant, iban: null });
  }
  const shop = { name: 'Online Store Europe BV', iban: makeIban('NL', `ABNA${r.digits(10)}`) };
  add('current', dayAt(r.int(5, 80)), r.int(1500, 6000), 'Credit', `REFUND ORDER ${r.digits(8)}`, shop);
  const pendingMerchant = r.pick(MERCHANTS);
  add('current', now - r.int(1, 18) * HOUR, r.int(1000, 7000), 'Debit', card(pendingMerchant), { name: pendingMerchant, iban: null }, 'Pending');
  add('savings', dayAt(r.int(30, 35)), r.int(500, 2500), 'Credit', 'INTEREST', { name: 'Demo Bank interest', iban: null });

  const accounts: [AccountRecord, AccountRecord] = [
    {
      id: r.id('acc', 'current'),
      customerId,
      currency: 'EUR',
      subType: 'CurrentAccount',
      nickname: 'Everyday account',
      iban: currentIban,
      holderName,
      openedAt: new Date(today - r.int(900, 3000) * DAY).toISOString(),
      balanceMinor: 0,
    },
    {
      id: r.id('acc', 'savings'),
      customerId,
      currency: 'EUR',
      subType: 'Savings',
      nickname: 'Rainy day savings',
      iban: savingsIban,
      holderName,
      openedAt: new Date(today - r.int(120, 800) * DAY).toISOString(),
      balanceMinor: 0,
    },
  ];

  const transactions: TransactionRecord[] = [];
  for (const [index, which] of (['current', 'savings'] as const).entries()) {
    const account = accounts[index]!;
    const own = events.filter((e) => e.account === which).sort((a, b) => a.at - b.at);
    // Two postings in the same second would list in id order rather than time order: keep times distinct.
    for (let i = 1; i < own.length; i += 1) if (own[i]!.at <= own[i - 1]!.at) own[i]!.at = own[i - 1]!.at + 1000;
    const signed = (e: Event) => (e.status === 'Pending' ? 0 : e.creditDebit === 'Credit' ? e.amountMinor : -e.amountMinor);
    // The balance carried into the window, high enough that the account never goes below 100.00 available.
    let opening = which === 'current' ? r.int(1200, 2500) * 100 + r.int(0, 99) : r.int(4000, 12000) * 100;
    let running = opening;
    let held = 0;
    let lowest = opening;
    for (const e of own) {
      running += signed(e);
      if (e.status === 'Pending' && e.creditDebit === 'Debit') held += e.amountMinor;
      lowest = Math.min(lowest, running - held);
    }
    if (lowest < 10_000) opening += 10_000 - lowest;
    running = opening;
    own.forEach((e, i) => {
      running += signed(e);
      transactions.push({
        id: r.id('txn', `${which}:${i}`),
        accountId: account.id,
        bookedAt: new Date(e.at).toISOString(),
        amountMinor: e.amountMinor,
        creditDebit: e.creditDebit,
        status: e.status,
        reference: e.reference,
        counterpartyName: e.counterpartyName,
        counterpartyIban: e.counterpartyIban,
        balanceAfterMinor: running,
      });
    });
    account.balanceMinor = running;
  }
  return { accounts, transactions };
}
