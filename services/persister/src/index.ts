export { loadEnv as loadPersisterEnv, type PersisterEnv, persisterEnv } from './env.js';
export { type RunningPersister, startPersister } from './start.js';
