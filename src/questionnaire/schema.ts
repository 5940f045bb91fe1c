/**
 * The shape of a questionnaire data file (`data/questionnaire-<version>.json`), checked with zod when the file is
 * loaded. Questions, scoring rules and the risk policy are data so that a new version is a new file, never a code
 * change; anything the code relies on (gates pointing backwards, thresholds in order, known option values) is
 * checked here so that a bad file stops the process at load instead of scoring partners wrongly.
 */
import { z } from 'zod';
import { QuestionnaireDataError } from './errors.js';

export const QUESTION_TYPES = ['yesno', 'choice', 'multi', 'number', 'date', 'text', 'url'] as const;
export const ROLES = ['AIS', 'PIS', 'CBPII'] as const;
export const TRACKS = ['regulated', 'partner'] as const;
export const EVIDENCE_MEDIA_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'text/plain'] as const;
/** Text answers are capped here whatever the data says (the brief's bound for free text). */
export const TEXT_MAX_LENGTH = 2000;
/** Evidence files larger than this are refused whatever the data says. */
export const EVIDENCE_MAX_BYTES = 25 * 1024 * 1024;

const questionId = z.string().regex(/^q\.[a-z0-9_]+(\.[a-z0-9_]+)*$/, 'must look like q.some_name');
const slug = z.string().regex(/^[a-z0-9_]+$/, 'must be lower-case letters, digits and _');
const label = z.string().trim().min(1).max(200);
const prose = z.string().trim().min(3).max(1000);
const points = z.number().int().min(0).max(5);
const weight = z.number().int().min(1).max(5);
const role = z.enum(ROLES);
const track = z.enum(TRACKS);

/** One scoring outcome: the points and why (shown to the applicant and the officer), optionally how to do better. */
const outcome = z.strictObject({ points, reason: prose, improve: prose.optional() });

const evidence = z.strictObject({
  label,
  /** When true, submission needs a file unless the answer is one of `unlessAnswer` (e.g. "we have none"). */
  required: z.boolean(),
  accept: z.array(z.enum(EVIDENCE_MEDIA_TYPES)).min(1),
  maxBytes: z.number().int().min(1024).max(EVIDENCE_MAX_BYTES),
  unlessAnswer: z.array(z.union([z.string(), z.boolean()])).optional(),
});

const appliesWhen = z.strictObject({
  /** Any of these requested roles. */
  roles: z.array(role).min(1).optional(),
  /** Any of these tracks. */
  tracks: z.array(track).min(1).optional(),
  /** A gate: an earlier yes/no or choice question answered with this value. */
  answer: z.strictObject({ question: questionId, equals: z.union([z.boolean(), z.string()]) }).optional(),
});

/** A knock-out rule: when it matches (and the role/track filters hold), the partner cannot pass the gate. */
function knockOut<W extends z.ZodType>(when: W) {
  return z.strictObject({
    when: z.union([z.literal('unanswered'), when]),
    roles: z.array(role).min(1).optional(),
    tracks: z.array(track).min(1).optional(),
    reason: prose,
  });
}

const base = {
  id: questionId,
  domain: slug,
  text: z.string().trim().min(5).max(500),
  /** What a good answer looks like and which evidence raises the score. */
  help: prose,
  required: z.boolean(),
  weight,
  evidence: evidence.nullable(),
  appliesWhen: appliesWhen.optional(),
  /** Default "what would raise it" when an outcome has none; required for scored questions. */
  improve: prose.optional(),
};

const option = z.strictObject({
  value: slug,
  label,
  points,
  reason: prose.optional(),
  improve: prose.optional(),
  /** "None of these": cannot be combined with other options (multi only). */
  exclusive: z.boolean().optional(),
});

const yesno = z.strictObject({
  ...base,
  type: z.literal('yesno'),
  /** null: informational or gating only, not scored. */
  scoring: z.strictObject({ yes: outcome, no: outcome }).nullable(),
  knockOut: z.array(knockOut(z.strictObject({ equals: z.boolean() }))).default([]),
});

const choice = z.strictObject({
  ...base,
  type: z.literal('choice'),
  options: z.array(option).min(2).max(20),
  /** Choice questions are scored by their option points. */
  knockOut: z.array(knockOut(z.strictObject({ equals: slug }))).default([]),
});

const multi = z.strictObject({
  ...base,
  type: z.literal('multi'),
  options: z.array(option).min(2).max(20),
  scoring: z.discriminatedUnion('mode', [
    /** Sum of the chosen options' points, capped at 5. */
    z.strictObject({ mode: z.literal('sum') }),
    /** Points by how many non-exclusive options are chosen: first threshold (by descending `min`) reached wins. */
    z.strictObject({
      mode: z.literal('count'),
      thresholds: z.array(z.strictObject({ min: z.number().int().min(1), ...outcome.shape })).min(1),
      otherwise: outcome,
    }),
  ]),
  knockOut: z
    .array(knockOut(z.union([z.strictObject({ includes: slug }), z.strictObject({ countBelow: z.number().int().min(1) })])))
    .default([]),
});

const number = z.strictObject({
  ...base,
  type: z.literal('number'),
  unit: label,
  min: z.number().finite(),
  max: z.number().finite(),
  integer: z.boolean(),
  /** Shown in the error message: "Enter a number of days from 0 to 365, like 30." */
  example: z.number().finite(),
  scoring: z.strictObject({
    /** First threshold with value <= max wins (ascending `max`). */
    thresholds: z.array(z.strictObject({ max: z.number().finite(), ...outcome.shape })).min(1),
    otherwise: outcome,
  }),
  knockOut: z
    .array(knockOut(z.union([z.strictObject({ greaterThan: z.number().finite() }), z.strictObject({ lessThan: z.number().finite() })])))
    .default([]),
});

const date = z.strictObject({
  ...base,
  type: z.literal('date'),
  /** Date questions ask "when did X last happen": the answer is a past date; points by its age. */
  scoring: z.strictObject({
    /** First threshold whose window holds the date wins (ascending `withinMonths`). */
    thresholds: z.array(z.strictObject({ withinMonths: z.number().int().min(1).max(240), ...outcome.shape })).min(1),
    otherwise: outcome,
  }),
  knockOut: z.array(knockOut(z.strictObject({ olderThanMonths: z.number().int().min(1).max(240) }))).default([]),
});

const text = z.strictObject({
  ...base,
  type: z.literal('text'),
  maxLength: z.number().int().min(1).max(TEXT_MAX_LENGTH).default(TEXT_MAX_LENGTH),
  scoring: z.strictObject({ answered: outcome }).nullable(),
  knockOut: z.array(knockOut(z.never())).default([]),
});

const url = z.strictObject({
  ...base,
  type: z.literal('url'),
  scoring: z.strictObject({ answered: outcome }).nullable(),
  knockOut: z.array(knockOut(z.never())).default([]),
});

const question = z.discriminatedUnion('type', [yesno, choice, multi, number, date, text, url]);

const policy = z.strictObject({
  policyVersion: z.string().regex(/^risk-policy\/\d{4}\.\d+$/, 'must look like risk-policy/2026.1'),
  evidenceFactors: z.strictObject({
    /** Answer given, no evidence file. */
    selfDeclared: z.number().gt(0).max(1),
    /** Evidence file uploaded, not yet checked by a reviewer. */
    provided: z.number().gt(0).max(1),
    /** A reviewer checked the evidence. */
    verified: z.number().gt(0).max(1),
    /** Questions that take no evidence file (a bare yes/no): the answer counts as it is. */
    notApplicable: z.number().gt(0).max(1),
  }),
  tiers: z.strictObject({
    /** Overall below this (or any knock-out) is high risk. */
    highBelow: z.number().min(0).max(100),
    /** Overall above this is low risk; in between is medium. */
    lowAbove: z.number().min(0).max(100),
  }),
});

export const questionnaireDataSchema = z
  .strictObject({
    version: z.string().regex(/^\d{4}\.\d+$/, 'must look like 2026.1'),
    title: label,
    policy,
    domains: z.array(z.strictObject({ id: slug, label })).min(1),
    questions: z.array(question).min(1),
  })
  .superRefine((data, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const f = data.policy.evidenceFactors;
    if (!(f.selfDeclared <= f.provided && f.provided <= f.verified)) {
      issue(['policy', 'evidenceFactors'], 'must satisfy selfDeclared <= provided <= verified');
    }
    if (data.policy.tiers.highBelow > data.policy.tiers.lowAbove) issue(['policy', 'tiers'], 'highBelow must not exceed lowAbove');

    const domainIds = new Set<string>();
    data.domains.forEach((d, i) => {
      if (domainIds.has(d.id)) issue(['domains', i, 'id'], `duplicate domain id ${d.id}`);
      domainIds.add(d.id);
    });

    const seen = new Map<string, QuestionData>();
    data.questions.forEach((q, i) => {
      const at = (...rest: (string | number)[]) => ['questions', i, ...rest];
      if (seen.has(q.id)) issue(at('id'), `duplicate question id ${q.id}`);
      if (!domainIds.has(q.domain)) issue(at('domain'), `unknown domain ${q.domain}`);
      const scored = isScored(q);
      if (scored && !q.improve) issue(at('improve'), 'a scored question needs an improve text');
      if (!scored && q.knockOut.length > 0) issue(at('knockOut'), 'an unscored question cannot have knock-out rules');

      const values = 'options' in q ? q.options.map((o) => o.value) : [];
      if ('options' in q) {
        if (new Set(values).size !== values.length) issue(at('options'), 'option values must be unique');
        if (q.type === 'choice' && q.options.some((o) => o.exclusive)) issue(at('options'), 'exclusive is for multi questions only');
        if (q.options.filter((o) => o.exclusive).length > 1) issue(at('options'), 'at most one exclusive option');
      }
      const valueOk = (v: string | boolean) => (q.type === 'yesno' ? typeof v === 'boolean' : typeof v === 'string' && values.includes(v));

      const gate = q.appliesWhen?.answer;
      if (gate) {
        const target = seen.get(gate.question);
        if (!target) issue(at('appliesWhen', 'answer', 'question'), `must name an earlier question (got ${gate.question})`);
        else if (target.type !== 'yesno' && target.type !== 'choice') issue(at('appliesWhen', 'answer'), 'the gate must be a yes/no or choice question');
        else if (target.type === 'yesno' ? typeof gate.equals !== 'boolean' : !target.options.some((o) => o.value === gate.equals)) {
          issue(at('appliesWhen', 'answer', 'equals'), `${JSON.stringify(gate.equals)} is not a possible answer of ${gate.question}`);
        }
      }

      for (const v of q.evidence?.unlessAnswer ?? []) {
        if (!valueOk(v)) issue(at('evidence', 'unlessAnswer'), `${JSON.stringify(v)} is not a possible answer`);
      }

      q.knockOut.forEach((k, j) => {
        if (k.when === 'unanswered') return;
        if ('equals' in k.when && q.type === 'choice' && !values.includes(String(k.when.equals))) {
          issue(at('knockOut', j, 'when'), `unknown option ${k.when.equals}`);
        }
        if ('includes' in k.when && !values.includes(k.when.includes)) issue(at('knockOut', j, 'when'), `unknown option ${k.when.includes}`);
      });

      if (q.type === 'multi' && q.scoring.mode === 'count') {
        const mins = q.scoring.thresholds.map((t) => t.min);
        if (!strictly(mins, (a, b) => a > b)) issue(at('scoring', 'thresholds'), 'min must be strictly descending');
      }
      if (q.type === 'number') {
        if (q.min >= q.max) issue(at('min'), 'min must be below max');
        if (q.example < q.min || q.example > q.max) issue(at('example'), 'example must lie within min..max');
        const maxes = q.scoring.thresholds.map((t) => t.max);
        if (!strictly(maxes, (a, b) => a < b)) issue(at('scoring', 'thresholds'), 'max must be strictly ascending');
        if (maxes.some((m) => m < q.min || m > q.max)) issue(at('scoring', 'thresholds'), 'thresholds must lie within min..max');
      }
      if (q.type === 'date') {
        const windows = q.scoring.thresholds.map((t) => t.withinMonths);
        if (!strictly(windows, (a, b) => a < b)) issue(at('scoring', 'thresholds'), 'withinMonths must be strictly ascending');
      }
      seen.set(q.id, q);
    });
  });

export type QuestionnaireData = z.output<typeof questionnaireDataSchema>;
export type QuestionData = QuestionnaireData['questions'][number];
export type PolicyData = QuestionnaireData['policy'];
export type OutcomeData = z.output<typeof outcome>;
export type OptionData = z.output<typeof option>;

/** Whether answers to this question earn points (gates and informational questions do not). */
export function isScored(q: QuestionData): boolean {
  return q.type === 'choice' || q.type === 'multi' || q.type === 'number' || q.type === 'date' || q.scoring !== null;
}

function strictly(xs: number[], ok: (a: number, b: number) => boolean): boolean {
  return xs.every((x, i) => i === 0 || ok(xs[i - 1]!, x));
}

/**
 * Validates raw (already JSON-parsed) questionnaire data. Throws QuestionnaireDataError listing every problem with
 * its path, and the question id where there is one, so the author of the file can fix it without reading code.
 */
export function parseQuestionnaireData(raw: unknown, source: string): QuestionnaireData {
  const parsed = questionnaireDataSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const questions = (raw as { questions?: unknown } | null)?.questions;
  const problems = parsed.error.issues.slice(0, 20).map((i) => {
    const [head, index] = i.path;
    let where = i.path.map(String).join('.') || '(root)';
    if (head === 'questions' && typeof index === 'number' && Array.isArray(questions)) {
      const id = (questions[index] as { id?: unknown } | undefined)?.id;
      if (typeof id === 'string') where += ` (${id.slice(0, 80)})`;
    }
    return `${where}: ${i.message}`;
  });
  const more = parsed.error.issues.length > problems.length ? ` (+${parsed.error.issues.length - problems.length} more)` : '';
  throw new QuestionnaireDataError(source, `${problems.join('; ')}${more}`);
}
