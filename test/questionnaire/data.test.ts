import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AppError } from '../../src/errors.js';
import { QuestionnaireDataError } from '../../src/questionnaire/errors.js';
import {
  CURRENT_QUESTIONNAIRE_VERSION,
  loadQuestionnaire,
  loadQuestionnaireFile,
  questionnaireFromData,
} from '../../src/questionnaire/service.js';
import { DATA_FILE, rawData } from './fixtures.js';

type Raw = ReturnType<typeof rawData>;
type Q = Record<string, unknown>;

function question(raw: Raw, id: string): Q {
  const q = raw.questions.find((x) => x.id === id);
  assert.ok(q, id);
  return q;
}

function refused(mutate: (raw: Raw) => void, ...expected: string[]): void {
  const raw = rawData();
  mutate(raw);
  assert.throws(
    () => questionnaireFromData(raw, 'questionnaire-test.json'),
    (err: unknown) => {
      assert.ok(err instanceof QuestionnaireDataError, String(err));
      assert.equal(err.code, 'questionnaire.invalid_data');
      assert.equal(err.status, 500);
      assert.match(err.message, /^Questionnaire data questionnaire-test\.json is invalid: /);
      for (const e of expected) assert.ok(err.message.includes(e), `expected "${e}" in: ${err.message}`);
      return true;
    },
  );
}

describe('questionnaire: data file', () => {
  it('the shipped file validates and carries the version, policy, domains and questions', () => {
    const q = loadQuestionnaire();
    assert.equal(CURRENT_QUESTIONNAIRE_VERSION, '2026.1');
    assert.equal(q.version, '2026.1');
    assert.equal(q.policyVersion, 'risk-policy/2026.1');
    assert.deepEqual(q.policy.evidenceFactors, { selfDeclared: 0.6, provided: 0.85, verified: 1, notApplicable: 1 });
    assert.deepEqual(q.policy.tiers, { highBelow: 60, lowAbove: 80 });
    assert.deepEqual(
      q.domains.map((d) => d.label),
      ['Governance', 'Data protection', 'AppSec', 'Access', 'Crypto & keys', 'Detection & response', 'Resilience', 'Fraud (PIS)'],
    );
    assert.ok(q.questions.length >= 22 && q.questions.length <= 26, String(q.questions.length));
    assert.deepEqual(new Set(q.questions.map((x) => x.type)), new Set(['yesno', 'choice', 'multi', 'number', 'date', 'text', 'url']));
    // Every domain has at least one question, every question id is stable-looking and unique.
    for (const d of q.domains) assert.ok(q.questions.some((x) => x.domain === d.id), d.id);
    assert.equal(new Set(q.questions.map((x) => x.id)).size, q.questions.length);
  });

  it('is loaded once and frozen', () => {
    const a = loadQuestionnaire();
    assert.equal(loadQuestionnaire('2026.1'), a);
    assert.ok(Object.isFrozen(a) && Object.isFrozen(a.questions) && Object.isFrozen(a.questions[0]));
    assert.throws(() => {
      (a.questions[0] as { weight: number }).weight = 1;
    }, TypeError);
  });

  it('an unknown or malformed version is a 404 questionnaire.unknown_version', () => {
    for (const v of ['2099.1', '../../package', '2026.1/../2026.1', '', 'constructor', '__proto__']) {
      assert.throws(
        () => loadQuestionnaire(v),
        (err: unknown) => err instanceof AppError && err.code === 'questionnaire.unknown_version' && err.status === 404,
        v,
      );
    }
  });

  describe('a broken copy is refused with a message naming the place', () => {
    it('weight out of range', () =>
      refused((r) => (question(r, 'q.mfa_staff').weight = 7), 'weight (q.mfa_staff)', '<=5'));
    it('missing text', () =>
      refused((r) => delete question(r, 'q.iso27001').text, 'text (q.iso27001)'));
    it('unknown question type', () => refused((r) => (question(r, 'q.vdp_url').type = 'slider'), 'type (q.vdp_url)'));
    it('unknown domain', () => refused((r) => (question(r, 'q.pentest').domain = 'physical'), 'unknown domain physical'));
    it('duplicate question id', () =>
      refused((r) => (question(r, 'q.soc2').id = 'q.iso27001'), 'duplicate question id q.iso27001'));
    it('a gate pointing at a later question', () =>
      refused(
        (r) => (question(r, 'q.encryption').appliesWhen = { answer: { question: 'q.uses_tsp', equals: true } }),
        'appliesWhen.answer.question (q.encryption)',
        'earlier question',
      ));
    it('a gate on an impossible answer', () =>
      refused(
        (r) => (question(r, 'q.encryption').appliesWhen = { answer: { question: 'q.hosts_data', equals: 'maybe' } }),
        'is not a possible answer of q.hosts_data',
      ));
    it('a knock-out on an unknown option', () =>
      refused(
        (r) => (question(r, 'q.key_storage').knockOut = [{ when: { equals: 'floppy' }, reason: 'Keys on a floppy disk.' }]),
        'unknown option floppy',
      ));
    it('a knock-out rule of the wrong kind for the type', () =>
      refused((r) => (question(r, 'q.mfa_staff').knockOut = [{ when: { greaterThan: 3 }, reason: 'Not a yes/no rule.' }]), 'q.mfa_staff'));
    it('number thresholds out of order', () =>
      refused((r) => {
        const s = question(r, 'q.patch_critical_days').scoring as { thresholds: { max: number }[] };
        s.thresholds.reverse();
      }, 'max must be strictly ascending'));
    it('option points above 5', () =>
      refused((r) => ((question(r, 'q.access_review').options as { points: number }[])[0]!.points = 6), 'q.access_review'));
    it('evidence of a forbidden media type', () =>
      refused((r) => ((question(r, 'q.iso27001').evidence as { accept: string[] }).accept = ['text/html']), 'evidence.accept'));
    it('an unknown field (typo) in a question', () =>
      refused((r) => (question(r, 'q.mfa_staff').weigth = 3), 'q.mfa_staff', 'weigth'));
    it('a scored question without an improve text', () =>
      refused((r) => delete question(r, 'q.token_storage').improve, 'needs an improve text'));
    it('evidence factors out of order', () =>
      refused((r) => ((r.policy.evidenceFactors as { provided: number }).provided = 0.5), 'selfDeclared <= provided <= verified'));
    it('a malformed policy version', () => refused((r) => (r.policy.policyVersion = 'v2'), 'policy.policyVersion'));
    it('not an object at all', () => {
      assert.throws(() => questionnaireFromData(null, 'x.json'), QuestionnaireDataError);
      assert.throws(() => questionnaireFromData([], 'x.json'), QuestionnaireDataError);
    });
  });

  describe('files', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'questionnaire-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('a copy on disk loads; a file that is not JSON is refused clearly', () => {
      const good = path.join(dir, 'questionnaire-2026.1.json');
      writeFileSync(good, JSON.stringify(rawData()));
      assert.equal(loadQuestionnaireFile(good).version, '2026.1');
      assert.equal(loadQuestionnaireFile(DATA_FILE).questions.length, loadQuestionnaire().questions.length);

      const bad = path.join(dir, 'questionnaire-2026.2.json');
      writeFileSync(bad, '{"version": "2026.2",');
      assert.throws(
        () => loadQuestionnaireFile(bad),
        (err: unknown) =>
          err instanceof QuestionnaireDataError && /questionnaire-2026\.2\.json is invalid: not readable JSON/.test(err.message),
      );
    });
  });
});
