// lockbox function SDK for JavaScript (Deno, Node.js, Bun; no dependencies).
//
//   import { secrets } from "./sdk/js/index.mjs";
//   const url = secrets.getRequired("DATABASE_URL");     // throws naming the secret if it is absent
//   const from = secrets.get("SENDGRID_FROM", "noreply@example.invalid");
//   const every = secrets.all();                          // { NAME: value, ... }
//
// It reads what `lockbox run` injected: the variable FLUXBASE_SECRET_<NAME> (`--deliver env`, the
// default) or, when FLUXBASE_SECRETS_DIR is set (`--deliver file`), the file
// $FLUXBASE_SECRETS_DIR/<NAME> (raw bytes, no newline added: nothing is trimmed). NAME is the
// final variable name without the prefix; a name that is not found as given is tried once more in
// its `name_transform: posix` form (upper case, "-" as "_"). Values are decoded as UTF-8.
// No function here ever puts a value in an error message.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

const DEFAULT_PREFIX = "FLUXBASE_SECRET_";
// The names lockbox can deliver as files (launcher/file_delivery.hpp): no "/", ".", "..".
const NAME = /^[A-Za-z0-9_-]{1,256}$/;

function posixForm(name) {
  return name.toUpperCase().replaceAll("-", "_");
}

function checkName(name) {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(`lockbox: not a secret name: ${JSON.stringify(String(name)).slice(0, 80)}`);
  }
}

/**
 * Makes a reader; `secrets` below is `createSecrets()`.
 * @param {{prefix?: string, env?: Record<string, string|undefined>}} [options]
 *   prefix: the policy's `inject.prefix` (default FLUXBASE_SECRET_); env: the environment to read
 *   (default process.env).
 */
export function createSecrets(options = {}) {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const env = () => options.env ?? process.env;
  const dir = () => env().FLUXBASE_SECRETS_DIR || undefined;

  function lookup(name) {
    const d = dir();
    if (d !== undefined) {
      try {
        return readFileSync(join(d, name), "utf8");
      } catch (e) {
        if (e && (e.code === "ENOENT" || e.code === "ENOTDIR")) return undefined;
        throw new Error(`lockbox: cannot read secret ${name} from FLUXBASE_SECRETS_DIR (${e && e.code})`);
      }
    }
    return env()[prefix + name];
  }

  function find(name) {
    checkName(name);
    const value = lookup(name);
    if (value !== undefined) return value;
    const posix = posixForm(name);
    return posix === name ? undefined : lookup(posix);
  }

  return {
    /** The secret NAME, or `fallback` (default undefined) when it was not injected. */
    get(name, fallback = undefined) {
      const value = find(name);
      return value === undefined ? fallback : value;
    },
    /** The secret NAME; throws an Error naming NAME (never a value) when it was not injected. */
    getRequired(name) {
      const value = find(name);
      if (value === undefined) {
        const where = dir() !== undefined ? "in FLUXBASE_SECRETS_DIR" : `as ${prefix}${name}`;
        throw new Error(`lockbox: required secret ${name} was not injected (${where})`);
      }
      return value;
    },
    /** Every injected secret, as { NAME: value }. */
    all() {
      const out = {};
      const d = dir();
      if (d !== undefined) {
        for (const name of readdirSync(d).sort()) {
          if (NAME.test(name)) out[name] = readFileSync(join(d, name), "utf8");  // skips .lock
        }
        return out;
      }
      const e = env();
      for (const key of Object.keys(e).sort()) {
        if (key.startsWith(prefix) && key.length > prefix.length) out[key.slice(prefix.length)] = e[key];
      }
      return out;
    },
  };
}

export const secrets = createSecrets();
export default secrets;
