// Splits on commas, whitespace and newlines; drops empties and duplicates, keeps order.
export function parseList(text: string): string[] {
  const seen = new Set<string>();
  for (const part of text.split(/[\s,]+/)) if (part) seen.add(part);
  return [...seen];
}
