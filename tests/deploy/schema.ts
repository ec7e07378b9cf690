import { fileURLToPath } from 'node:url';
import { gatewayEnv } from '@coupon/gateway';
import { issuerEnv } from '@coupon/issuer';
import { persisterEnv } from '@coupon/persister';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const SERVICES = ['gateway', 'issuer', 'persister'] as const;
export type Service = (typeof SERVICES)[number];

/**
 * Variables a deployment may set for a service: the keys of its env schema, plus NODE_ENV (read by
 * Node and libraries, not by our code; the Dockerfile sets it) and NODE_OPTIONS (the heap caps,
 * infra/node.env).
 */
export function knownVariables(svc: Service): Set<string> {
  const shape = { gateway: gatewayEnv, issuer: issuerEnv, persister: persisterEnv }[svc].shape;
  return new Set([...Object.keys(shape), 'NODE_ENV', 'NODE_OPTIONS']);
}
