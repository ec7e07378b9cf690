export { createApp, type IssuerDeps } from './app.js';
export { Gate, type GateCoupon } from './gate.js';
export { IssueService } from './issue.js';
export { BatchingProducer, DeliveryTimeoutError, isDefiniteFailure } from './producer.js';
export { startIssuer, type RunningIssuer } from './start.js';
export { issuerEnv, loadEnv as loadIssuerEnv, type IssuerEnv } from './env.js';
