/**
 * Response shaping per consent permission (UK OB v3.1): every combination shows exactly the fields and the
 * transactions its permissions allow, and nothing a permission does not cover appears anywhere in the body.
 */
import assert from 'node:assert/strict';
import {
  canReadAccounts,
  initiationOf,
  shapeAccounts,
  shapeBalances,
  shapePayment,
  shapeTransactions,
  transactionScope,
} from '../../src/banking/shape.js';
import type { BalanceView, BankAccountView, PaymentView, TransactionView } from '../../src/banking/types.js';
import { ACCOUNT_PERMISSIONS, type AccountPermission } from '../../src/consent/types.js';
import { instruction } from './helpers.js';

const account: BankAccountView = {
  id: 'acc-1',
  customerId: 'cust-secret-id',
  currency: 'EUR',
  subType: 'CurrentAccount',
  nickname: 'Everyday account',
  iban: 'NL91ABNA0417164300',
  holderName: 'Casey Customer',
  openedAt: '2020-01-01T00:00:00.000Z',
};

const tx = (over: Partial<TransactionView>): TransactionView => ({
  id: 'txn-x',
  accountId: 'acc-1',
  bookedAt: '2026-11-20T10:00:00.000Z',
  amount: '10.00',
  currency: 'EUR',
  creditDebitIndicator: 'Debit',
  status: 'Booked',
  reference: 'REF-SECRET',
  counterpartyName: 'Counterparty Name',
  counterpartyIban: 'DE89370400440532013000',
  balanceAfter: '100.00',
  ...over,
});

const transactions: TransactionView[] = [
  tx({ id: 'txn-salary', creditDebitIndicator: 'Credit', amount: '3000.00', reference: 'SALARY NOV', counterpartyName: 'Northwind', balanceAfter: '3100.00' }),
  tx({ id: 'txn-rent', creditDebitIndicator: 'Debit', amount: '950.00', reference: 'RENT NOV', counterpartyName: 'Landlord', balanceAfter: '2150.00' }),
  tx({ id: 'txn-card', creditDebitIndicator: 'Debit', amount: '12.30', reference: 'CARD *1234 CAFE', counterpartyName: 'Cafe', counterpartyIban: null, balanceAfter: '-3.20' }),
];

/** Every subset of the given permissions. */
function subsets(list: readonly AccountPermission[]): AccountPermission[][] {
  return list.reduce<AccountPermission[][]>((acc, p) => [...acc, ...acc.map((s) => [...s, p])], [[]]);
}

const SELF = '/api/v1/x';

describe('banking response shaping per permission', () => {
  describe('accounts', () => {
    it('ReadAccountsBasic: AccountId, Currency, AccountType, AccountSubType, Nickname and nothing else', () => {
      const body = shapeAccounts([account], ['ReadAccountsBasic'], '/api/v1/accounts');
      assert.deepEqual(body, {
        Data: { Account: [{ AccountId: 'acc-1', Currency: 'EUR', AccountType: 'Personal', AccountSubType: 'CurrentAccount', Nickname: 'Everyday account' }] },
        Links: { Self: '/api/v1/accounts' },
        Meta: { TotalPages: 1 },
      });
      const text = JSON.stringify(body);
      for (const secret of [account.iban, account.holderName, account.customerId, account.openedAt]) assert.ok(!text.includes(secret), secret);
    });

    for (const permissions of [['ReadAccountsDetail'], ['ReadAccountsBasic', 'ReadAccountsDetail']] as AccountPermission[][]) {
      it(`${permissions.join(' + ')}: adds Account[{ SchemeName UK.OBIE.IBAN, Identification, Name }]`, () => {
        const body = shapeAccounts([account], permissions, SELF);
        assert.deepEqual(body.Data.Account, [
          {
            AccountId: 'acc-1',
            Currency: 'EUR',
            AccountType: 'Personal',
            AccountSubType: 'CurrentAccount',
            Nickname: 'Everyday account',
            Account: [{ SchemeName: 'UK.OBIE.IBAN', Identification: 'NL91ABNA0417164300', Name: 'Casey Customer' }],
          },
        ]);
        assert.ok(!JSON.stringify(body).includes(account.customerId));
      });
    }

    it('no account permission (e.g. only balances and transactions): no account at all', () => {
      const perms: AccountPermission[] = ['ReadBalances', 'ReadTransactionsDetail', 'ReadTransactionsCredits', 'ReadTransactionsDebits'];
      assert.equal(canReadAccounts(perms), false);
      assert.deepEqual(shapeAccounts([account], perms, SELF).Data.Account, []);
    });
  });

  describe('balances', () => {
    const balances: BalanceView[] = [
      { accountId: 'acc-1', type: 'InterimAvailable', amount: '80.00', currency: 'EUR', creditDebitIndicator: 'Credit', at: '2026-12-04T12:00:00.000Z' },
      { accountId: 'acc-1', type: 'InterimBooked', amount: '100.00', currency: 'EUR', creditDebitIndicator: 'Credit', at: '2026-12-04T12:00:00.000Z' },
    ];

    it('ReadBalances: both balances in the UK OB shape', () => {
      assert.deepEqual(shapeBalances(balances, ['ReadBalances'], SELF), {
        Data: {
          Balance: [
            { AccountId: 'acc-1', Amount: { Amount: '80.00', Currency: 'EUR' }, CreditDebitIndicator: 'Credit', Type: 'InterimAvailable', DateTime: '2026-12-04T12:00:00.000Z' },
            { AccountId: 'acc-1', Amount: { Amount: '100.00', Currency: 'EUR' }, CreditDebitIndicator: 'Credit', Type: 'InterimBooked', DateTime: '2026-12-04T12:00:00.000Z' },
          ],
        },
        Links: { Self: SELF },
        Meta: { TotalPages: 1 },
      });
    });

    it('every permission but ReadBalances: no balance', () => {
      assert.deepEqual(shapeBalances(balances, ACCOUNT_PERMISSIONS.filter((p) => p !== 'ReadBalances'), SELF).Data.Balance, []);
    });
  });

  describe('transactions: every combination of Basic, Detail, Credits and Debits', () => {
    const BASE = ['AccountId', 'TransactionId', 'CreditDebitIndicator', 'Status', 'BookingDateTime', 'Amount'];
    const DETAIL = ['TransactionReference', 'TransactionInformation', 'Balance'];
    for (const perms of subsets(['ReadTransactionsBasic', 'ReadTransactionsDetail', 'ReadTransactionsCredits', 'ReadTransactionsDebits'])) {
      const read = perms.includes('ReadTransactionsBasic') || perms.includes('ReadTransactionsDetail');
      const detail = perms.includes('ReadTransactionsDetail');
      const credits = read && perms.includes('ReadTransactionsCredits');
      const debits = read && perms.includes('ReadTransactionsDebits');
      const expectedIds = transactions.filter((t) => (t.creditDebitIndicator === 'Credit' ? credits : debits)).map((t) => t.id);
      it(`[${perms.join(', ') || 'none'}] → ${expectedIds.join(', ') || 'none'}${detail && expectedIds.length ? ' with detail' : ''}`, () => {
        // Other permissions do not change what the transactions show.
        const body = shapeTransactions(transactions, [...perms, 'ReadAccountsDetail', 'ReadBalances'], SELF);
        const shown = body.Data.Transaction as Record<string, unknown>[];
        assert.deepEqual(shown.map((t) => t.TransactionId), expectedIds);
        for (const t of shown) {
          const source = transactions.find((x) => x.id === t.TransactionId)!;
          const party = source.counterpartyIban === null ? [] : [source.creditDebitIndicator === 'Debit' ? 'CreditorAccount' : 'DebtorAccount'];
          assert.deepEqual(Object.keys(t).sort(), (detail ? [...BASE, ...DETAIL, ...party] : BASE).sort());
        }
        const text = JSON.stringify(body);
        if (!detail) {
          for (const t of transactions) {
            for (const secret of [t.reference, t.counterpartyName, t.counterpartyIban, t.balanceAfter]) {
              if (secret !== null) assert.ok(!text.includes(`"${secret}"`), `${secret} leaked`);
            }
          }
        }
        assert.equal(transactionScope(perms), !read ? null : credits && debits ? 'all' : credits ? 'Credit' : debits ? 'Debit' : null);
      });
    }

    it('detail values: reference, counterparty account by direction, running balance with its sign as the indicator', () => {
      const body = shapeTransactions(transactions, ['ReadTransactionsDetail', 'ReadTransactionsCredits', 'ReadTransactionsDebits'], SELF);
      const [salary, rent, card] = body.Data.Transaction as Record<string, unknown>[];
      assert.deepEqual(salary, {
        AccountId: 'acc-1',
        TransactionId: 'txn-salary',
        CreditDebitIndicator: 'Credit',
        Status: 'Booked',
        BookingDateTime: '2026-11-20T10:00:00.000Z',
        Amount: { Amount: '3000.00', Currency: 'EUR' },
        TransactionReference: 'SALARY NOV',
        TransactionInformation: 'Northwind',
        Balance: { Amount: { Amount: '3100.00', Currency: 'EUR' }, CreditDebitIndicator: 'Credit', Type: 'InterimBooked' },
        DebtorAccount: { SchemeName: 'UK.OBIE.IBAN', Identification: 'DE89370400440532013000', Name: 'Northwind' },
      });
      assert.deepEqual(rent!.CreditorAccount, { SchemeName: 'UK.OBIE.IBAN', Identification: 'DE89370400440532013000', Name: 'Landlord' });
      assert.deepEqual(card!.Balance, { Amount: { Amount: '3.20', Currency: 'EUR' }, CreditDebitIndicator: 'Debit', Type: 'InterimBooked' });
      assert.equal(card!.CreditorAccount, undefined);
    });
  });

  describe('payments', () => {
    it('initiationOf: the consent’s instruction as the UK OB Initiation a submission must repeat', () => {
      assert.deepEqual(initiationOf(instruction()), {
        InstructionIdentification: 'instr-001',
        EndToEndIdentification: 'e2e-001',
        InstructedAmount: { Amount: '12.50', Currency: 'EUR' },
        CreditorAccount: { SchemeName: 'UK.OBIE.IBAN', Identification: 'DE89370400440532013000', Name: 'Corner Shop Ltd' },
        RemittanceInformation: { Reference: 'Invoice 42' },
      });
      assert.equal('RemittanceInformation' in initiationOf(instruction({ reference: '' })), false);
    });

    it('shapePayment: OBWriteDomesticResponse with the same Initiation, no debtor details', () => {
      const p: PaymentView = {
        id: 'pmt-1',
        consentId: 'consent-1',
        instructionIdentification: 'instr-001',
        endToEndIdentification: 'e2e-001',
        debtorAccountId: 'acc-secret',
        amount: '12.50',
        currency: 'EUR',
        creditorName: 'Corner Shop Ltd',
        creditorIban: 'DE89370400440532013000',
        reference: 'Invoice 42',
        status: 'AcceptedSettlementCompleted',
        createdAt: '2026-12-04T12:00:00.000Z',
      };
      const body = shapePayment(p);
      assert.deepEqual(body, {
        Data: {
          DomesticPaymentId: 'pmt-1',
          ConsentId: 'consent-1',
          Status: 'AcceptedSettlementCompleted',
          CreationDateTime: '2026-12-04T12:00:00.000Z',
          StatusUpdateDateTime: '2026-12-04T12:00:00.000Z',
          Initiation: initiationOf(instruction()),
        },
        Links: { Self: '/api/v1/domestic-payments/pmt-1' },
        Meta: {},
      });
      assert.ok(!JSON.stringify(body).includes('acc-secret'));
    });
  });
});
