// Sample Node.js function (optional: skipped where node is not installed). It reads its secrets
// through the lockbox JavaScript SDK (sdk/js/index.mjs; the same file works under Deno and Bun).
const path = require("node:path");
const { pathToFileURL } = require("node:url");

const sdk = pathToFileURL(path.join(__dirname, "..", "..", "sdk", "js", "index.mjs")).href;
import(sdk).then(({ secrets }) => {
  const names = Object.keys(secrets.all());
  console.log(`hello-node: received ${names.length} secret variable(s)`);
  for (const n of names) console.log(`  FLUXBASE_SECRET_${n}`);
  console.log(`hello-node: API_TOKEN is ${secrets.get("API_TOKEN") ? "set" : "not set"}`);
});
