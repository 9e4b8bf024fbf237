import type { Metadata } from "next";
import { SIGN_IN_ERRORS, type SignInErrorCode } from "@/lib/auth/sign-in";

export const metadata: Metadata = { title: "Sign-in failed" };

function isKnown(code: string | undefined): code is SignInErrorCode {
  return code !== undefined && Object.hasOwn(SIGN_IN_ERRORS, code);
}

export default async function SignInError({ searchParams }: { searchParams: Promise<{ code?: string }> }) {
  const { code } = await searchParams;
  const message = isKnown(code) ? SIGN_IN_ERRORS[code] : SIGN_IN_ERRORS.failed;
  return (
    <div className="mx-auto max-w-xl rounded-lg border border-red-200 bg-white p-8 shadow-sm">
      <h1 className="mb-3 text-2xl font-semibold text-red-800">Sign-in failed</h1>
      <p role="alert" className="mb-6 text-slate-700">
        {message}
      </p>
      <a href="/auth/sign-in" className="inline-flex rounded-md bg-brand-600 px-4 py-2 font-medium text-white hover:bg-brand-700">
        Sign in again
      </a>
    </div>
  );
}
