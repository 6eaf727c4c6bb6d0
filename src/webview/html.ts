// The dashboard page: one function used by the extension's webview panel and by the browser test
// host, so both load exactly the same document. Strict CSP: scripts only with the nonce, styles
// only from the extension, no inline handlers.

export interface DashboardPage {
  /** URI of dist/webview.js as the webview sees it. */
  scriptUri: string;
  /** URI of media/dashboard.css (and other styles) as the webview sees it. */
  styleUris: string[];
  /** webview.cspSource in VS Code ('self' origin in the test host). */
  cspSource: string;
  nonce: string;
  title: string;
}

export function makeNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function dashboardHtml(p: DashboardPage): string {
  const csp = [
    "default-src 'none'",
    `img-src ${p.cspSource} data: blob:`,
    `style-src ${p.cspSource} 'unsafe-inline'`,
    `font-src ${p.cspSource}`,
    `script-src 'nonce-${p.nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${p.styleUris.map((u) => `<link rel="stylesheet" href="${escapeAttr(u)}">`).join('\n')}
<title>${escapeAttr(p.title)}</title>
</head>
<body>
<div id="root"></div>
<script nonce="${p.nonce}" src="${escapeAttr(p.scriptUri)}"></script>
</body>
</html>`;
}
