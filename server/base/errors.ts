/**
 * Errors a user can cause or meet. Each carries one line naming the cause and the fix;
 * main prints that line (never a stack) and exits with the code.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export class UsageError extends UserError {
  constructor(message: string) {
    super(`${message} (see bpfheat --help)`, 2);
  }
}
