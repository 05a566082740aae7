/**
 * A mistake in the user's input (config, data, arguments): the CLI prints its message, without a stack
 * trace, and exits with code 2. Anything else that is thrown is a bug or an environment failure.
 */
export class UserError extends Error {
  override name = 'UserError';
}
