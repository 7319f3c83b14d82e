// Sample Node.js function (optional: skipped where node is not installed).
const names = Object.keys(process.env).filter((k) => k.startsWith("FLUXBASE_SECRET_")).sort();
console.log(`hello-node: received ${names.length} secret variable(s)`);
for (const n of names) console.log(`  ${n}`);
