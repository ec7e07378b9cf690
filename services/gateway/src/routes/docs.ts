import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Env } from '@coupon/kit';
import type { Hono } from 'hono';

/** swagger-ui-dist's folder, found without loading its large bundle into the gateway. */
const DIST = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/absolute-path.js'));

/** The only files served from it: name → media type. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>coupon API reference</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  validatorUrl: null,
  deepLinking: true,
  persistAuthorization: false,
});
`;

/**
 * Everything the page loads comes from this origin: the CSP forbids any other, so a CDN reference
 * slipping in breaks the page (and its browser test) instead of phoning out.
 */
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
  "connect-src 'self'; frame-ancestors 'none'";

/** GET /docs: the API reference (Swagger UI from the swagger-ui-dist package), GET /docs/assets/*. */
export function serveDocs(app: Hono<Env>): void {
  const cache = new Map<string, Promise<Buffer>>();
  app.get('/docs', (c) => {
    c.header('content-security-policy', CSP);
    return c.html(PAGE);
  });
  app.get('/docs/init.js', (c) =>
    c.body(INIT, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }),
  );
  app.get('/docs/assets/:file', async (c) => {
    const file = c.req.param('file');
    const type = ASSETS[file];
    if (!type) return c.notFound();
    let data = cache.get(file);
    if (!data) {
      data = readFile(join(DIST, file));
      cache.set(file, data);
      data.catch(() => cache.delete(file));
    }
    return c.body(new Uint8Array(await data), 200, {
      'content-type': type,
      'cache-control': 'public, max-age=86400',
    });
  });
}
