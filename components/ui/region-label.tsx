// Azure region name as admins read it in the Portal ("East US"), with the programmatic name kept for search.
const NAMES: Record<string, string> = {
  eastus: "East US",
  eastus2: "East US 2",
  westus: "West US",
  westus2: "West US 2",
  westus3: "West US 3",
  centralus: "Central US",
  northeurope: "North Europe",
  westeurope: "West Europe",
  uksouth: "UK South",
  germanywestcentral: "Germany West Central",
  francecentral: "France Central",
  swedencentral: "Sweden Central",
  australiaeast: "Australia East",
  japaneast: "Japan East",
  southeastasia: "Southeast Asia",
  canadacentral: "Canada Central",
};

export function RegionLabel({ location }: { location: string }) {
  const name = NAMES[location.toLowerCase()];
  return name ? <span title={location}>{name}</span> : <span>{location}</span>;
}
