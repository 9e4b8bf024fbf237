import type { Metadata } from "next";
import Link from "next/link";

export const metadata: Metadata = { title: "Page not found" };

// Shown for any address the portal doesn't serve, and wherever a page calls notFound().
export default function NotFound() {
  return (
    <div className="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-8 shadow-sm">
      <h1 className="mb-3 text-2xl font-semibold text-slate-900">This page doesn&apos;t exist</h1>
      <p className="mb-6 text-slate-700">The address may be mistyped, or the link that brought you here may be out of date.</p>
      <Link href="/" className="font-medium text-brand-700 underline">
        Back to the start page
      </Link>
    </div>
  );
}
