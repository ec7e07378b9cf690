export * from './classify.js';
export * from './guard.js';
export * from './migrate.js';
export * from './pool.js';
export * from './queries.js';
export * from './replica.js';
export * from './schema.js';
