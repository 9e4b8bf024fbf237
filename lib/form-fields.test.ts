// formFields: string fields of a FormData; anything else posted to an action yields no fields.
import { describe, expect, it } from "vitest";
import { formFields, formList } from "./form-fields";

describe("formFields", () => {
  it("reads string fields and ignores files", () => {
    const form = new FormData();
    form.set("runId", "abc");
    form.set("upload", new Blob(["x"]), "x.txt");
    expect(formFields(form)).toEqual({ runId: "abc" });
  });

  it("gives no fields for anything that isn't a FormData", () => {
    for (const v of [undefined, null, "runId=abc", 42, [], { runId: "abc" }]) expect(formFields(v)).toEqual({});
  });
});

describe("formList", () => {
  it("reads every value of a repeated field, and nothing from anything else", () => {
    const form = new FormData();
    form.append("cluster", "a");
    form.append("cluster", "b");
    expect(formList(form, "cluster")).toEqual(["a", "b"]);
    for (const v of [undefined, "cluster=a", { cluster: ["a"] }]) expect(formList(v, "cluster")).toEqual([]);
  });
});
