/**
 * Errors of the register area. An import either replaces the whole register or changes nothing; these
 * are the reasons a file is refused as a whole (single malformed entities are skipped and counted instead).
 */
import { AppError } from '../errors.js';

export type RegisterErrorCode =
  /** The file is larger than the import cap (MAX_REGISTER_BYTES); it was not parsed. */
  | 'register.file_too_large'
  /** The file is not valid JSON (or not UTF-8 text). */
  | 'register.not_json'
  /** The JSON is not in the EBA register shape: no top-level array, or no array of entities in it. */
  | 'register.bad_shape'
  /** The entity array holds more entries than the import cap (MAX_REGISTER_ENTITIES). */
  | 'register.too_many_entities'
  /** Every entity was malformed: importing would empty the register, so the file is refused. */
  | 'register.no_valid_entities';

export class RegisterImportError extends AppError {
  declare readonly code: RegisterErrorCode;

  constructor(code: RegisterErrorCode, message: string, detail?: string) {
    super(code, code === 'register.file_too_large' || code === 'register.too_many_entities' ? 413 : 400, message, {
      ...(detail === undefined ? {} : { detail }),
    });
  }
}
