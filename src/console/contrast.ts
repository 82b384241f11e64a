/**
 * WCAG 2.1 contrast (success criteria 1.4.3 and 1.4.11): relative luminance and contrast
 * ratio of sRGB colours written `#rrggbb`. The pages' palette is checked with these in
 * test/unit/console-contrast.test.ts, and a configured accent colour is darkened with them
 * until it keeps text contrast on white.
 */

export function parseHexColor(value: string): [number, number, number] | undefined {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(value.trim());
  if (!match) return undefined;
  return [parseInt(match[1] ?? "", 16), parseInt(match[2] ?? "", 16), parseInt(match[3] ?? "", 16)];
}

function channel(c: number): number {
  const s = c / 255;
  return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}

export function relativeLuminance(hex: string): number {
  const rgb = parseHexColor(hex);
  if (!rgb) throw new Error(`not a #rrggbb colour: ${hex}`);
  const [r, g, b] = rgb;
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

function toHex([r, g, b]: [number, number, number]): string {
  return `#${[r, g, b].map((c) => Math.round(c).toString(16).padStart(2, "0")).join("")}`;
}

/**
 * The colour itself when it has `minRatio` against `background`, else the same hue mixed
 * towards black step by step until it does (black always has 21:1 on white).
 */
export function darkenUntilContrast(hex: string, background: string, minRatio: number): string {
  const rgb = parseHexColor(hex);
  if (!rgb) throw new Error(`not a #rrggbb colour: ${hex}`);
  for (let keep = 1; keep >= 0; keep -= 0.02) {
    const candidate = toHex([rgb[0] * keep, rgb[1] * keep, rgb[2] * keep]);
    if (contrastRatio(candidate, background) >= minRatio) return candidate;
  }
  return "#000000";
}
