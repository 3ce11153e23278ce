/** The icon, inline: one request fewer and nothing to keep in sync with a file. */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path fill="#f5b300" d="M16 2 28 9v14l-12 7-12-7V9z"/><path fill="#1b1f24" d="M16 9.5 22 13v7l-6 3.5-6-3.5v-7z"/></svg>`;

/**
 * The HTML shell of the dashboard. Everything it loads comes from this server; the page renders
 * itself from the API (see src/dashboard/client/).
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Hive cells</title>
<link rel="icon" href="/dashboard/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard/app.css">
<script type="module" src="/dashboard/app.js"></script>
</head>
<body>
<div id="app"><noscript>The Hive dashboard needs JavaScript. The API is described at <a href="/docs">/docs</a>.</noscript></div>
</body>
</html>
`;

/**
 * Only this server's own scripts, styles and API; no framing (clickjacking), no plugins. Inline
 * style attributes are allowed: the client sets widths (progress bars) through them.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');
