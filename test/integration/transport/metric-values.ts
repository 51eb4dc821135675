import type { Counter, Gauge } from 'prom-client';

/** The current value of one labelled child of a prom-client counter or gauge (0 if never touched). */
export async function metricValue(
  metric: Counter<string> | Gauge<string>,
  labels: Record<string, string>,
): Promise<number> {
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return match?.value ?? 0;
}
