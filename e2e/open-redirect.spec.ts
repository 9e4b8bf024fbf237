import { expect, test } from "@playwright/test";
import { e2eEnv } from "./env";
import { OWNER, signInAs } from "./support";

// A signed-in visit to /?returnTo=… redirects to returnTo: never off the portal, however the path is disguised.
test("a signed-in GET /?returnTo=/%09/evil.example and its variants redirect within the portal", async ({ page }) => {
  await signInAs(page, OWNER);
  const origin = new URL(e2eEnv().portalUrl).origin;
  for (const returnTo of [
    "/%09/evil.example",
    "/%0A/evil.example",
    "/%0D/evil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "//evil.example",
    "/%252F%252Fevil.example",
    "https://evil.example/",
    "javascript:alert(1)",
  ]) {
    const res = await page.request.get(`/?returnTo=${returnTo}`, { maxRedirects: 0 });
    expect(res.status(), returnTo).toBe(307);
    const location = res.headers().location ?? "";
    // Resolved as a browser would: "/\t/evil.example" becomes "//evil.example", another origin.
    expect(new URL(location, `${origin}/`).origin, `${returnTo} → ${JSON.stringify(location)}`).toBe(origin);
    expect(location, returnTo).toMatch(/^(https?:\/\/[^/]+)?\/(?![/\\])[^\s\\]*$/);
  }
  // A plain same-origin returnTo still comes back.
  const res = await page.request.get(`/?returnTo=${encodeURIComponent("/onboarding/new")}`, { maxRedirects: 0 });
  expect(res.headers().location).toMatch(/\/onboarding\/new$/);

  // In the browser: the redirect lands on the portal.
  await page.goto("/?returnTo=/%09/evil.example");
  expect(new URL(page.url()).origin).toBe(origin);
});
