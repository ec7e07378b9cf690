import { defineConfig } from 'drizzle-kit';

// `pnpm --filter @coupon/db generate` writes a new migration into drizzle/ after a schema change.
export default defineConfig({
  dialect: 'mysql',
  schema: './src/schema.ts',
  out: './drizzle',
});
