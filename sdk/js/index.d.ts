// Types of sdk/js/index.mjs (the lockbox function SDK).

/** Reads the secrets `lockbox run` injected into this process. */
export interface Secrets {
  /** The secret `name`, or `fallback` (default `undefined`) when it was not injected. */
  get(name: string): string | undefined;
  get<T>(name: string, fallback: T): string | T;
  /** The secret `name`; throws an `Error` naming it (never its value) when it was not injected. */
  getRequired(name: string): string;
  /** Every injected secret, by name (without the prefix). */
  all(): Record<string, string>;
}

export interface SecretsOptions {
  /** The policy's `inject.prefix` (default `FLUXBASE_SECRET_`). */
  prefix?: string;
  /** The environment to read (default `process.env`). */
  env?: Record<string, string | undefined>;
}

export function createSecrets(options?: SecretsOptions): Secrets;
export const secrets: Secrets;
export default secrets;
