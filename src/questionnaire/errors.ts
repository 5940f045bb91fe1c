/** The questionnaire area's error codes. Answer problems are not errors: they come back per question id. */
import { AppError } from '../errors.js';

export const QUESTIONNAIRE_ERROR_CODES = {
  /** No data file exists for the requested questionnaire version (or the version string is malformed). 404. */
  unknownVersion: 'questionnaire.unknown_version',
  /** A questionnaire data file is missing fields, inconsistent or not JSON: a deployment bug, raised at load. 500. */
  invalidData: 'questionnaire.invalid_data',
} as const;

export class UnknownQuestionnaireVersionError extends AppError {
  constructor(version: string) {
    super(QUESTIONNAIRE_ERROR_CODES.unknownVersion, 404, 'This questionnaire version does not exist.', {
      detail: `questionnaire version ${JSON.stringify(version.slice(0, 40))}`,
    });
  }
}

export class QuestionnaireDataError extends AppError {
  constructor(source: string, problems: string, cause?: unknown) {
    // A 500, so the message never reaches a client; it is written for whoever edits the data file.
    super(QUESTIONNAIRE_ERROR_CODES.invalidData, 500, `Questionnaire data ${source} is invalid: ${problems}`, {
      detail: problems,
      cause,
    });
  }
}
