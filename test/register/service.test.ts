/** The register service on real SQLite: import (atomic, audited), lookup, and every named check. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createAuditService, type Actor, type AuditService } from '../../src/audit/service.js';
import { nameKey, namesMatch, REGISTER_CHECKS, REGISTER_FINDING_CODES } from '../../src/register/checks.js';
import { RegisterImportError } from '../../src/register/errors.js';
import {
  createRegisterService,
  DEV_REGISTER_FILE,
  type RegisterCheckInput,
  type RegisterService,
} from '../../src/register/service.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { createTransactor } from '../../src/store/transaction.js';
import { doc, pi } from './helpers.js';

const ACTOR: Actor = { type: 'staff', id: 'staff-1', label: 'admin@bank.test' };
const NOW = new Date('2026-11-20T10:00:00.000Z');
const DEV = readFileSync(DEV_REGISTER_FILE);

describe('register: service', () => {
  let db: Db;
  let audit: AuditService;
  let register: RegisterService;
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  const dbState = () => ({
    snapshots: count('SELECT count(*) AS n FROM register_snapshots'),
    entities: count('SELECT count(*) AS n FROM register_entities'),
    audit: count('SELECT count(*) AS n FROM audit_events'),
    codes: (db.prepare('SELECT entity_code FROM register_entities ORDER BY entity_code').all() as { entity_code: string }[]).map(
      (r) => r.entity_code,
    ),
  });

  beforeEach(() => {
    db = openDatabase(':memory:');
    const tx = createTransactor(db);
    audit = createAuditService({ db, tx, now: () => NOW });
    register = createRegisterService({ db, tx, audit, now: () => NOW });
  });
  afterEach(() => db.close());

  describe('before any import', () => {
    it('reports no snapshot', async () => {
      assert.deepEqual(await register.status(), { snapshot: null, entities: 0 });
    });

    it('check() says unavailable with a warning that does not block, and writes nothing', async () => {
      const before = dbState();
      const r = await register.check({ ncaId: 'DE-BAFIN', authorisationNumber: '152645', legalName: 'Acme Payments GmbH', country: 'DE', roles: ['AIS'] });
      assert.equal(r.status, 'unavailable');
      assert.equal(r.entry, null);
      assert.equal(r.snapshot, null);
      assert.equal(r.checkedAt, NOW.toISOString());
      assert.deepEqual(r.findings.map((f) => [f.code, f.severity]), [['register.unavailable', 'warning']]);
      assert.match(r.findings[0]!.fix!, /cannot be approved automatically/);
      assert.deepEqual(dbState(), before);
    });
  });

  describe('import', () => {
    it('imports the dev register and writes exactly one audit event', async () => {
      const info = await register.importSnapshot(DEV, { source: 'dev-eba-register.json', actor: ACTOR });
      assert.equal(info.entityCount, 12);
      assert.equal(info.skippedCount, 0);
      assert.equal(info.importedAt, NOW.toISOString());
      assert.match(info.sha256, /^[0-9a-f]{64}$/);
      const { id, importedAt, source, sha256, entityCount, skippedCount } = info;
      assert.deepEqual(await register.status(), { snapshot: { id, importedAt, source, sha256, entityCount, skippedCount }, entities: 12 });

      const events = await audit.list({});
      assert.equal(events.length, 1);
      const e = events[0]!;
      assert.equal(e.action, 'register.imported');
      assert.deepEqual(e.subject, { type: 'register_snapshot', id: info.id });
      assert.deepEqual(e.actor, ACTOR);
      assert.equal(e.data.sha256, info.sha256);
      assert.equal(e.data.entityCount, 12);
      assert.equal(e.data.skippedCount, 0);
      assert.equal((await audit.verify()).ok, true);
    });

    it('reports skipped entities grouped by reason', async () => {
      const info = await register.importSnapshot(doc([pi('900001', ['2019-01-01']), pi('900002', ['bad']), { CA_OwnerID: 'DE_BAFIN' }]), {
        source: 't.json',
        actor: ACTOR,
      });
      assert.equal(info.entityCount, 1);
      assert.equal(info.skippedCount, 2);
      assert.deepEqual(info.skippedByReason, { 'ENT_AUT holds a value that is not a date': 1, 'EntityCode missing': 1 });
      const [event] = await audit.list({ action: 'register.imported' });
      assert.deepEqual(event!.data.skippedByReason, info.skippedByReason);
    });

    it('replaces the whole register: entities of the previous snapshot are gone', async () => {
      await register.importSnapshot(DEV, { source: 'dev', actor: ACTOR });
      const second = await register.importSnapshot(doc([pi('900001', ['2019-01-01'])]), { source: 'small.json', actor: ACTOR });
      const state = dbState();
      assert.deepEqual(state.codes, ['DE_BAFIN!900001']);
      assert.equal(state.snapshots, 2);
      assert.equal(state.audit, 2);
      assert.equal((await register.status()).snapshot!.id, second.id);
      assert.equal(await register.lookup('DE-BAFIN', '152645'), null);
    });

    for (const [name, content, code] of [
      ['not JSON', 'not json at all', 'register.not_json'],
      ['the wrong top-level shape', '{"entities": []}', 'register.bad_shape'],
      ['no readable entity', doc([{ EntityCode: 'DE_BAFIN!1' }]), 'register.no_valid_entities'],
    ] as const) {
      it(`refuses a file with ${name} (${code}) and keeps the previous register`, async () => {
        await register.importSnapshot(DEV, { source: 'dev', actor: ACTOR });
        const before = dbState();
        await assert.rejects(register.importSnapshot(content, { source: 'bad.json', actor: ACTOR }), (err: unknown) => {
          assert.ok(err instanceof RegisterImportError);
          assert.equal(err.code, code);
          assert.equal(err.status, 400);
          return true;
        });
        assert.deepEqual(dbState(), before);
      });
    }

    it('rolls back a failure half-way through the write: the first snapshot stays whole', async () => {
      const first = await register.importSnapshot(DEV, { source: 'dev', actor: ACTOR });
      const before = dbState();
      // A real SQLite failure after the old entities were deleted and some new ones inserted.
      db.exec(`CREATE TRIGGER fail_import BEFORE INSERT ON register_entities WHEN NEW.entity_code = 'DE_BAFIN!900003'
               BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
      const next = doc([pi('900001', ['2019-01-01']), pi('900002', ['2019-01-01']), pi('900003', ['2019-01-01'])]);
      await assert.rejects(register.importSnapshot(next, { source: 'second.json', actor: ACTOR }), /disk on fire/);
      assert.deepEqual(dbState(), before);
      assert.equal((await register.status()).snapshot!.id, first.id);
      assert.equal((await register.lookup('DE-BAFIN', '152645'))?.names[0], 'Acme Payments GmbH');
      assert.equal(db.inTransaction, false);
    });
  });

  describe('lookup', () => {
    beforeEach(() => register.importSnapshot(DEV, { source: 'dev', actor: ACTOR }));

    it('finds an institution by NCA id and authorisation number, shaped as a RegisterEntry', async () => {
      assert.deepEqual(await register.lookup('DE-BAFIN', '152645'), {
        entityCode: 'DE_BAFIN!152645',
        caOwnerId: 'DE_BAFIN',
        ncaId: 'DE-BAFIN',
        nationalRef: '152645',
        entityType: 'PSD_PI',
        names: ['Acme Payments GmbH', 'Acme Pay'],
        country: 'DE',
        authorisation: { status: 'authorised', since: '2019-03-01', withdrawnOn: null, dates: ['2019-03-01'] },
        services: { AT: ['PS_070', 'PS_080'], DE: ['PS_03C', 'PS_070', 'PS_080'], FR: ['PS_070', 'PS_080'] },
        parent: null,
      });
    });

    it('finds agents with their parent, withdrawn and re-authorised institutions', async () => {
      const agent = await register.lookup('DE-BAFIN', '900111');
      assert.deepEqual(agent?.parent, { entityCode: 'DE_BAFIN!900101', status: 'Inactive' });
      assert.equal(agent?.authorisation.status, 'withdrawn');
      const withdrawn = await register.lookup('de-bafin', ' 900101 ');
      assert.deepEqual(withdrawn?.authorisation, { status: 'withdrawn', since: null, withdrawnOn: '2023-09-30', dates: ['2018-04-02', '2023-09-30'] });
      assert.equal((await register.lookup('FR-ACPR', '900202'))?.authorisation.since, '2022-11-02');
      assert.equal((await register.lookup('NL-DNB', '900303'))?.services.BE?.[0], 'PS_080');
    });

    it('returns null for unknown numbers, other authorities and malformed NCA ids', async () => {
      assert.equal(await register.lookup('DE-BAFIN', '000000'), null);
      assert.equal(await register.lookup('FR-ACPR', '152645'), null);
      assert.equal(await register.lookup('Germany', '152645'), null);
      assert.equal(await register.lookup('DE-BAFIN', ''), null);
      assert.equal(await register.lookup("DE-BAFIN' OR '1'='1", '152645'), null);
    });
  });

  describe('check against the dev register', () => {
    beforeEach(() => register.importSnapshot(DEV, { source: 'dev', actor: ACTOR }));

    const acme: RegisterCheckInput = { ncaId: 'DE-BAFIN', authorisationNumber: '152645', legalName: 'Acme Payments GmbH', country: 'DE', roles: ['AIS', 'PIS'] };
    const nordic: RegisterCheckInput = { ncaId: 'SE-FINA', authorisationNumber: '44059', legalName: 'Nordic Insights AB', country: 'SE', roles: ['AIS'] };
    const codes = (r: { findings: { code: string }[] }) => r.findings.map((f) => f.code);

    it('runs the named checks in order', () => {
      assert.deepEqual(
        REGISTER_CHECKS.map((c) => c.name),
        ['entry found', 'entity type is an authorisation', 'authorised', 'legal name matches', 'country matches', 'services cover the requested roles'],
      );
    });

    it('matches the dev PKI partners (Acme AIS+PIS, Nordic AIS) with no findings', async () => {
      for (const input of [acme, nordic]) {
        const r = await register.check(input);
        assert.equal(r.status, 'match', JSON.stringify(r.findings));
        assert.deepEqual(r.findings, []);
        assert.equal(r.snapshot?.entityCount, 12);
        assert.equal(r.checkedAt, NOW.toISOString());
      }
    });

    it('accepts the whole organizationIdentifier and any case of the NCA id', async () => {
      const r = await register.check({ ...acme, ncaId: 'de-bafin', authorisationNumber: 'PSDDE-BAFIN-152645' });
      assert.equal(r.status, 'match');
      assert.equal(r.entry?.entityCode, 'DE_BAFIN!152645');
    });

    it('entry found: register.not_found (error) with the note on credit institutions', async () => {
      const r = await register.check({ ...acme, authorisationNumber: '123456' });
      assert.equal(r.status, 'not_found');
      assert.equal(r.entry, null);
      assert.deepEqual(codes(r), ['register.not_found']);
      assert.match(r.findings[0]!.message, /Credit institutions \(banks\) are not in the PSD2 register/);
      assert.match(r.findings[0]!.fix!, /PSDDE-BAFIN-123456/);
    });

    it('entry found: a malformed NCA id gives register.identifier_invalid', async () => {
      const r = await register.check({ ...acme, ncaId: 'BaFin Germany' });
      assert.equal(r.status, 'not_found');
      assert.deepEqual(codes(r), ['register.identifier_invalid']);
      const empty = await register.check({ ...acme, authorisationNumber: '  ' });
      assert.deepEqual(codes(empty), ['register.identifier_invalid']);
    });

    it('entry found: the same number under another authority of the country gives register.nca_code_differs', async () => {
      const r = await register.check({ ...nordic, ncaId: 'SE-FI' });
      assert.equal(r.status, 'match');
      assert.equal(r.entry?.ncaId, 'SE-FINA');
      assert.deepEqual(r.findings.map((f) => [f.code, f.severity]), [['register.nca_code_differs', 'warning']]);
    });

    it('authorised: a withdrawn institution gives register.withdrawn with the date', async () => {
      const r = await register.check({ ncaId: 'DE-BAFIN', authorisationNumber: '900101', legalName: 'Exempla Zahlungsdienste GmbH', country: 'DE', roles: ['PIS'] });
      assert.equal(r.status, 'withdrawn');
      assert.deepEqual(codes(r), ['register.withdrawn']);
      assert.match(r.findings[0]!.message, /withdrawn on 2023-09-30 \(authorised on 2018-04-02\)/);
    });

    it('authorised: a re-authorised institution matches, with an info finding for the reviewer', async () => {
      const r = await register.check({ ncaId: 'FR-ACPR', authorisationNumber: '900202', legalName: 'Exemple Paiements S.A.S.', country: 'FR', roles: ['AIS', 'PIS'] });
      assert.equal(r.status, 'match');
      assert.deepEqual(r.findings.map((f) => [f.code, f.severity]), [['register.reauthorised', 'info']]);
      assert.match(r.findings[0]!.message, /authorised again on 2022-11-02 after a withdrawal on 2021-06-30/);
    });

    it('authorised: an agent whose parent is inactive gives register.parent_inactive', async () => {
      const r = await register.check({ ncaId: 'DE-BAFIN', authorisationNumber: '900111', legalName: 'Exempla Vermittlung UG', country: 'DE', roles: ['PIS'] });
      assert.equal(r.status, 'withdrawn');
      assert.deepEqual(codes(r), ['register.parent_inactive']);
      assert.match(r.findings[0]!.message, /Exempla Zahlungsdienste GmbH \(DE_BAFIN!900101\).*withdrawn on 2023-09-30/);
    });

    it("authorised: an active agent is checked against its parent's services", async () => {
      const ok = await register.check({ ncaId: 'DE-BAFIN', authorisationNumber: '900112', legalName: 'Acme Vertriebspartner GmbH', country: 'DE', roles: ['AIS', 'PIS'] });
      assert.equal(ok.status, 'match', JSON.stringify(ok.findings));
      assert.equal(ok.entry?.entityType, 'PSD_AG');
    });

    it('entity type: PSD_EXC and PSD_ENL are not authorisations (register.not_authorisation)', async () => {
      const exc = await register.check({ ncaId: 'IE-CBI', authorisationNumber: '900404', legalName: 'Example Store Cards Limited', country: 'IE', roles: ['AIS'] });
      assert.equal(exc.status, 'mismatch');
      assert.deepEqual(codes(exc), ['register.not_authorisation']);
      assert.match(exc.findings[0]!.message, /excluded from the scope of PSD2 \(PSD_EXC\)/);
      const enl = await register.check({ ncaId: 'PT-BP', authorisationNumber: '900707', legalName: 'Exemplo Pagamentos', country: 'PT', roles: ['PIS'] });
      assert.deepEqual(codes(enl), ['register.not_authorisation']);
    });

    it('legal name: a different name is a warning showing both names; form and punctuation are ignored', async () => {
      const r = await register.check({ ncaId: 'DE-BAFIN', authorisationNumber: '999001', legalName: 'Broken Fintech GmbH', country: 'DE', roles: ['AIS'] });
      assert.equal(r.status, 'match');
      assert.deepEqual(r.findings.map((f) => [f.code, f.severity]), [['register.name_mismatch', 'warning']]);
      assert.match(r.findings[0]!.message, /"Broken Fintech GmbH".*"BF Datendienste GmbH", "BF Data"/);
      for (const legalName of ['ACME PAYMENTS G.m.b.H.', 'acme payments', 'Acme Pay', ' Acme  Payments, GmbH ']) {
        assert.deepEqual(codes(await register.check({ ...acme, legalName })), [], legalName);
      }
      const bg = { ncaId: 'BG-BNB', authorisationNumber: '900808', country: 'BG', roles: ['PIS' as const] };
      assert.deepEqual(codes(await register.check({ ...bg, legalName: 'Primerni Plashtania' })), []);
      assert.deepEqual(codes(await register.check({ ...bg, legalName: 'ПРИМЕРНИ ПЛАЩАНИЯ ЕАД' })), []);
      assert.deepEqual(codes(await register.check({ ...acme, legalName: '' })), ['register.name_mismatch']);
    });

    it('country: a different country is register.country_mismatch (error)', async () => {
      const r = await register.check({ ...acme, country: 'AT' });
      assert.equal(r.status, 'mismatch');
      assert.deepEqual(codes(r), ['register.country_mismatch']);
      assert.match(r.findings[0]!.message, /You gave AT .* the register has DE/);
    });

    it('services: PIS needs PS_070 and AIS needs PS_080 in the home country (register.service_missing)', async () => {
      const aisp = await register.check({ ...nordic, roles: ['AIS', 'PIS'] });
      assert.equal(aisp.status, 'mismatch');
      assert.deepEqual(codes(aisp), ['register.service_missing']);
      assert.match(aisp.findings[0]!.message, /payment initiation services \(PS_070\).*home country SE.*PSD_AISP/);
      assert.match(aisp.findings[0]!.fix!, /\(AIS\)/);
      const emi = await register.check({ ncaId: 'NL-DNB', authorisationNumber: '900303', legalName: 'Voorbeeld E-Geld BV', country: 'NL', roles: ['AIS'] });
      assert.equal(emi.status, 'match', JSON.stringify(emi.findings));
      const emiPis = await register.check({ ncaId: 'NL-DNB', authorisationNumber: '900303', legalName: 'Voorbeeld E-Geld BV', country: 'NL', roles: ['PIS'] });
      assert.deepEqual(codes(emiPis), ['register.service_missing']);
    });

    it('services: CBPII has no PSD2 service code, which is an info finding', async () => {
      const r = await register.check({ ...nordic, roles: ['AIS', 'CBPII'] });
      assert.equal(r.status, 'match');
      assert.deepEqual(r.findings.map((f) => [f.code, f.severity]), [['register.cbpii_no_service_code', 'info']]);
    });

    it('every finding has a plain message and a fix, and check() writes nothing', async () => {
      const before = dbState();
      const inputs: RegisterCheckInput[] = [
        acme,
        { ...acme, authorisationNumber: '1' },
        { ...acme, ncaId: 'x' },
        { ...nordic, roles: ['PIS', 'CBPII'], country: 'DK', legalName: 'Other AB' },
        { ncaId: 'DE-BAFIN', authorisationNumber: '900101', legalName: 'x', country: 'DE', roles: ['AIS'] },
        { ncaId: 'DE-BAFIN', authorisationNumber: '900111', legalName: 'x', country: 'DE', roles: ['AIS'] },
        { ncaId: 'IE-CBI', authorisationNumber: '900404', legalName: 'x', country: 'IE', roles: ['AIS'] },
        { ncaId: 'FR-ACPR', authorisationNumber: '900202', legalName: 'x', country: 'FR', roles: ['AIS'] },
      ];
      const seen = new Set<string>();
      for (const input of inputs) {
        for (const f of (await register.check(input)).findings) {
          seen.add(f.code);
          assert.ok(f.message.length > 20 && !/undefined|null|\[object/.test(f.message), f.message);
          assert.ok(f.fix && f.fix.length > 20, `${f.code} has a fix`);
          assert.equal(f.severity, REGISTER_FINDING_CODES[f.code as keyof typeof REGISTER_FINDING_CODES]);
        }
      }
      assert.ok(seen.size >= 9, [...seen].join(', '));
      assert.deepEqual(dbState(), before);
    });
  });

  it('docs/register.md documents every finding code with its severity', () => {
    const text = readFileSync(new URL('../../docs/register.md', import.meta.url), 'utf8');
    for (const [code, severity] of Object.entries(REGISTER_FINDING_CODES)) {
      assert.match(text, new RegExp(`\\| \`${code.replace('.', '\\.')}\` \\| ${severity} \\|`), code);
    }
  });

  describe('name comparison', () => {
    const same: [string, string][] = [
      ['Acme Payments GmbH', 'ACME PAYMENTS G.m.b.H.'],
      ['Exemple Paiements SAS', 'Exemple Paiements S. A. S.'],
      ['Société Générale Paiements SA', 'Societe Generale Paiements'],
      ['Kantor Trust Sp. z o.o.', 'Kantor Trust'],
      ['Smith & Sons Ltd', 'Smith and Sons Limited'],
      ['Acme GmbH & Co. KG', 'Acme'],
    ];
    for (const [a, b] of same) {
      it(`"${a}" = "${b}"`, () => assert.ok(namesMatch(a, [b]), `${nameKey(a)} vs ${nameKey(b)}`));
    }
    const different: [string, string][] = [
      ['Acme Payments GmbH', 'Acme Payment Services GmbH'],
      ['Broken Fintech GmbH', 'BF Datendienste GmbH'],
      ['', ''],
      ['GmbH', 'Acme GmbH'],
    ];
    for (const [a, b] of different) {
      it(`"${a}" ≠ "${b}"`, () => assert.ok(!namesMatch(a, [b]), `${nameKey(a)} vs ${nameKey(b)}`));
    }
  });
});
