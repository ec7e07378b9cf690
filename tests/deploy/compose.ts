import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ROOT } from './schema.js';

/** What the deploy tests read of a compose service. */
export interface ComposeService {
  build?: { dockerfile?: string; args?: Record<string, string> };
  environment?: Record<string, string | number | null>;
  ports?: string[];
  healthcheck?: unknown;
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  entrypoint?: string[];
  command?: string | string[];
  configs?: { source: string; target: string }[];
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  configs?: Record<string, { file?: string; content?: string }>;
}

export const COMPOSE_FILES = ['infra/compose.yaml', 'infra/compose.ha.yaml'];

/** A compose file as compose reads it: anchors and merge keys resolved. */
export function loadCompose(file: string): ComposeFile {
  return parse(readFileSync(`${ROOT}/${file}`, 'utf8'), { merge: true, maxAliasCount: -1 });
}

/** Compose's own interpolation, enough for these files: ${X:-default}, ${X:?message}, ${X}, $$. */
export function interpolate(value: string, env: Record<string, string>): string {
  return value
    .replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op?: string, rest?: string) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (op === '?') throw new Error(`required variable ${name}: ${rest}`);
      return op === '-' ? (rest ?? '') : '';
    })
    .replaceAll('$$', '$');
}
