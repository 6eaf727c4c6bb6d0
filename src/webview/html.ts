// The dashboard page: one function used by the extension's webview panel and by the browser test
// host, so both load exactly the same document. Strict CSP: scripts only with the nonce, no inline
// handlers; style sheets only from the extension, inline styles neither in markup (no `style=`
// attributes) nor in <style> elements, except with the nonce. One needs it: the webview UI toolkit
// (FAST) feature-tests `:focus-visible` with a <style> element it adds, given the nonce it reads
// from <meta property="csp-nonce">. Without the nonce that test fails and focus rings fall back to
// `:focus`. The other styles set from scripts (uPlot, FAST, the theme) go through the CSSOM
// (el.style.x = ..., constructable style sheets), which CSP does not restrict.

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

/** A CSP nonce: 32 characters from a cryptographic random source (Web Crypto, in Node and browsers). */
export function makeNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => chars[b % chars.length]).join('');
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function dashboardHtml(p: DashboardPage): string {
  const csp = [
    "default-src 'none'",
    `img-src ${p.cspSource} data: blob:`,
    `style-src ${p.cspSource} 'nonce-${p.nonce}'`,
    `font-src ${p.cspSource}`,
    `script-src 'nonce-${p.nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta property="csp-nonce" content="${p.nonce}">
${p.styleUris.map((u) => `<link rel="stylesheet" href="${escapeAttr(u)}">`).join('\n')}
<title>${escapeAttr(p.title)}</title>
</head>
<body>
<div id="root"></div>
<script nonce="${p.nonce}" src="${escapeAttr(p.scriptUri)}"></script>
</body>
</html>`;
}
