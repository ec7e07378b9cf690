import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatewayEnv } from '@coupon/gateway';
import { issuerEnv } from '@coupon/issuer';
import { persisterEnv } from '@coupon/persister';
import ts from 'typescript';

/**
 * docs/configuration.md's tables, generated so they cannot drift from the code: the variables and
 * their defaults come from each service's zod schema itself, the descriptions from the JSDoc comment
 * above each key in the env.ts files (zod cannot see comments; a `.describe()` or `.meta()` on a key
 * takes precedence when present).
 */

/** Repository root: this file is tools/env-docs/src/env-docs.ts, or its build in tools/env-docs/dist. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The generated page, repository-relative: the one home of every variable, its default and its meaning. */
export const TARGET = 'docs/configuration.md';

export const START = '<!-- env:start -->';
export const END = '<!-- env:end -->';
export const HEADING = '# Configuration';

/** What we need of a z.object: its keys, in declaration order (spreads first, as written). */
export interface EnvSchema {
  shape: Record<string, unknown>;
}

export interface ServiceEnv {
  name: string;
  schema: EnvSchema;
  /** Files whose JSDoc describes the keys, repository-relative; a later file wins on the same key. */
  sources: string[];
}

/** The common keys (commonEnv, redisEnv, kafkaEnv, ...) are spread in from libs/kit. */
const KIT_ENV = 'libs/kit/src/env.ts';

export const SERVICES: ServiceEnv[] = [
  {
    name: 'gateway',
    schema: gatewayEnv,
    sources: [
      KIT_ENV,
      'services/gateway/src/env.ts',
      'services/gateway/src/auth/env.ts',
      'services/gateway/src/fairness/env.ts',
    ],
  },
  { name: 'issuer', schema: issuerEnv, sources: [KIT_ENV, 'services/issuer/src/env.ts'] },
  { name: 'persister', schema: persisterEnv, sources: [KIT_ENV, 'services/persister/src/env.ts'] },
];

/** JSDoc text of every object-literal property in a TypeScript source, by property name. */
export function jsdocByKey(source: string, fileName = 'env.ts'): Map<string, string> {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const docs = new Map<string, string>();
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAssignment(node) && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name))) {
      const text = ts
        .getJSDocCommentsAndTags(node)
        .filter(ts.isJSDoc)
        .map((d) => ts.getTextOfJSDocComment(d.comment) ?? '')
        .join(' ')
        .replace(/\s+/g, ' ')
        .trim();
      if (text) docs.set(node.name.text, text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return docs;
}

/** The parts of zod 4's internal definition that say whether and how a key defaults. */
interface ZodNode {
  description?: string;
  _zod: {
    def: {
      type: string;
      defaultValue?: unknown;
      innerType?: ZodNode;
      in?: ZodNode;
      entries?: Record<string, string | number>;
    };
  };
}

export type EnvDefault = { kind: 'default'; value: unknown } | { kind: 'optional' } | { kind: 'required' };

/**
 * The default as it would be written in the environment: the input side of a pipe, so a key like
 * KAFKA_BROKERS shows "127.0.0.1:9092", not the array its transform makes of it.
 */
export function envDefault(key: unknown): EnvDefault {
  let node = key as ZodNode;
  for (;;) {
    const def = node._zod.def;
    if (def.type === 'default' || def.type === 'prefault')
      return { kind: 'default', value: def.defaultValue };
    if (def.type === 'optional') return { kind: 'optional' };
    if (def.type === 'pipe' && def.in) node = def.in;
    else if (def.innerType) node = def.innerType;
    else return { kind: 'required' };
  }
}

/** Allowed values when the key is an enum (LOG_LEVEL, booleans), else undefined. */
export function envChoices(key: unknown): string[] | undefined {
  let node: ZodNode | undefined = key as ZodNode;
  while (node) {
    const def: ZodNode['_zod']['def'] = node._zod.def;
    if (def.type === 'enum' && def.entries) return Object.values(def.entries).map(String);
    node = def.type === 'pipe' ? def.in : def.innerType;
  }
  return undefined;
}

function formatDefault(d: EnvDefault): string {
  if (d.kind === 'required') return '**required**';
  if (d.kind === 'optional') return '(unset)';
  const v = Array.isArray(d.value) ? d.value.join(',') : String(d.value);
  return v === '' ? '(empty)' : `\`${v}\``;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderService(svc: ServiceEnv, read: (path: string) => string): string {
  const docs = new Map<string, string>();
  for (const path of svc.sources) for (const [k, v] of jsdocByKey(read(path), path)) docs.set(k, v);
  const rows = Object.entries(svc.schema.shape).map(([name, key]) => {
    let text = (key as ZodNode).description ?? docs.get(name) ?? '(undocumented)';
    const choices = envChoices(key);
    if (choices) text += ` One of: ${choices.map((c) => `\`${c}\``).join(', ')}.`;
    return `| \`${name}\` | ${formatDefault(envDefault(key))} | ${cell(text)} |`;
  });
  const where = svc.sources.filter((s) => s !== KIT_ENV).map((s) => `\`${s}\``);
  return [
    `## ${svc.name} (${where.join(', ')})`,
    '',
    '| variable | default | description |',
    '|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The text between the markers. */
export function render(
  services: ServiceEnv[] = SERVICES,
  read: (path: string) => string = (p) => readFileSync(join(ROOT, p), 'utf8'),
): string {
  return [
    "<!-- generated by `pnpm docs:env` from the services' env.ts and libs/kit/src/env.ts; edit those, not this -->",
    '',
    'Each service reads its configuration from environment variables only, parsed once at start-up by a zod',
    'schema: a bad value stops the process with a message naming the variable. Every default works on a',
    'developer machine with the local stack; in containers set the addresses (see `infra/compose.yaml`).',
    `The variables every service shares are declared in \`${KIT_ENV}\`.`,
    '',
    services.map((s) => renderService(s, read)).join('\n\n'),
  ].join('\n');
}

/**
 * The page with `block` between the markers. Only that text changes; when the markers are missing
 * they go under the Configuration heading, which is appended at the end if it is missing too (an empty
 * page becomes the heading and the block).
 */
export function updateDoc(doc: string, block: string): string {
  const s = doc.indexOf(START);
  const e = doc.indexOf(END);
  if (s >= 0 && e > s) return `${doc.slice(0, s + START.length)}\n${block}\n${doc.slice(e)}`;
  if (s >= 0 || e >= 0)
    throw new Error(`${TARGET} has ${START} and ${END} out of order or one without the other`);
  const section = `${START}\n${block}\n${END}\n`;
  const heading = new RegExp(`^${HEADING}[ \\t]*\\n`, 'm').exec(doc);
  if (heading) {
    const at = heading.index + heading[0].length;
    const rest = doc.slice(at);
    return `${doc.slice(0, at)}\n${section}${rest === '' || rest.startsWith('\n') ? '' : '\n'}${rest}`;
  }
  const before = doc.trimEnd();
  return `${before}${before ? '\n\n' : ''}${HEADING}\n\n${section}`;
}
