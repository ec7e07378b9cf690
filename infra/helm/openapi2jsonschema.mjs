// Kubernetes JSON schemas for kubeconform, from the OpenAPI v2 document of the Kubernetes source
// (api/openapi-spec/swagger.json of the k8s.io/kubernetes Go module), the way kubeconform's own
// openapi2jsonschema does it, so no schema is downloaded from anywhere but the Go module proxy:
//
//   node infra/helm/openapi2jsonschema.mjs <swagger.json> <outdir>
//
// One file per kind and version, named as kubeconform's default registry names them
// (<kind>[-<group>]-<version>.json, e.g. deployment-apps-v1.json, service-v1.json), each with the
// definitions it references. Strict: objects with declared properties admit no others, so a misspelt
// field fails validation instead of being dropped by the API server. int-or-string and quantities
// take both forms, as in the API.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [specPath, outDir] = process.argv.slice(2);
if (!specPath || !outDir) {
  console.error('usage: openapi2jsonschema.mjs <swagger.json> <outdir>');
  process.exit(2);
}
const { definitions } = JSON.parse(readFileSync(specPath, 'utf8'));
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const PREFIX = '#/definitions/';

function convert(node) {
  if (Array.isArray(node)) return node.map(convert);
  if (node === null || typeof node !== 'object') return node;
  if (node.format === 'int-or-string') return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'properties' ? mapValues(v, convert) : convert(v);
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

function mapValues(obj, fn) {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, fn(v)]));
}

function definition(name) {
  if (name === QUANTITY) return { oneOf: [{ type: 'string' }, { type: 'number' }] };
  const def = definitions[name];
  if (!def) throw new Error(`no definition ${name}`);
  return convert(def);
}

/** The definitions a schema reaches through $ref, transitively. */
function closure(root) {
  const seen = new Set();
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    if (typeof node.$ref === 'string' && node.$ref.startsWith(PREFIX)) {
      const name = node.$ref.slice(PREFIX.length);
      if (!seen.has(name)) {
        seen.add(name);
        walk(definitions[name]);
      }
    }
    Object.values(node).forEach(walk);
  };
  walk(root);
  return seen;
}

mkdirSync(outDir, { recursive: true });
let count = 0;
for (const [name, def] of Object.entries(definitions)) {
  for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
    const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
    const group = gvk.group ? `-${gvk.group.split('.')[0].toLowerCase()}` : '';
    const schema = definition(name);
    schema.properties = {
      ...schema.properties,
      apiVersion: { type: 'string', enum: [apiVersion] },
      kind: { type: 'string', enum: [gvk.kind] },
    };
    schema.definitions = Object.fromEntries([...closure(def)].sort().map((n) => [n, definition(n)]));
    const file = `${gvk.kind.toLowerCase()}${group}-${gvk.version.toLowerCase()}.json`;
    writeFileSync(join(outDir, file), JSON.stringify(schema));
    count += 1;
  }
}
console.log(`openapi2jsonschema: ${count} schemas in ${outDir}`);
