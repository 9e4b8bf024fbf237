// A boxed message: errors are announced to screen readers, information is not.
import type { ReactNode } from "react";

const TONES = {
  error: "border-red-200 bg-red-50 text-red-900",
  info: "border-slate-200 bg-white text-slate-800",
} as const;

export function Notice({ tone, title, children }: { tone: keyof typeof TONES; title: string; children: ReactNode }) {
  return (
    <div role={tone === "error" ? "alert" : undefined} className={`rounded-lg border p-5 ${TONES[tone]}`}>
      <h2 className="mb-1 font-semibold">{title}</h2>
      <div className="text-sm">{children}</div>
    </div>
  );
}
