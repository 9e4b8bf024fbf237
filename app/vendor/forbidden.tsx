import Link from "next/link";

// The vendor view answers 403 to everyone outside the vendor's tenant, and when it isn't configured.
export default function VendorForbidden() {
  return (
    <div className="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
      <h1 className="mb-3 text-2xl font-semibold text-slate-900">This page is for vendor staff</h1>
      <p className="mb-6 text-slate-700">Only engineers signed in with the vendor&apos;s own Microsoft tenant can open it.</p>
      <Link href="/estate" className="font-medium text-brand-700 underline">
        Back to your Azure estate
      </Link>
    </div>
  );
}
