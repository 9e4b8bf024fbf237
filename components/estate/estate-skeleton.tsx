// Placeholder while subscriptions and clusters load.
export function EstateSkeleton() {
  return (
    <div aria-busy="true" className="space-y-4">
      <p role="status" className="text-slate-600">
        Reading your subscriptions and clusters from Azure…
      </p>
      {[0, 1].map((i) => (
        <div key={i} className="h-40 animate-pulse rounded-lg border border-slate-200 bg-white" />
      ))}
    </div>
  );
}
