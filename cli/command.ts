/** A `vigil` subcommand. Exit codes: 0 success, 1 the operation said no (a rejection), 2 usage error. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(args: readonly string[]): Promise<number>;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
