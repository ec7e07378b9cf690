export { createApp, type IssuerDeps } from './app.js';
export { type IssuerEnv, issuerEnv, loadEnv as loadIssuerEnv } from './env.js';
export { IssueService } from './issue.js';
export { BatchingProducer, DeliveryTimeoutError, isDefiniteFailure } from './producer.js';
export { type RunningIssuer, startIssuer } from './start.js';
