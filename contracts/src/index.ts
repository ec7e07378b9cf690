export * from './api.js';
export * from './controls.js';
export * from './encoding.js';
export * from './errors.js';
export * from './events.js';
export * from './ids.js';
export * from './keys.js';
export * from './topics.js';
