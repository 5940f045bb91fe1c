import assert from 'node:assert/strict';
import {
  loadQuestionnaire,
  questionnaireFromData,
  riskTier,
  scoreQuestionnaire,
  type Answers,
  type EvidenceState,
  type Questionnaire,
  type ScoreResult,
} from '../../src/questionnaire/service.js';
import { AIS, AIS_PIS, allEvidence, BEST, NOW, PIS, REGULATED_AIS } from './fixtures.js';

const q = loadQuestionnaire();
const score = (ctx = AIS, answers: Answers = {}, evidence: Record<string, EvidenceState> = {}, now = NOW) =>
  scoreQuestionnaire(q, ctx, answers, evidence, { now });
const item = (r: ScoreResult, id: string) => {
  const i = r.items.find((x) => x.questionId === id);
  assert.ok(i, id);
  return i;
};
const domain = (r: ScoreResult, id: string) => r.domains.find((d) => d.id === id)?.score;

/** The scoring rule, written out independently: weighted mean of points/5 × factor, as a percentage. */
type Row = [weight: number, points: number, factor: number];
const raw = (rows: Row[]) => (rows.reduce((s, [w, p, f]) => s + (w * p * f) / 5, 0) / rows.reduce((s, [w]) => s + w, 0)) * 100;
const round1 = (x: number) => Math.round(x * 10) / 10;

describe('questionnaire: scoring', () => {
  describe('a small answer set, computed by hand (AIS, partner track, 2026-05-15)', () => {
    const answers: Answers = {
      'q.iso27001': 'covers_api', // 5, evidence verified → 1.0
      'q.soc2': 'exceptions_with_plan', // 3, evidence provided → 0.85
      'q.hosts_data': false, // gate closed: encryption and location not asked
      'q.retention_days': 45, // ≤ 90 → 3
      'q.pentest': true, // 5
      'q.pentest_date': '2025-03-01', // 14½ months old: within 18 → 3, evidence none → 0.6
      'q.patch_critical_days': 7, // ≤ 7 → 5
      'q.sdlc_controls': ['code_review', 'secrets_scanning'], // 2 controls → 3
      'q.redirect_protection': ['exact_match', 'pkce', 'par'], // 2 + 2 + 1 → 5
      // q.vdp_url optional, unanswered → not counted
      'q.mfa_staff': true, // 5
      'q.access_review': 'yearly', // 3
      'q.env_separation': 'separate_no_real_data', // 5
      'q.key_storage': 'cloud_kms', // 5, optional evidence not given → 0.6
      'q.token_storage': 'encrypted', // 4
      'q.uses_tsp': false,
      'q.log_retention_months': 12, // ≥ 12 → 5
      'q.ir_plan': 'untested', // 2, evidence none → 0.6
      'q.incident_notify_hours': 48, // ≤ 72 → 3
    };
    const evidence: Record<string, EvidenceState> = { 'q.iso27001': 'verified', 'q.soc2': 'provided' };
    const expected: Record<string, Row[]> = {
      governance: [
        [4, 5, 1.0],
        [3, 3, 0.85],
      ],
      data_protection: [[3, 3, 1]],
      appsec: [
        [2, 5, 1],
        [4, 3, 0.6],
        [4, 5, 1],
        [3, 3, 1],
        [3, 5, 1],
      ],
      access: [
        [5, 5, 1],
        [3, 3, 1],
        [3, 5, 1],
      ],
      crypto_keys: [
        [5, 5, 0.6],
        [4, 4, 1],
      ],
      detection_response: [
        [3, 5, 1],
        [3, 2, 0.6],
        [4, 3, 1],
      ],
    };
    const r = score(AIS, answers, evidence);

    it('per-domain scores', () => {
      assert.deepEqual(
        r.domains.map((d) => d.id),
        Object.keys(expected),
      );
      for (const [id, rows] of Object.entries(expected)) assert.equal(domain(r, id), round1(raw(rows)), id);
      // The same numbers written out, as a check on the check.
      assert.deepEqual(
        r.domains.map((d) => d.score),
        [79, 60, 76.5, 89.1, 68.9, 61.2],
      );
    });

    it('overall is the weighted mean of the domains by their summed weights; tier medium', () => {
      const all = Object.values(expected).flat();
      assert.equal(r.overall, round1(raw(all)));
      assert.equal(r.overall, 74.4); // 41.69 / 56
      assert.equal(r.tier, 'medium');
      assert.deepEqual(r.knockOuts, []);
      assert.equal(r.questionnaireVersion, '2026.1');
      assert.equal(r.policyVersion, 'risk-policy/2026.1');
    });

    it('every item explains itself and says what would raise it', () => {
      for (const i of r.items) {
        assert.ok(i.reason.length > 0, i.questionId);
        assert.equal(i.maxPoints, 5);
        assert.equal(i.improve === null, i.points === 5 && i.evidenceFactor === 1, `${i.questionId}: improve is null exactly at max`);
      }
      assert.deepEqual(item(r, 'q.iso27001'), {
        questionId: 'q.iso27001',
        domain: 'governance',
        points: 5,
        maxPoints: 5,
        weight: 4,
        evidenceFactor: 1,
        reason: 'ISO/IEC 27001 certificate whose scope covers the service.',
        improve: null,
        knockOut: false,
      });
      assert.equal(item(r, 'q.soc2').improve, 'Close the exceptions and share the next report. A reviewer still has to verify the evidence you uploaded.');
      assert.equal(item(r, 'q.pentest_date').reason, 'Last penetration test was 12 to 18 months ago.');
      assert.equal(item(r, 'q.pentest_date').improve, 'Test again: once a year is expected. Upload the executive summary of the penetration test.');
      assert.equal(item(r, 'q.key_storage').improve, 'Upload a statement or screenshot of your key storage set-up.');
      assert.match(item(r, 'q.sdlc_controls').reason, /^One or two secure development controls\. Selected: Peer code review of every change; Secrets scanning/);
      assert.match(item(r, 'q.redirect_protection').reason, /\(5 points\)\.$/);
      assert.equal(item(r, 'q.access_review').reason, 'Answered "Once a year".');
      assert.equal(item(r, 'q.access_review').improve, 'Review privileged access every quarter.');
      const vdp = item(r, 'q.vdp_url');
      assert.equal(vdp.points, null);
      assert.match(vdp.reason, /not counted/);
      // Gates are not scored; closed gates hide their questions from the score too.
      for (const id of ['q.hosts_data', 'q.uses_tsp', 'q.encryption', 'q.tsp_assurance']) assert.ok(!r.items.some((i) => i.questionId === id), id);
    });

    it('an unanswered required item scores 0 with the reason "Not answered" and counts', () => {
      const { 'q.token_storage': _dropped, ...rest } = answers;
      const r2 = score(AIS, rest, evidence);
      const t = item(r2, 'q.token_storage');
      assert.equal(t.points, 0);
      assert.equal(t.reason, 'Not answered');
      assert.equal(t.improve, 'Answer this question.');
      assert.equal(domain(r2, 'crypto_keys'), round1(raw([[5, 5, 0.6], [4, 0, 1]])));
    });

    it('a stored answer of the wrong shape is treated as not answered', () => {
      const r2 = score(AIS, { ...answers, 'q.patch_critical_days': '7' as unknown as number }, evidence);
      assert.equal(item(r2, 'q.patch_critical_days').reason, 'Not answered');
    });
  });

  it('the best answers with verified evidence score 100, low risk', () => {
    const r = score(AIS_PIS, BEST, allEvidence('verified'));
    assert.equal(r.overall, 100);
    assert.equal(r.tier, 'low');
    assert.ok(r.domains.every((d) => d.score === 100));
    assert.ok(r.items.every((i) => i.improve === null && !i.knockOut));
    assert.equal(r.domains.length, 8);
  });

  describe('knock-outs', () => {
    const best = allEvidence('verified');
    const ko = (ctx: typeof AIS, change: Answers) => score(ctx, { ...BEST, ...change }, best);

    it('force tier high whatever the score, and are explained', () => {
      const r = ko(AIS_PIS, { 'q.key_storage': 'plain_file' });
      assert.ok(r.overall! > 80, String(r.overall));
      assert.equal(r.tier, 'high');
      assert.deepEqual(r.knockOuts, [
        {
          questionId: 'q.key_storage',
          text: 'Where are the private keys of your QWAC, QSealC and signing keys kept?',
          reason: 'Private keys are kept in unencrypted files.',
        },
      ]);
      const i = item(r, 'q.key_storage');
      assert.equal(i.knockOut, true);
      assert.equal(i.points, 0);
      assert.equal(i.reason, 'Knock-out: Private keys are kept in unencrypted files.');
      assert.equal(i.improve, 'Keep the keys in an HSM or a cloud key management service.');
    });

    it('each rule kind fires at its boundary, and only there', () => {
      const cases: [Answers, string | null][] = [
        [{ 'q.mfa_staff': false }, 'q.mfa_staff'],
        [{ 'q.data_location': 'unknown' }, 'q.data_location'],
        [{ 'q.data_location': 'sccs_tia' }, null],
        [{ 'q.incident_notify_hours': 73 }, 'q.incident_notify_hours'],
        [{ 'q.incident_notify_hours': 72 }, null],
        [{ 'q.fraud_controls': ['none'] }, 'q.fraud_controls'],
        [{ 'q.fraud_controls': ['payee_check'] }, null],
        // 18 months before 2026-05-15 is 2024-11-15: older than that is a knock-out for PIS.
        [{ 'q.pentest_date': '2024-11-14' }, 'q.pentest_date'],
        [{ 'q.pentest_date': '2024-11-15' }, null],
        [{ 'q.pentest': false }, 'q.pentest'],
        [{ 'q.ir_plan': 'none' }, 'q.ir_plan'],
      ];
      for (const [change, expected] of cases) {
        const r = ko(AIS_PIS, change);
        assert.deepEqual(
          r.knockOuts.map((k) => k.questionId),
          expected ? [expected] : [],
          JSON.stringify(change),
        );
        if (expected) assert.equal(r.tier, 'high');
      }
    });

    it('PIS-only rules do not apply to an AIS-only applicant', () => {
      for (const change of [{ 'q.pentest': false }, { 'q.pentest_date': '2020-01-01' }, { 'q.ir_plan': 'none' }] as Answers[]) {
        const ais = ko(AIS, change);
        assert.deepEqual(ais.knockOuts, [], JSON.stringify(change));
        assert.equal(ko(PIS, change).knockOuts.length, 1, JSON.stringify(change));
      }
    });
  });

  describe('evidence factor', () => {
    it('self-declared 0.6, provided 0.85, verified 1.0 on a question that takes evidence', () => {
      const answers = { 'q.iso27001': 'covers_api' };
      const expected: [EvidenceState, number][] = [
        ['none', 60],
        ['provided', 85],
        ['verified', 100],
      ];
      for (const [state, value] of expected) {
        const r = score(REGULATED_AIS, answers, { 'q.iso27001': state });
        assert.equal(item(r, 'q.iso27001').evidenceFactor, value / 100);
        assert.equal(domain(r, 'governance'), value, state);
      }
    });

    it('questions that take no evidence count as answered', () => {
      const r = score(AIS, { 'q.mfa_staff': true }, { 'q.mfa_staff': 'none' });
      assert.equal(item(r, 'q.mfa_staff').evidenceFactor, 1);
      assert.equal(domain(r, 'access'), round1(raw([[5, 5, 1], [3, 0, 1], [3, 0, 1]])));
    });

    it('moves the overall score and the tier', () => {
      const none = score(AIS_PIS, BEST, {});
      const verified = score(AIS_PIS, BEST, allEvidence('verified'));
      assert.ok(none.overall! < verified.overall!);
      // Evidence questions: iso 4, soc2 3, pentest date 4, key storage 5, TSP report 3, IR plan 3, continuity 3,
      // fraud 5 = weight 30 at 0.6; the rest (total weight minus 30) at 1.0.
      const total = none.items.reduce((s, i) => s + i.weight, 0);
      assert.equal(none.overall, round1(((30 * 0.6 + (total - 30)) / total) * 100));
    });
  });

  describe('tiers at the boundaries', () => {
    /** A one-question questionnaire whose self-declared factor sets the overall score exactly. */
    function synthetic(selfDeclared: number, policyVersion = 'risk-policy/2099.1', xRequired = true): Questionnaire {
      return questionnaireFromData({
        version: '2099.1',
        title: 'Synthetic',
        policy: {
          policyVersion,
          evidenceFactors: { selfDeclared, provided: 1, verified: 1, notApplicable: 1 },
          tiers: { highBelow: 60, lowAbove: 80 },
        },
        domains: [{ id: 'd', label: 'Domain' }],
        questions: [
          {
            id: 'q.x',
            domain: 'd',
            type: 'yesno',
            text: 'Is it so?',
            help: 'Yes is best.',
            required: xRequired,
            weight: 3,
            scoring: { yes: { points: 5, reason: 'It is so.' }, no: { points: 0, reason: 'It is not.' } },
            improve: 'Make it so.',
            evidence: { label: 'proof', required: false, accept: ['application/pdf'], maxBytes: 1024 },
            knockOut: xRequired ? [{ when: 'unanswered', reason: 'Silence.' }] : [],
          },
          {
            id: 'q.y',
            domain: 'd',
            type: 'text',
            text: 'Anything else?',
            help: 'Optional.',
            required: false,
            weight: 5,
            scoring: { answered: { points: 5, reason: 'Told us more.' } },
            improve: 'Tell us more.',
            evidence: null,
          },
        ],
      });
    }

    it('59.9 high, 60 medium, 80 medium, 80.1 low', () => {
      const cases: [number, number, string][] = [
        [0.599, 59.9, 'high'],
        [0.6, 60, 'medium'],
        [0.8, 80, 'medium'],
        [0.801, 80.1, 'low'],
      ];
      for (const [factor, overall, tier] of cases) {
        const r = scoreQuestionnaire(synthetic(factor), { track: 'partner', roles: [] }, { 'q.x': true }, {}, { now: NOW });
        assert.equal(r.overall, overall);
        assert.equal(r.tier, tier, String(overall));
      }
    });

    it('riskTier applies the same thresholds directly', () => {
      const p = q.policy;
      assert.deepEqual(
        [59.9, 60, 80, 80.1, 100, 0].map((x) => riskTier(p, x, false)),
        ['high', 'medium', 'medium', 'low', 'low', 'high'],
      );
      assert.equal(riskTier(p, 100, true), 'high');
      assert.equal(riskTier(p, null, false), 'high');
    });

    it('an "unanswered" knock-out fires', () => {
      const r = scoreQuestionnaire(synthetic(1), { track: 'partner', roles: [] }, {}, {}, { now: NOW });
      assert.equal(r.overall, 0);
      assert.deepEqual(r.knockOuts, [{ questionId: 'q.x', text: 'Is it so?', reason: 'Silence.' }]);
      assert.equal(item(r, 'q.x').reason, 'Knock-out: Silence.');
      assert.equal(r.tier, 'high');
    });

    it('nothing counted (only optional questions, unanswered) means no overall and tier high', () => {
      const r = scoreQuestionnaire(synthetic(1, undefined, false), { track: 'partner', roles: [] }, {}, {}, { now: NOW });
      assert.equal(r.overall, null);
      assert.equal(r.tier, 'high', 'an unknown risk is not a low one');
      assert.equal(r.domains[0]!.score, null);
      assert.deepEqual(
        r.items.map((i) => i.points),
        [null, null],
      );
      assert.deepEqual(r.knockOuts, []);
    });

    it('the policy version of the questionnaire is in the result', () => {
      const r = scoreQuestionnaire(synthetic(1, 'risk-policy/2099.7'), { track: 'partner', roles: [] }, { 'q.x': true }, {}, { now: NOW });
      assert.equal(r.policyVersion, 'risk-policy/2099.7');
      assert.equal(r.questionnaireVersion, '2099.1');
    });
  });

  it('dates are scored by calendar months from "now", clamped at month ends', () => {
    const at = (date: string, now: string) => item(score(AIS, { 'q.pentest': true, 'q.pentest_date': date }, {}, new Date(now)), 'q.pentest_date').points;
    assert.equal(at('2025-03-31', '2026-03-31T12:00:00Z'), 5);
    assert.equal(at('2025-03-30', '2026-03-31T12:00:00Z'), 3);
    assert.equal(at('2025-02-28', '2026-02-28T00:00:00Z'), 5);
    assert.equal(at('2024-02-29', '2026-02-28T00:00:00Z'), 1); // 24 months before 2026-02-28 is 2024-02-28
    assert.equal(at('2024-02-27', '2026-02-28T00:00:00Z'), 0);
  });

  it('is deterministic: same inputs, same result, whatever the key order', () => {
    const a = score(AIS_PIS, BEST, allEvidence('provided'));
    const reversed = Object.fromEntries(Object.entries(BEST).reverse());
    const evReversed = Object.fromEntries(Object.entries(allEvidence('provided')).reverse());
    const b = score(AIS_PIS, reversed, evReversed);
    assert.deepEqual(a, b);
    assert.equal(JSON.stringify(a), JSON.stringify(score(AIS_PIS, BEST, allEvidence('provided'))));
    assert.deepEqual(JSON.parse(JSON.stringify(a)), a, 'JSON-safe for storing with a decision');
  });
});
