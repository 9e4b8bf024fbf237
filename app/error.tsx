"use client";

import { ErrorNotice } from "./error-notice";

// A page that failed on the server or in the browser, inside the portal's layout.
export default function ErrorPage({ error, retry }: { error: unknown; retry: () => void }) {
  return <ErrorNotice error={error} retry={retry} />;
}
