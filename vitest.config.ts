import { configDefaults, defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources (the "source" export condition), so tests
// need no build. Unit tests sit beside the code; integration tests talk to real Redis, Kafka, MariaDB.

/**
 * expect.poll against real engines and processes: a row, a DLT entry or a metric takes seconds to
 * appear (the persister's batches, a consumer rebalance), not vitest's default second.
 */
const realEngines = { poll: { timeout: 30_000, interval: 250 } };

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{services,libs,contracts,tools,loadtests}/**/src/**/*.test.ts'],
          // Beside their code but against real Redis: in the integration project.
          exclude: [...configDefaults.exclude, '**/*.redis.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          expect: realEngines,
          include: ['tests/integration/**/*.test.ts', 'libs/**/src/**/*.redis.test.ts'],
          globalSetup: ['tests/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        // The deployables as deployed: compose files, the Helm chart, and the container images built
        // with podman and run against the local stack (tests/deploy, docs/deploy.md).
        extends: true,
        test: {
          name: 'deploy',
          expect: realEngines,
          include: ['tests/deploy/**/*.test.ts'],
          exclude: ['tests/deploy/containers.test.ts'],
          globalSetup: ['tests/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        // The images built with podman and run as containers: `pnpm test:deploy` (DEPLOY_CONTAINERS=1),
        // which scripts/test runs after the rest; builds take minutes on a cold machine.
        extends: true,
        test: {
          name: 'containers',
          expect: realEngines,
          include: process.env.DEPLOY_CONTAINERS === '1' ? ['tests/deploy/containers.test.ts'] : [],
          globalSetup: ['tests/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 1_800_000,
        },
      },
      {
        // Kills, restarts and cuts real service processes (built dist/) under load; see tests/faults.
        // Runs after the other projects (groupOrder): on 2 cores a parallel suite would skew timings.
        extends: true,
        test: {
          name: 'faults',
          expect: realEngines,
          include: ['tests/faults/**/*.test.ts'],
          globalSetup: ['tests/integration/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
