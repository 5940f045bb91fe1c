/** The EBA register reader: the parity rule, tolerance of the shape's variants, and hostile files. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { authorisationOf, ncaIdFromOwner, ownerFromNcaId, parseEbaRegister } from '../../src/register/eba.js';
import { RegisterImportError } from '../../src/register/errors.js';
import { DEV_REGISTER_FILE } from '../../src/register/service.js';
import { doc, entity, pi } from './helpers.js';

function refused(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RegisterImportError, String(err));
    assert.equal(err.code, code);
    return true;
  });
}

describe('register: EBA reader', () => {
  describe('ENT_AUT parity rule', () => {
    const table: [string, string[], 'Active' | 'Inactive' | null, string, string | null, string | null][] = [
      ['PSD_PI', ['2018-07-02'], null, 'authorised', '2018-07-02', null],
      ['PSD_PI', ['2018-07-02', '2021-03-31'], null, 'withdrawn', null, '2021-03-31'],
      ['PSD_EMI', ['2018-07-02', '2021-03-31', '2022-01-10'], null, 'authorised', '2022-01-10', null],
      ['PSD_AISP', ['2018-07-02', '2021-03-31', '2022-01-10', '2024-05-06'], null, 'withdrawn', null, '2024-05-06'],
      ['PSD_EPI', [], null, 'unknown', null, null],
      ['PSD_EXC', ['2019-01-01'], null, 'not_applicable', null, null],
      ['PSD_ENL', ['2019-01-01', '2020-01-01'], null, 'not_applicable', null, null],
      ['PSD_AG', [], 'Active', 'authorised', null, null],
      ['PSD_AG', [], 'Inactive', 'withdrawn', null, null],
      ['PSD_BR', [], null, 'unknown', null, null],
      ['PSD_XYZ', ['2019-01-01'], null, 'unknown', null, null],
    ];
    for (const [type, dates, parent, status, since, withdrawnOn] of table) {
      it(`${type} with ${dates.length} date(s)${parent ? `, parent ${parent}` : ''} → ${status}`, () => {
        assert.deepEqual(authorisationOf(type, dates, parent), { status, since, withdrawnOn, dates });
      });
    }

    it('applies the rule to parsed entities (sorted dates, agents from DER_CHI_ENT_AUT or their parent)', () => {
      const parsed = parseEbaRegister(
        doc([
          pi('900001', ['2021-03-31', '2018-07-02', '2022-01-10']),
          pi('900002', ['2018-07-02', '2021-03-31']),
          entity('PSD_PI!DE_BAFIN!900002!900021', 'PSD_AG', { ENT_NAT_REF_COD: '900021', ENT_COD_PAR_ENT: 'DE_BAFIN!900002' }),
          entity('PSD_PI!DE_BAFIN!900001!900011', 'PSD_AG', {
            ENT_NAT_REF_COD: '900011',
            ENT_COD_PAR_ENT: 'DE_BAFIN!900001',
            DER_CHI_ENT_AUT: 'Active',
          }),
        ]),
      );
      const by = new Map(parsed.entities.map((e) => [e.entityCode, e]));
      assert.deepEqual(by.get('DE_BAFIN!900001')!.autDates, ['2018-07-02', '2021-03-31', '2022-01-10']);
      assert.equal(by.get('DE_BAFIN!900001')!.status, 'authorised');
      assert.equal(by.get('DE_BAFIN!900002')!.status, 'withdrawn');
      assert.equal(by.get('PSD_PI!DE_BAFIN!900002!900021')!.parentStatus, 'Inactive');
      assert.equal(by.get('PSD_PI!DE_BAFIN!900002!900021')!.status, 'withdrawn');
      assert.equal(by.get('PSD_PI!DE_BAFIN!900001!900011')!.status, 'authorised');
    });
  });

  it('maps CA_OwnerID to the NCA id of PSD2 certificates and back', () => {
    assert.equal(ncaIdFromOwner('DE_BAFIN'), 'DE-BAFIN');
    assert.equal(ownerFromNcaId('DE-BAFIN'), 'DE_BAFIN');
    assert.equal(ownerFromNcaId(' se-fina '), 'SE_FINA');
    assert.equal(ownerFromNcaId('DE_BAFIN'), 'DE_BAFIN');
    assert.equal(ownerFromNcaId('DE'), null);
    assert.equal(ownerFromNcaId('PSDDE-BAFIN-152645'), null);
  });

  describe('shape tolerance', () => {
    it('reads the dev register: 12 entities, none skipped, SHA-256 of the bytes', () => {
      const bytes = readFileSync(DEV_REGISTER_FILE);
      const parsed = parseEbaRegister(bytes);
      assert.equal(parsed.entities.length, 12);
      assert.equal(parsed.skippedCount, 0);
      assert.equal(parsed.sha256, createHash('sha256').update(bytes).digest('hex'));
      const acme = parsed.entities.find((e) => e.entityCode === 'DE_BAFIN!152645')!;
      assert.deepEqual(acme.services, { DE: ['PS_03C', 'PS_070', 'PS_080'], AT: ['PS_070', 'PS_080'], FR: ['PS_070', 'PS_080'] });
      assert.deepEqual(acme.names, ['Acme Payments GmbH', 'Acme Pay']);
    });

    it('accepts a string or a list for any property, and bare-string service codes', () => {
      const parsed = parseEbaRegister(
        doc([
          entity('BG_BNB!900808', 'PSD_PI', {
            ENT_NAT_REF_COD: '900808',
            ENT_NAM: ['Примерни Плащания ЕАД', 'Primerni Plashtania EAD'],
            ENT_ADD: ['line 1', 'line 2'],
            ENT_AUT: '2020-03-03',
            ENT_COU_RES: 'bg',
          }, [{ BG: 'PS_070' }, { BG: ['PS_080'], RO: 'PS_070' }]),
        ]),
      );
      const e = parsed.entities[0]!;
      assert.deepEqual(e.names, ['Примерни Плащания ЕАД', 'Primerni Plashtania EAD']);
      assert.deepEqual(e.autDates, ['2020-03-03']);
      assert.equal(e.status, 'authorised');
      assert.equal(e.country, 'BG');
      assert.deepEqual(e.services, { BG: ['PS_070', 'PS_080'], RO: ['PS_070'] });
      assert.deepEqual(e.properties.ENT_ADD, ['line 1', 'line 2']);
    });

    it('finds the entity array wherever it is (a third block, or entities first)', () => {
      const third = JSON.stringify([[{ Disclaimer: 'x' }], [{ Note: 'metadata' }], [pi('900001', ['2019-01-01'])], [{ Footer: 1 }]]);
      assert.equal(parseEbaRegister(third).entities.length, 1);
      const reversed = JSON.stringify([[pi('900001', ['2019-01-01'])], [{ Disclaimer: 'x' }]]);
      assert.equal(parseEbaRegister(reversed).entities.length, 1);
      const flat = JSON.stringify([pi('900001', ['2019-01-01']), pi('900002', ['2019-01-01'])]);
      assert.equal(parseEbaRegister(flat).entities.length, 2);
    });

    it('takes the national reference from the EntityCode when ENT_NAT_REF_COD is absent, and strips a BOM', () => {
      const text = `\uFEFF${doc([entity('IE_CBI!C900001', 'PSD_PI', { ENT_NAM: 'X Ltd', ENT_AUT: ['2019-01-01'] })])}`;
      const e = parseEbaRegister(text).entities[0]!;
      assert.equal(e.nationalRef, 'C900001');
      assert.equal(e.caOwnerId, 'IE_CBI');
    });
  });

  describe('hostile and broken input', () => {
    it('refuses text that is not JSON', () => {
      refused(() => parseEbaRegister('this is not json'), 'register.not_json');
      refused(() => parseEbaRegister(Buffer.from([0xff, 0xfe, 0x00, 0x01])), 'register.not_json');
      refused(() => parseEbaRegister(''), 'register.not_json');
    });

    it('refuses a top level that is not the register shape', () => {
      refused(() => parseEbaRegister('{"EntityCode": "DE_BAFIN!1"}'), 'register.bad_shape');
      refused(() => parseEbaRegister('"text"'), 'register.bad_shape');
      refused(() => parseEbaRegister('null'), 'register.bad_shape');
      refused(() => parseEbaRegister('[[{"Disclaimer": "x"}], [{"Name": "no entity keys"}]]'), 'register.bad_shape');
      refused(() => parseEbaRegister('[[], []]'), 'register.bad_shape');
    });

    it('refuses 5 MB of garbage', () => {
      const garbage = Buffer.alloc(5 * 1024 * 1024);
      for (let i = 0; i < garbage.length; i += 1) garbage[i] = (i * 7919 + 13) % 251;
      refused(() => parseEbaRegister(garbage), 'register.not_json');
      refused(() => parseEbaRegister(`[${'[1,'.repeat(1000)}`), 'register.not_json');
    });

    it('refuses a file over the size cap before parsing, and too many entities', () => {
      refused(() => parseEbaRegister('x'.repeat(2000), { maxBytes: 1000 }), 'register.file_too_large');
      const many = doc(Array.from({ length: 11 }, (_, i) => pi(`9000${i}`, ['2019-01-01'])));
      refused(() => parseEbaRegister(many, { maxEntities: 10 }), 'register.too_many_entities');
    });

    it('refuses a file whose entities are all malformed (it would empty the register)', () => {
      refused(() => parseEbaRegister(doc([{ EntityCode: 'DE_BAFIN!1' }, { CA_OwnerID: 'DE_BAFIN' }])), 'register.no_valid_entities');
    });

    it('skips malformed entities with a reason and keeps the rest', () => {
      const parsed = parseEbaRegister(
        doc([
          pi('900001', ['2019-01-01']),
          { CA_OwnerID: 'DE_BAFIN', EntityType: 'PSD_PI', Properties: [] },
          { CA_OwnerID: 'DE_BAFIN', EntityCode: 42, EntityType: 'PSD_PI' },
          pi('900001', ['2019-01-01']),
          pi('900003', ['not a date']),
          pi('900004', ['2019-01-01'], {}, [{ Germany: ['PS_070'] }]),
          pi('900005', ['2019-13-45']),
          { ...pi('900006', ['2019-01-01']), Properties: [{ ENT_NAM: { nested: true } }] },
          { ...pi('900007', ['2019-01-01']), Properties: 'not a list' },
          { ...pi('900008', ['2019-01-01']), CA_OwnerID: 'bafin' },
          entity('PSD_PI!DE_BAFIN!1!900009', 'PSD_AG', { ENT_NAT_REF_COD: '900009', DER_CHI_ENT_AUT: 'Maybe' }),
          7,
          null,
          ['nested'],
        ]),
      );
      assert.deepEqual(
        parsed.entities.map((e) => e.entityCode),
        ['DE_BAFIN!900001'],
      );
      assert.equal(parsed.skippedCount, 13);
      assert.equal(parsed.skippedByReason['EntityCode missing'], 1);
      assert.equal(parsed.skippedByReason['duplicate EntityCode'], 1);
      assert.equal(parsed.skippedByReason['ENT_AUT holds a value that is not a date'], 2);
      assert.equal(parsed.skippedByReason['entity is not an object'], 3);
      assert.equal(parsed.skippedByReason['Services holds a key that is not a country code'], 1);
      assert.equal(parsed.skippedByReason['DER_CHI_ENT_AUT is neither Active nor Inactive'], 1);
      assert.match(Object.keys(parsed.skippedByReason).join('\n'), /^EntityCode: /m);
      assert.match(Object.keys(parsed.skippedByReason).join('\n'), /^CA_OwnerID: /m);
      assert.deepEqual(parsed.skippedExamples[0], { index: 1, entityCode: null, reason: 'EntityCode missing' });
    });

    it('never lets __proto__ keys reach an object prototype', () => {
      const text =
        '[[{"Disclaimer":"x"}],[' +
        '{"__proto__":{"polluted":"entity"},"CA_OwnerID":"DE_BAFIN","EntityCode":"DE_BAFIN!900001","EntityType":"PSD_PI",' +
        '"Properties":[{"ENT_NAT_REF_COD":"900001"},{"ENT_AUT":["2019-01-01"]}],"Services":[{"DE":["PS_070"]}]},' +
        '{"CA_OwnerID":"DE_BAFIN","EntityCode":"DE_BAFIN!900002","EntityType":"PSD_PI",' +
        '"Properties":[{"__proto__":{"polluted":"property"}},{"ENT_AUT":["2019-01-01"]}]},' +
        '{"CA_OwnerID":"DE_BAFIN","EntityCode":"DE_BAFIN!900003","EntityType":"PSD_PI",' +
        '"Properties":[{"ENT_AUT":["2019-01-01"]}],"Services":[{"__proto__":["PS_070"]}]}' +
        ']]';
      const parsed = parseEbaRegister(text);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
      assert.deepEqual(parsed.entities.map((e) => e.entityCode), ['DE_BAFIN!900001']);
      assert.equal(parsed.skippedByReason['Properties holds a key that is not a register property code'], 1);
      assert.equal(parsed.skippedByReason['Services holds a key that is not a country code'], 1);
      const e = parsed.entities[0]!;
      assert.equal(Object.getPrototypeOf(e), Object.prototype);
      assert.deepEqual(Object.keys(e.properties), ['ENT_NAT_REF_COD', 'ENT_AUT']);
    });

    it('bounds the size of values inside an entity', () => {
      const parsed = parseEbaRegister(
        doc([
          pi('900001', ['2019-01-01']),
          pi('900002', ['2019-01-01'], { ENT_ADD: 'x'.repeat(5000) }),
          pi('900003', ['2019-01-01'], { ENT_ADD: Array.from({ length: 600 }, () => 'x') }),
        ]),
      );
      assert.equal(parsed.entities.length, 1);
      assert.equal(parsed.skippedCount, 2);
    });
  });
});
