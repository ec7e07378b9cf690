export { gatewayEnv } from './env.js';
export { ClientLimiter } from './fairness/client-limiter.js';
export { RateLimiter } from './rate-limit.js';
export { type RunningGateway, startGateway } from './start.js';
