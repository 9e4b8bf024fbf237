import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { digestOf, ErrorNotice } from "./error-notice";

const render = (error: unknown) => renderToStaticMarkup(createElement(ErrorNotice, { error, retry: () => undefined }));

describe("the error page", () => {
  it("shows the digest to quote and never the error's message or stack", () => {
    const error = Object.assign(new Error("connect ECONNREFUSED 10.0.0.5:5432 password=hunter2"), { digest: "2417356021" });
    const html = render(error);
    expect(html).toContain("Quote this reference to support: <code");
    expect(html).toContain(">2417356021</code>");
    expect(html).not.toContain("ECONNREFUSED");
    expect(html).not.toContain("hunter2");
    expect(html).not.toContain(error.stack?.split("\n")[1]?.trim() ?? "no stack");
    expect(html).toContain('role="alert"');
  });

  it("offers no reference for an error without a digest (a browser error), nor for a thrown non-error", () => {
    expect(render(new TypeError("x is undefined"))).not.toContain("Quote this reference");
    expect(digestOf("a string")).toBeUndefined();
    expect(digestOf({ digest: 42 })).toBeUndefined();
    expect(digestOf(null)).toBeUndefined();
  });
});
