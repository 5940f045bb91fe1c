import assert from 'node:assert/strict';
import { applicableQuestions, loadQuestionnaire, type Answers, type QuestionnaireContext } from '../../src/questionnaire/service.js';
import { AIS, AIS_PIS, BEST, PIS, REGULATED_AIS } from './fixtures.js';

const q = loadQuestionnaire();
const ids = (ctx: QuestionnaireContext, answers: Answers = {}) => applicableQuestions(q, ctx, answers).map((v) => v.id);
const minus = (a: string[], b: string[]) => a.filter((x) => !b.includes(x));

describe('questionnaire: adaptive form', () => {
  it('PIS adds the fraud and incident questions (fraud controls, 24/7 monitoring, continuity)', () => {
    const ais = ids(AIS);
    const both = ids(AIS_PIS);
    assert.deepEqual(minus(both, ais), ['q.monitoring', 'q.continuity', 'q.fraud_controls']);
    assert.deepEqual(minus(ais, both), []);
    for (const id of ['q.monitoring', 'q.continuity', 'q.fraud_controls']) assert.ok(!ais.includes(id), id);
  });

  it('AIS-only questions (retention) are not shown to a PIS-only or CBPII-only applicant', () => {
    assert.ok(ids(AIS).includes('q.retention_days'));
    assert.ok(!ids(PIS).includes('q.retention_days'));
    const cbpii = ids({ track: 'partner', roles: ['CBPII'] });
    for (const id of ['q.retention_days', 'q.monitoring', 'q.fraud_controls', 'q.continuity']) assert.ok(!cbpii.includes(id), id);
  });

  it('the assurance-report question is for the partner track only', () => {
    assert.ok(ids(AIS).includes('q.soc2'));
    assert.ok(!ids(REGULATED_AIS).includes('q.soc2'));
  });

  it('gating answers show and hide the questions behind them', () => {
    const dataQs = ['q.encryption', 'q.data_location'];
    const tspQs = ['q.tsp_separate_certs', 'q.tsp_assurance'];
    const none = ids(AIS);
    for (const id of [...dataQs, ...tspQs, 'q.pentest_date']) assert.ok(!none.includes(id), `${id} hidden while the gate is unanswered`);

    const open = ids(AIS, { 'q.hosts_data': true, 'q.uses_tsp': true, 'q.pentest': true });
    for (const id of [...dataQs, ...tspQs, 'q.pentest_date']) assert.ok(open.includes(id), `${id} shown`);
    // The gate comes first, its questions follow it.
    assert.ok(open.indexOf('q.hosts_data') < open.indexOf('q.encryption'));

    const closed = ids(AIS, { 'q.hosts_data': false, 'q.uses_tsp': false, 'q.pentest': false, 'q.encryption': ['tls12'] });
    for (const id of [...dataQs, ...tspQs, 'q.pentest_date']) assert.ok(!closed.includes(id), `${id} hidden on "no"`);
  });

  it('a gate answer of the wrong shape (stale or tampered) keeps the gate closed', () => {
    for (const bad of ['yes', 'true', 1, ['yes'], null] as unknown[]) {
      assert.ok(!ids(AIS, { 'q.hosts_data': bad } as Answers).includes('q.encryption'), JSON.stringify(bad));
    }
  });

  it('questions come in the data order, and everything shows with all gates open for AIS+PIS', () => {
    const all = ids(AIS_PIS, BEST);
    assert.deepEqual(all, q.questions.map((x) => x.id).filter((id) => all.includes(id)));
    assert.equal(all.length, q.questions.length);
  });

  it('views are shaped for the page: labels and units, no scoring data', () => {
    const views = applicableQuestions(q, AIS_PIS, BEST);
    const mfa = views.find((v) => v.id === 'q.mfa_staff')!;
    assert.deepEqual(mfa.options, [
      { value: 'yes', label: 'Yes' },
      { value: 'no', label: 'No' },
    ]);
    assert.equal(mfa.domainLabel, 'Access');
    assert.equal(mfa.unit, null);
    assert.equal(mfa.evidence, null);
    const days = views.find((v) => v.id === 'q.patch_critical_days')!;
    assert.equal(days.unit, 'days');
    assert.deepEqual(days.options, []);
    const iso = views.find((v) => v.id === 'q.iso27001')!;
    assert.deepEqual(iso.evidence, {
      label: 'your ISO/IEC 27001 certificate with its scope statement',
      required: true,
      accept: ['application/pdf', 'image/png', 'image/jpeg'],
      maxBytes: 10485760,
    });
    for (const v of views) {
      assert.deepEqual(Object.keys(v).sort(), ['domain', 'domainLabel', 'evidence', 'help', 'id', 'options', 'required', 'text', 'type', 'unit']);
      for (const o of v.options) assert.deepEqual(Object.keys(o).sort(), ['label', 'value']);
    }
    // Views are copies: changing one does not touch the cached data.
    iso.evidence!.accept.push('text/html');
    assert.equal(applicableQuestions(q, AIS, {}).find((v) => v.id === 'q.iso27001')!.evidence!.accept.length, 3);
  });
});
