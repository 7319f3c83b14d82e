// Run by sdk_test.sh under `lockbox run`: checks sdk/js/index.mjs against the secrets the test
// stored. Usage: node probe.mjs MODE(env|file) SDK_FILE. Prints "ok" or the failed checks (never a
// value) and exits 1.
import { pathToFileURL } from "node:url";

const [mode, sdkFile] = process.argv.slice(2);
const { secrets, createSecrets, default: byDefault } = await import(pathToFileURL(sdkFile).href);
const failures = [];
const check = (what, ok) => { if (!ok) failures.push(what); };

check("the mode is as delivered", mode === "file"
  ? process.env.FLUXBASE_SECRETS_DIR && process.env.FLUXBASE_SECRET_DB_URL === undefined
  : !process.env.FLUXBASE_SECRETS_DIR && process.env.FLUXBASE_SECRET_DB_URL !== undefined);
check("get returns the value", secrets.get("DB_URL") === "postgres://u:p@db.invalid/app");
check("get keeps a trailing newline", secrets.get("API_KEY") === "k-123\n");
check("get of a missing secret is undefined", secrets.get("NOT_THERE") === undefined);
check("get of a missing secret is the fallback", secrets.get("NOT_THERE", "fb") === "fb");
check("get finds the posix form", secrets.get("db-url") === "postgres://u:p@db.invalid/app");
check("the default export is secrets", byDefault === secrets && typeof createSecrets === "function");
let message = "";
try { secrets.getRequired("NOT_THERE"); } catch (e) { message = String(e.message); }
check("getRequired throws naming the secret", message.includes("NOT_THERE"));
check("getRequired's error has no value", !message.includes("postgres") && !message.includes("k-123"));
check("getRequired returns the value", secrets.getRequired("API_KEY") === "k-123\n");
let bad = "";
try { secrets.get("../etc/passwd"); } catch (e) { bad = String(e.message); }
check("a path is not a secret name", bad.includes("not a secret name"));
const all = secrets.all();
check("all has exactly the injected secrets", JSON.stringify(Object.keys(all)) === '["API_KEY","DB_URL"]');
check("all has the values", all.DB_URL === "postgres://u:p@db.invalid/app" && all.API_KEY === "k-123\n");
if (failures.length) {
  console.log(`js sdk (${mode}): FAILED: ${failures.join("; ")}`);
  process.exit(1);
}
console.log(`js sdk (${mode}): ok`);
