import assert from 'node:assert/strict';
import { incompleteItems, loadQuestionnaire, type Answers } from '../../src/questionnaire/service.js';
import { AIS, AIS_PIS, allEvidence, BEST, PIS } from './fixtures.js';

const q = loadQuestionnaire();
const without = (answers: Answers, ...ids: string[]) => Object.fromEntries(Object.entries(answers).filter(([k]) => !ids.includes(k)));

describe('questionnaire: completeness for submission', () => {
  it('lists every required applicable question while nothing is answered, in order', () => {
    const items = incompleteItems(q, AIS, {}, {});
    const expected = q.questions
      .filter((x) => x.required)
      .filter((x) => !x.appliesWhen?.answer && !(x.appliesWhen?.roles && !x.appliesWhen.roles.includes('AIS')))
      .map((x) => x.id);
    assert.deepEqual(
      items.map((i) => i.questionId),
      expected,
    );
    assert.ok(items.every((i) => i.message === 'Answer this question.'));
    assert.ok(!items.some((i) => i.questionId === 'q.vdp_url'), 'optional questions are never missing');
  });

  it('a complete AIS+PIS questionnaire with its evidence has nothing missing', () => {
    assert.deepEqual(incompleteItems(q, AIS_PIS, BEST, allEvidence('provided')), []);
    assert.deepEqual(incompleteItems(q, AIS_PIS, BEST, allEvidence('verified')), []);
  });

  it('required evidence: needed when the answer claims something, not when it says "none"', () => {
    const items = incompleteItems(q, AIS, BEST, {});
    assert.deepEqual(items, [
      { questionId: 'q.iso27001', message: 'Upload your ISO/IEC 27001 certificate with its scope statement.' },
      { questionId: 'q.soc2', message: 'Upload the assurance report (opinion and exceptions sections are enough).' },
      { questionId: 'q.pentest_date', message: 'Upload the executive summary of the penetration test.' },
    ]);
    const honest = { ...BEST, 'q.iso27001': 'none', 'q.soc2': 'none' };
    assert.deepEqual(
      incompleteItems(q, AIS, honest, { 'q.pentest_date': 'provided' }),
      [],
      'no certificate claimed, no certificate needed; optional evidence (key storage, TSP report) never blocks',
    );
    // An evidence state that is not one of ours counts as none.
    assert.equal(incompleteItems(q, AIS, BEST, { 'q.iso27001': 'uploaded' as never, 'q.soc2': 'provided', 'q.pentest_date': 'provided' }).length, 1);
  });

  it('gates decide what is required', () => {
    const base = without(BEST, 'q.encryption', 'q.data_location', 'q.tsp_separate_certs', 'q.tsp_assurance');
    const ev = allEvidence('provided');
    assert.deepEqual(
      incompleteItems(q, AIS, { ...base, 'q.hosts_data': false, 'q.uses_tsp': false }, ev),
      [],
    );
    assert.deepEqual(
      incompleteItems(q, AIS, base, ev).map((i) => i.questionId),
      ['q.encryption', 'q.data_location', 'q.tsp_separate_certs', 'q.tsp_assurance'],
    );
    assert.deepEqual(
      incompleteItems(q, AIS, without(BEST, 'q.hosts_data'), ev).map((i) => i.questionId),
      ['q.hosts_data'],
      'an unanswered gate is itself missing; the questions behind it are not shown yet',
    );
  });

  it('PIS requires the fraud and incident answers', () => {
    const answers = without(BEST, 'q.monitoring', 'q.continuity', 'q.fraud_controls');
    assert.deepEqual(incompleteItems(q, AIS, answers, allEvidence('provided')), []);
    assert.deepEqual(
      incompleteItems(q, PIS, answers, allEvidence('provided')).map((i) => i.questionId),
      ['q.monitoring', 'q.continuity', 'q.fraud_controls'],
    );
  });

  it('stored answers of the wrong shape count as unanswered', () => {
    const tampered = { ...BEST, 'q.mfa_staff': 'yes', 'q.patch_critical_days': '7', 'q.sdlc_controls': ['hacking'], 'q.pentest_date': '2026-02-30' } as Answers;
    assert.deepEqual(
      incompleteItems(q, AIS, tampered, allEvidence('provided')).map((i) => i.questionId),
      ['q.pentest_date', 'q.patch_critical_days', 'q.sdlc_controls', 'q.mfa_staff'],
    );
  });
});
