import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { PresenterToggle } from "@/components/ui/presenter-toggle";
import { getSession, isPresenterMode } from "@/lib/auth/session";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "AKS onboarding", template: "%s · AKS onboarding" },
  description: "Connect Azure Kubernetes Service audit logs to Expel Workbench in a few clicks.",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const [session, presenter] = await Promise.all([getSession(), isPresenterMode()]);
  return (
    <html lang="en">
      <body className="min-h-screen">
        <a
          href="#main"
          className="sr-only focus:not-sr-only focus:absolute focus:left-4 focus:top-4 focus:rounded focus:bg-white focus:px-3 focus:py-2"
        >
          Skip to content
        </a>
        <header className="border-b border-slate-200 bg-white">
          <div className="mx-auto flex max-w-6xl items-center justify-between gap-4 px-6 py-3">
            <Link href="/" className="flex items-center gap-2 font-semibold text-brand-900">
              <span aria-hidden className="grid h-7 w-7 place-items-center rounded bg-brand-600 text-sm text-white">
                K
              </span>
              AKS onboarding
            </Link>
            <div className="flex flex-wrap items-center justify-end gap-4 text-sm">
              {presenter ? (
                <p className="rounded-full bg-violet-100 px-3 py-1 font-medium text-violet-900">
                  Presenter mode — ids masked, secrets hidden
                </p>
              ) : null}
              <PresenterToggle on={presenter} />
              {session ? (
                <div className="flex items-center gap-4 text-sm">
                  <span className="text-slate-600">
                    Signed in as <span className="font-medium text-slate-900">{session.user.displayName}</span>
                    <span className="sr-only"> ({session.user.upn})</span>
                  </span>
                  <form action="/auth/sign-out" method="post">
                    <button type="submit" className="rounded border border-slate-300 px-3 py-1.5 font-medium hover:bg-slate-100">
                      Sign out
                    </button>
                  </form>
                </div>
              ) : null}
            </div>
          </div>
        </header>
        <main id="main" className="mx-auto max-w-6xl px-6 py-8">
          {children}
        </main>
      </body>
    </html>
  );
}
