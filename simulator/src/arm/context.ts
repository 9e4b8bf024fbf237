// Per-request view handed to the ARM resource handlers.
import type { Caller, SimRequest } from "../contract";
import type { SimState } from "../state";

export interface ArmContext {
  req: SimRequest;
  state: SimState;
  caller: Caller;
  /** Path segments as sent (Azure keeps the caller's casing in names). */
  seg: string[];
  /** The same segments lower-cased, for matching. */
  low: string[];
  apiVersion: string;
}
