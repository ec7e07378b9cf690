import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, render, updateReadme } from './env-docs.js';

// `node dist/main.js` rewrites README.md's Configuration tables; `--check` only says whether they are
// current (exit 1 if not), for CI without the test runner.
const path = join(ROOT, 'README.md');
const before = readFileSync(path, 'utf8');
const after = updateReadme(before, render());
if (process.argv.includes('--check')) {
  if (after !== before) {
    console.error('README.md Configuration is out of date: run `pnpm docs:env`');
    process.exit(1);
  }
} else if (after !== before) {
  writeFileSync(path, after);
  console.log('README.md Configuration updated');
} else {
  console.log('README.md Configuration already current');
}
