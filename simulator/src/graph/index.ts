// Microsoft Graph v1.0 surface of the simulator.
import type { Handler, SimState } from "../state";

/** Answers Graph requests under /v1.0; undefined otherwise. */
export const handleGraph: Handler = () => undefined;

/** Seeds users and first-party service principals from the scenario. */
export function seedGraph(_state: SimState): void {}
