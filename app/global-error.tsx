"use client";

import { ErrorNotice } from "./error-notice";
import "./globals.css";

// The root layout itself failed (it reads the session): this replaces it, so it brings its own document and styles.
export default function GlobalError({ error, retry }: { error: unknown; retry: () => void }) {
  return (
    <html lang="en">
      <body className="min-h-screen">
        <title>Something went wrong · AKS onboarding</title>
        <main id="main" className="mx-auto max-w-6xl px-6 py-8">
          <ErrorNotice error={error} retry={retry} />
        </main>
      </body>
    </html>
  );
}
