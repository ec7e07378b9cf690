export { persisterEnv } from './env.js';
export { type RunningPersister, startPersister } from './start.js';
