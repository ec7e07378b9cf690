import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, render, TARGET, updateDoc } from './env-docs.js';

// `node dist/main.js` rewrites docs/configuration.md's tables; `--check` only says whether they are
// current (exit 1 if not), for CI without the test runner.
const path = join(ROOT, TARGET);
const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
const after = updateDoc(before, render());
if (process.argv.includes('--check')) {
  if (after !== before) {
    console.error(`${TARGET} is out of date: run \`pnpm docs:env\``);
    process.exit(1);
  }
} else if (after !== before) {
  writeFileSync(path, after);
  console.log(`${TARGET} updated`);
} else {
  console.log(`${TARGET} already current`);
}
