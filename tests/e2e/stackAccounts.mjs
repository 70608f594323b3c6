// Sign-in for the whole-stack browser checks (issue 16). Not a check itself: the scripts beside it import it.
// Env: ADMIN_USERNAME, ADMIN_PASSWORD (the first admin that `invoke up` wrote to backend/.env; tests/test_stack_e2e.py
// passes them to every tests/e2e/*.mjs script). Works with playwright-core and puppeteer-core pages alike.

/** The first admin's credentials from the environment, or a one-line error saying what to set. */
export function adminCredentials() {
  const username = process.env.ADMIN_USERNAME;
  const password = process.env.ADMIN_PASSWORD;
  if (!username || !password) {
    throw new Error('set ADMIN_USERNAME and ADMIN_PASSWORD (the first admin from backend/.env) so the browser can sign in');
  }
  return { username, password };
}

/** On the sign-in page: fill the form, send it, and wait until the header shows the user. */
export async function signInThroughForm(page, username, password) {
  await page.waitForSelector('input[name="username"]', { timeout: 30000 });
  for (const [name, value] of [['username', username], ['password', password]]) {
    const sel = `input[name="${name}"]`;
    if (typeof page.fill === 'function') await page.fill(sel, value);
    else {
      await page.$eval(sel, (el) => (el.value = ''));
      await page.type(sel, value);
    }
  }
  await page.click('button[type="submit"]');
  await page.waitForFunction(
    (u) => document.querySelector('[data-testid="signed-in-user"]')?.textContent === u || document.querySelector('[data-testid="signin-error"]'),
    ...(typeof page.fill === 'function' ? [username, { timeout: 30000 }] : [{ timeout: 30000 }, username]),
  );
  const refused = await page.evaluate(() => document.querySelector('[data-testid="signin-error"]')?.textContent ?? null);
  if (refused) throw new Error(`signing in as ${username} was refused: ${refused}`);
}

/**
 * An API call from inside the signed-in page, as the app makes it: the session cookie, and the session's CSRF
 * token on writes. Returns {status, body} (body parsed when it is JSON).
 */
export function apiFromPage(page, method, path, body) {
  return page.evaluate(async ({ method, path, body }) => {
    const session = await fetch('/api/session');
    const csrf = session.ok ? (await session.json()).csrfToken : '';
    const res = await fetch(path, {
      method,
      headers: { Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}), ...(method === 'GET' ? {} : { 'X-CSRF-Token': csrf }) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (204, media)
    }
    return { status: res.status, body: parsed };
  }, { method, path, body });
}
