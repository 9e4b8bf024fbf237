"use client";
// The header switch for presenter mode: a plain form post, so it works before hydration and without JavaScript.
import { usePathname } from "next/navigation";

/** Toggle button (aria-pressed) that posts to /presenter and comes back to this page. */
export function PresenterToggle({ on }: { on: boolean }) {
  const pathname = usePathname();
  return (
    <form action="/presenter" method="post">
      <input type="hidden" name="present" value={on ? "0" : "1"} />
      <input type="hidden" name="returnTo" value={pathname} />
      <button
        type="submit"
        aria-pressed={on}
        className={`rounded border px-3 py-1.5 text-sm font-medium ${on ? "border-violet-700 bg-violet-700 text-white hover:bg-violet-800" : "border-slate-300 hover:bg-slate-100"}`}
      >
        Presenter mode<span aria-hidden>: {on ? "on" : "off"}</span>
      </button>
    </form>
  );
}
