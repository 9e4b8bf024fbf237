// The vendor's client secret on a finished run: its expiry, a warning from 30 days before, and rotation. Never the value.
import { AutoRefresh } from "@/components/onboarding/auto-refresh";
import { RotateSecretButton } from "@/components/onboarding/rotate-secret-button";
import type { SessionWithUser } from "@/lib/db/sessions";
import type { RunView } from "@/lib/onboarding/run-control";
import { expiryText, type ExpiryLevel } from "@/lib/rotation/expiry";
import { getCredentialStatus, type CredentialStatusView } from "@/lib/rotation/service";

function utc(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

const PHASE_TEXT: Record<NonNullable<CredentialStatusView["rotation"]>["phase"], string> = {
  started: "creating the new secret",
  created: "checking that the new secret signs in and can read the clusters",
  verified: "handing the new secret to the vendor",
  handed_off: "removing the old secret",
  old_removed: "finishing",
};

function Banner({ view, vendorName }: { view: CredentialStatusView; vendorName: string }) {
  const when = view.expiresAt ? ` (${utc(view.expiresAt)})` : "";
  if (view.level === "expired") {
    return (
      <div role="alert" className="mt-3 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-900">
        The client secret {expiryText(view)}
        {when}: {vendorName} can no longer read the audit logs. Rotate it now.
      </div>
    );
  }
  if (view.level === "warning") {
    return (
      <div role="status" className="mt-3 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
        The client secret {expiryText(view)}
        {when}. Rotate it before then so {vendorName} keeps reading the audit logs.
      </div>
    );
  }
  return null;
}

function RotationLine({ view, runId, vendorName }: { view: CredentialStatusView; runId: string; vendorName: string }) {
  const r = view.rotation;
  const explanation = `Creates a new secret valid for ${view.lifetimeDays} days, checks that it signs in, ${
    view.mode === "api" ? `gives it to ${vendorName} Workbench` : "offers it once in the hand-off panel"
  }, then removes the old one. Needs an owner of the app, Application Administrator or Cloud Application Administrator.`;
  if (r?.active) {
    return (
      <p role="status" className="text-sm text-slate-700">
        Rotating the secret: {PHASE_TEXT[r.phase]}…
      </p>
    );
  }
  if (r?.status === "waiting_ack") {
    return (
      <div className="space-y-2 text-sm text-slate-700">
        <p role="status">
          The new secret is created and works. Reveal it in the hand-off panel below, give it to {vendorName} and confirm there; then finish
          the rotation to remove the old secret.
        </p>
        {r.acknowledged ? (
          <RotateSecretButton
            runId={runId}
            label="Finish rotation"
            explanation="Removes the old secret from the app registration and checks it is gone."
          />
        ) : null}
      </div>
    );
  }
  return (
    <div className="space-y-2">
      {r?.status === "failed" || (r?.status === "running" && !r.active) ? (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-900">
          {r.status === "failed" ? `The rotation stopped: ${r.error ?? "unknown error"}` : "The rotation was interrupted."} Continuing picks
          up where it stopped; the old secret stays until the new one is handed off.
        </p>
      ) : null}
      {r?.status === "done" && r.finishedAt ? (
        <p className="text-sm text-slate-600">
          Last rotated {utc(r.finishedAt)} (started by {r.startedByUpn}).
        </p>
      ) : null}
      <RotateSecretButton
        runId={runId}
        label={r && r.status !== "done" ? "Continue rotation" : "Rotate secret"}
        explanation={explanation}
      />
    </div>
  );
}

/** The run page's client-secret panel; nothing for runs that aren't complete or belong to another tenant. */
/** `manage`: the user may manage the app's credentials; a viewer sees expiry and key id, no hint and no rotation controls. */
export async function CredentialStatus({
  session,
  runId,
  vendorName,
  presenter = false,
  runView,
  manage,
}: {
  session: SessionWithUser;
  runId: string;
  vendorName: string;
  presenter?: boolean;
  runView?: RunView;
  manage: boolean;
}) {
  const found = await getCredentialStatus(session, runId, { presenter, view: runView });
  if (!found) return null;
  const view = manage ? found : { ...found, hint: "" };
  return (
    <section aria-labelledby="client-secret" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <AutoRefresh active={view.rotation?.active ?? false} />
      <h2 id="client-secret" className="font-semibold text-slate-900">
        Client secret
      </h2>
      <Banner view={view} vendorName={vendorName} />
      <dl className="my-3 grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="font-medium text-slate-700">Key id</dt>
        <dd>
          <code className="rounded bg-slate-100 px-1.5 py-0.5 text-slate-900">{view.keyId || "unknown"}</code>
        </dd>
        {view.hint ? (
          <>
            <dt className="font-medium text-slate-700">Starts with</dt>
            <dd>
              <code className="rounded bg-slate-100 px-1.5 py-0.5 text-slate-900">{view.hint}…</code>
            </dd>
          </>
        ) : null}
        <dt className="font-medium text-slate-700">Expires</dt>
        <dd className="text-slate-900">{view.expiresAt ? `${utc(view.expiresAt)}, ${expiryText(view)}` : "unknown"}</dd>
      </dl>
      {manage ? <RotationLine view={view} runId={runId} vendorName={vendorName} /> : null}
    </section>
  );
}

const BADGE: Record<ExpiryLevel, { text: string; tone: string } | null> = {
  ok: null,
  unknown: null,
  warning: { text: "Secret expires soon", tone: "bg-amber-100 text-amber-900" },
  expired: { text: "Secret expired", tone: "bg-red-100 text-red-900" },
};

/** A small badge for run lists: amber within 30 days of expiry, red once expired, nothing otherwise. */
export function CredentialBadge({ level }: { level: ExpiryLevel | undefined }) {
  const badge = level ? BADGE[level] : null;
  if (!badge) return null;
  return <span className={`rounded-full px-2 py-0.5 text-xs font-medium ${badge.tone}`}>{badge.text}</span>;
}
