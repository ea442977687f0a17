/** A count or rate as a whole number with thousands separators, right-aligned for the benchmark tables. */
export function formatCount(n: number, width = 12): string {
  return Math.round(n).toLocaleString('en-US').padStart(width);
}
