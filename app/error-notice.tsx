import Link from "next/link";

/** The digest Next gives a server error (the key to its server log line), if `error` carries one. */
export function digestOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("digest" in error)) return undefined;
  return typeof error.digest === "string" ? error.digest : undefined;
}

// What app/error.tsx and app/global-error.tsx show: a plain message and the digest to quote, never the error's message
// or stack (Next replaces a server error's message in production; a browser error's could name internals).
export function ErrorNotice({ error, retry }: { error: unknown; retry: () => void }) {
  const digest = digestOf(error);
  return (
    <div role="alert" className="mx-auto max-w-xl rounded-lg border border-red-200 bg-white p-8 shadow-sm">
      <h1 className="mb-3 text-2xl font-semibold text-slate-900">Something went wrong</h1>
      <p className="mb-4 text-slate-700">The portal couldn&apos;t show this page. Try again; if it keeps failing, contact support.</p>
      {digest ? (
        <p className="mb-6 text-sm text-slate-700">
          Quote this reference to support: <code className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-slate-900">{digest}</code>
        </p>
      ) : null}
      <div className="flex flex-wrap items-center gap-4">
        <button type="button" onClick={retry} className="rounded-md bg-brand-600 px-4 py-2 font-medium text-white hover:bg-brand-700">
          Try again
        </button>
        <Link href="/" className="font-medium text-brand-700 underline">
          Back to the start page
        </Link>
      </div>
    </div>
  );
}
