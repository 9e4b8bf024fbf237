import Link from "next/link";

// Shown for runs of another tenant and for links that don't exist: the two are indistinguishable on purpose.
export default function Forbidden() {
  return (
    <div className="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
      <h1 className="mb-3 text-2xl font-semibold text-slate-900">You can&apos;t open this onboarding run</h1>
      <p className="mb-6 text-slate-700">
        It doesn&apos;t exist, or it belongs to another organization. Only admins of the run&apos;s own tenant can see or continue it.
      </p>
      <Link href="/estate" className="font-medium text-brand-700 underline">
        Back to your Azure estate
      </Link>
    </div>
  );
}
