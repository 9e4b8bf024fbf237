// The real step implementations by id: what the app passes as `modules` to the engine.
import "server-only";
import { appRegistrationStep } from "@/lib/steps/app-registration";
import { customRoleStep } from "@/lib/steps/custom-role";
import { diagnosticSettingsStep } from "@/lib/steps/diagnostic-settings";
import { roleAssignmentsStep } from "@/lib/steps/role-assignments";
import { storageStep } from "@/lib/steps/storage";
import { verificationStep } from "@/lib/steps/verification";
import { workbenchHandoffStep } from "@/lib/steps/workbench-handoff";
import type { StepModules } from "./execute-step";

/** Every step of STEPS, mapped to its module; `satisfies` makes a missing or extra step a type error. */
export const STEP_MODULES = {
  storage: storageStep,
  "diagnostic-settings": diagnosticSettingsStep,
  "app-registration": appRegistrationStep,
  "custom-role": customRoleStep,
  "role-assignments": roleAssignmentsStep,
  "workbench-handoff": workbenchHandoffStep,
  verification: verificationStep,
} satisfies StepModules;
