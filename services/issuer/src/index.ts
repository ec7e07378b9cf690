export { issuerEnv } from './env.js';
export { type RunningIssuer, startIssuer } from './start.js';
