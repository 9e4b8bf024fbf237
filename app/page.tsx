import { redirect } from "next/navigation";
import { getSession } from "@/lib/auth/session";
import { safeReturnTo } from "@/lib/auth/sign-in";

const STEPS = [
  ["Audit log storage", "One storage account per AKS region, locked down, with a retention rule."],
  ["Diagnostic settings", "Each selected cluster sends only its kube-audit log there."],
  ["App registration", "A dedicated Entra app for the vendor, allowed to read Log Analytics data."],
  ["Read-only AKS role", "A custom role that can read clusters but never their secrets."],
  ["Role assignments", "Least privilege, with blob reads limited to your audit storage accounts."],
  ["Hand-off", "Credentials go to Expel Workbench server to server; you never copy a secret."],
] as const;

export default async function Home({ searchParams }: { searchParams: Promise<{ returnTo?: string | string[] }> }) {
  const { returnTo: param } = await searchParams;
  // A repeated parameter arrives as an array: none of its values is trusted.
  const returnTo = safeReturnTo(typeof param === "string" ? param : undefined);
  if (await getSession()) redirect(returnTo);
  const signInHref = `/auth/sign-in?returnTo=${encodeURIComponent(returnTo)}`;

  return (
    <div className="grid gap-10 lg:grid-cols-[1.1fr_1fr]">
      <section className="space-y-6">
        <h1 className="text-3xl font-semibold tracking-tight text-brand-900">Connect your AKS clusters to Expel Workbench</h1>
        <p className="text-lg text-slate-600">
          Sign in with your Microsoft work account. The portal reads your subscriptions and clusters, shows you every change it would make,
          and only acts after you approve the plan — with your own permissions.
        </p>
        <a
          href={signInHref}
          className="inline-flex items-center gap-2 rounded-md bg-brand-600 px-5 py-2.5 font-medium text-white shadow-sm hover:bg-brand-700"
        >
          Sign in with Microsoft
        </a>
        <p className="text-sm text-slate-500">Tokens stay on the server. Nothing is created in Azure until you confirm a plan.</p>
      </section>
      <section aria-labelledby="what-happens" className="rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <h2 id="what-happens" className="mb-4 font-semibold text-slate-900">
          What onboarding sets up
        </h2>
        <ol className="space-y-3">
          {STEPS.map(([title, text], i) => (
            <li key={title} className="flex gap-3">
              <span
                aria-hidden
                className="mt-0.5 grid h-6 w-6 shrink-0 place-items-center rounded-full bg-brand-50 text-xs font-semibold text-brand-700"
              >
                {i + 1}
              </span>
              <span>
                <span className="font-medium">{title}.</span> <span className="text-slate-600">{text}</span>
              </span>
            </li>
          ))}
        </ol>
      </section>
    </div>
  );
}
