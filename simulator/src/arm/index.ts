// ARM (management.azure.com) surface of the simulator.
import type { Handler, SimState } from "../state";

/** Answers ARM requests; undefined when the path is not an ARM path. */
export const handleArm: Handler = () => undefined;

/** Builds subscriptions, resource groups, clusters, accounts and role assignments from the scenario. */
export function seedArm(_state: SimState): void {}
