/**
 * Money and IBANs: exact decimal parsing in minor units (no float rounding), formatting, and ISO 13616 check
 * digits on published example IBANs and on every one the demo generator makes.
 */
import assert from 'node:assert/strict';
import { demoAccounts } from '../../src/banking/demo.js';
import { isValidIban, makeIban } from '../../src/banking/iban.js';
import { formatMinor, formatSignedMinor, parseAmountMinor } from '../../src/banking/money.js';
import { AppError } from '../../src/errors.js';
import { NOW } from './helpers.js';

describe('banking money and IBANs', () => {
  describe('parseAmountMinor', () => {
    for (const [input, minor] of [
      ['12.50', 1250],
      ['12.5', 1250],
      ['0.10', 10],
      ['0.01', 1],
      ['7', 700],
      ['007.00', 700],
      ['1234567890123.99', 123456789012399],
    ] as const) {
      it(`"${input}" → ${minor}`, () => assert.equal(parseAmountMinor(input), minor));
    }

    it('0.1 + 0.2 is exactly 30 cents (no floats on the way)', () => {
      assert.equal(parseAmountMinor('0.1') + parseAmountMinor('0.2'), 30);
      assert.equal(formatMinor(parseAmountMinor('0.1') + parseAmountMinor('0.2')), '0.30');
    });

    for (const bad of ['', '0', '0.00', '-1.00', '+1.00', '1.001', '1.', '.5', '1,50', '1e3', ' 1.00', '1.00 ', '12345678901234', 'NaN', 'Infinity', '０.５']) {
      it(`refuses ${JSON.stringify(bad)} with banking.amount_invalid`, () => {
        assert.throws(
          () => parseAmountMinor(bad),
          (e: unknown) => e instanceof AppError && e.code === 'banking.amount_invalid' && e.status === 400,
        );
      });
    }
  });

  it('formatMinor / formatSignedMinor', () => {
    assert.equal(formatMinor(0), '0.00');
    assert.equal(formatMinor(5), '0.05');
    assert.equal(formatMinor(123456), '1234.56');
    assert.equal(formatMinor(-320), '3.20');
    assert.equal(formatSignedMinor(-320), '-3.20');
    assert.equal(formatSignedMinor(320), '3.20');
    assert.throws(() => formatMinor(1.5), TypeError);
  });

  describe('IBAN', () => {
    it('accepts published examples (DE, NL, GB-style shapes, BE)', () => {
      for (const iban of ['DE89370400440532013000', 'NL91ABNA0417164300', 'BE68539007547034', 'GB82WEST12345698765432']) {
        assert.equal(isValidIban(iban), true, iban);
      }
    });

    it('refuses a changed digit, swapped digits, a wrong length, lower case and spaces', () => {
      for (const iban of ['DE89370400440532013001', 'DE98370400440532013000', 'DE8937040044053201300', 'de89370400440532013000', 'DE89 3704 0044 0532 0130 00', '']) {
        assert.equal(isValidIban(iban), false, iban);
      }
    });

    it('makeIban computes the check digits of known IBANs', () => {
      assert.equal(makeIban('DE', '370400440532013000'), 'DE89370400440532013000');
      assert.equal(makeIban('NL', 'ABNA0417164300'), 'NL91ABNA0417164300');
    });

    it('every IBAN of the demo accounts and their counterparties is valid', () => {
      for (const seed of ['a', 'b', 'casey@example.test', 'x'.repeat(200)]) {
        const plan = demoAccounts('customer-1', 'Casey Customer', { seed, now: NOW });
        const ibans = [...plan.accounts.map((a) => a.iban), ...plan.transactions.map((t) => t.counterpartyIban).filter((i) => i !== null)];
        assert.ok(ibans.length > 20);
        for (const iban of ibans) assert.equal(isValidIban(iban!), true, `${seed}: ${iban}`);
      }
    });
  });
});
