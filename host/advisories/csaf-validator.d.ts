// Types for the parts of @secvisogram/csaf-validator-lib (BSI's CSAF validator, JavaScript with JSDoc only) that Vigil uses.
declare module '@secvisogram/csaf-validator-lib/validate.js' {
  export interface TestResult {
    readonly name: string;
    readonly isValid: boolean;
    readonly errors: ReadonlyArray<{ readonly instancePath: string; readonly message?: string }>;
  }
  export type DocumentTest = (doc: unknown) => unknown;
  export default function validate(tests: readonly DocumentTest[], doc: unknown): Promise<{ readonly isValid: boolean; readonly tests: readonly TestResult[] }>;
}
declare module '@secvisogram/csaf-validator-lib/schemaTests.js' {
  import type { DocumentTest } from '@secvisogram/csaf-validator-lib/validate.js';
  export const csaf_2_0: DocumentTest;
  export const csaf_2_0_strict: DocumentTest;
}
