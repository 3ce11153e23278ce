import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type DashboardAsset, dashboardBundle } from '../../dashboard/bundle.js';
import { CONTENT_SECURITY_POLICY, ICON_SVG, PAGE_HTML } from '../../dashboard/page.js';

/**
 * The web dashboard at `/`: a page and its assets, public like the docs (they hold no data; the page
 * reads everything through the API with the person's token). Hidden from the OpenAPI document.
 */
export function dashboardRoutes(): FastifyPluginAsyncZod {
  const config = { access: 'public' as const };
  const schema = { hide: true };

  return async (app) => {
    app.get('/', { config, schema }, async (_request, reply) =>
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-cache')
        .send(PAGE_HTML),
    );

    const serve = (
      path: string,
      pick: (bundle: Awaited<ReturnType<typeof dashboardBundle>>) => DashboardAsset,
    ) =>
      app.get(path, { config, schema }, async (request, reply) => {
        const asset = pick(await dashboardBundle());
        reply
          .header('content-type', asset.contentType)
          .header('x-content-type-options', 'nosniff')
          // Revalidated on every load (a cheap 304): a new server version is picked up at once.
          .header('cache-control', 'no-cache')
          .header('etag', asset.etag);
        if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
        return reply.send(asset.body);
      });
    serve('/dashboard/app.js', (b) => b.js);
    serve('/dashboard/app.css', (b) => b.css);

    app.get('/dashboard/icon.svg', { config, schema }, async (_request, reply) =>
      reply
        .header('content-type', 'image/svg+xml')
        .header('cache-control', 'public, max-age=86400')
        .send(ICON_SVG),
    );
  };
}
