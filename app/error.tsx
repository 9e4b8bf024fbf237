"use client";

import Link from "next/link";

// A page that failed on the server or in the browser: a plain message and the digest support can find in the server log.
// The error's message and stack never reach the page (Next replaces server errors' messages in production anyway).
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div role="alert" className="mx-auto max-w-xl rounded-lg border border-red-200 bg-white p-8 shadow-sm">
      <h1 className="mb-3 text-2xl font-semibold text-slate-900">Something went wrong</h1>
      <p className="mb-4 text-slate-700">The portal couldn&apos;t show this page. Try again; if it keeps failing, contact support.</p>
      {error.digest ? (
        <p className="mb-6 text-sm text-slate-700">
          Quote this reference to support:{" "}
          <code className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-slate-900">{error.digest}</code>
        </p>
      ) : null}
      <div className="flex flex-wrap items-center gap-4">
        <button type="button" onClick={reset} className="rounded-md bg-brand-600 px-4 py-2 font-medium text-white hover:bg-brand-700">
          Try again
        </button>
        <Link href="/" className="font-medium text-brand-700 underline">
          Back to the start page
        </Link>
      </div>
    </div>
  );
}
