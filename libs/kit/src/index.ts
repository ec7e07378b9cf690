export * from './env.js';
export * from './http.js';
export * from './kafka.js';
export * from './log.js';
export * from './metrics.js';
export * from './redis.js';
export * from './serve.js';
export * from './shutdown.js';
