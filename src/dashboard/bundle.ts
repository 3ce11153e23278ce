import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface DashboardAsset {
  body: string;
  contentType: string;
  etag: string;
}

export interface DashboardBundle {
  js: DashboardAsset;
  css: DashboardAsset;
}

const entry = fileURLToPath(new URL('./client/main.tsx', import.meta.url));

const asset = (body: string, contentType: string): DashboardAsset => ({
  body,
  contentType,
  etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
});

/**
 * The client, bundled in memory from its TSX sources (~100 ms): no build artefact to forget or go
 * stale, no step for a person to run, nothing fetched from the internet. Bundled once per process,
 * on the first request for it, so API-only tests and processes never pay for it.
 */
async function bundle(): Promise<DashboardBundle> {
  const result = await build({
    entryPoints: { app: entry },
    bundle: true,
    write: false,
    outdir: 'dashboard',
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const file = (ext: string) => {
    const found = result.outputFiles.find((f) => f.path.endsWith(ext));
    if (!found) throw new Error(`the dashboard bundle has no ${ext} output`);
    return found.text;
  };
  return {
    js: asset(file('.js'), 'text/javascript; charset=utf-8'),
    css: asset(file('.css'), 'text/css; charset=utf-8'),
  };
}

let cached: Promise<DashboardBundle> | undefined;

/** The bundle, built once; a failed build is not cached, so a fixed source is picked up. */
export function dashboardBundle(): Promise<DashboardBundle> {
  cached ??= bundle().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}
