import { idParam } from '@coupon/contracts';

// zod's own .meta(), not .openapi(): contracts' schemas are built before @hono/zod-openapi extends
// zod, so they lack .openapi(); zod-to-openapi reads .meta() all the same.
/** Ids in paths and queries: plain decimal digits (contracts' idParam), with an example for the reference page. */
export const userIdParam = idParam.meta({ description: "The user's id.", example: '42' });
export const couponIdParam = idParam.meta({ description: "The coupon's id.", example: '1' });
